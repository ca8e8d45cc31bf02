#!/usr/bin/env bash
# Sets up and runs every test: unit and integration tests (ctest) in a release build and again
# under AddressSanitizer + UndefinedBehaviorSanitizer, the benchmarks' smoke tests, a bounded
# libFuzzer run of the flow-log reader, the policy loader, the AWS answer and event parsers, and the
# style (clang-format) and lint (clang-tidy) checks.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
command -v moto_server >/dev/null || { echo "test.sh: moto_server is needed: pip install 'moto[server]'" >&2; exit 1; }
command -v cfn-lint >/dev/null || { echo "test.sh: cfn-lint is needed: pip install cfn-lint" >&2; exit 1; }
jobs=$(nproc)
fuzz_seconds=${MOAT_FUZZ_SECONDS:-40}

echo "== release build and tests"
scripts/build.sh
ctest --test-dir build --output-on-failure -j "$jobs"

echo "== sanitizer build (ASan + UBSan) and tests"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMOAT_SANITIZE=ON -DMOAT_BENCH=OFF >/dev/null
ninja -C build-asan
ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp" UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs"

echo "== fuzzing the flow-log reader, the policy loader, the AWS answer and the event parsers, ${fuzz_seconds}s each"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMOAT_FUZZ=ON \
  -DMOAT_BENCH=OFF >/dev/null
ninja -C build-fuzz fuzz_record_parser fuzz_policy_loader fuzz_aws_responses fuzz_events
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
for target in flowlog/fuzz_record_parser compile/fuzz_policy_loader aws/fuzz_aws_responses events/fuzz_events; do
  rm -rf "${corpus:?}"/*
  cp "src/$(dirname "$target")"/fuzz_corpus/* "$corpus"/
  "build-fuzz/src/$target" -max_total_time="$fuzz_seconds" -max_len=16384 -print_final_stats=1 \
    "$corpus" 2>&1 | tail -n 4
  echo "fuzz $(basename "$target"): no crash in ${fuzz_seconds}s"
done

echo "== style and lint"
clang-format --dry-run --Werror src/*/*.cc src/*/*.h tests/*.cc tests/*.h bench/*.cc
# clang-tidy exits non-zero on findings; what decides is whether it printed any.
{ find src -name '*.cc' -print0 | xargs -0 -P "$jobs" -n 4 clang-tidy -p build --quiet 2>&1 || true; } \
  | { grep -v -E '^[0-9]+ warnings? generated|^Suppressed|^Use -header-filter|^$' || true; } > build/clang-tidy.log
if [ -s build/clang-tidy.log ]; then cat build/clang-tidy.log; echo "clang-tidy: findings above" >&2; exit 1; fi
echo "style and lint: clean"
echo "all checks passed"
