#!/usr/bin/env bash
# Packages moat as an AWS Lambda function for the provided.al2023 runtime, the way aws-lambda-cpp's
# packager does: bin/moat (stripped), lib/ with every shared library it loads plus glibc and its
# dynamic loader (Amazon Linux 2023's glibc 2.34 is older than the 2.36 moat is built against),
# and a `bootstrap` that runs moat through the bundled loader. Then checks the zip it wrote.
#
# Usage: scripts/package-lambda.sh [BINARY] [OUT.zip]
#   BINARY   default build/src/cli/moat (the build output is not modified)
#   OUT.zip  default build/moat-lambda.zip (replaced if it exists)
# Needs: ldd, strip, zip, unzip, dpkg-query (Debian). Exits 1 with one line on stderr on failure.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
binary="${1:-$root/build/src/cli/moat}"
out="${2:-$root/build/moat-lambda.zip}"
loader_name="ld-linux-x86-64.so.2"

die() {
  echo "package-lambda: $*" >&2
  exit 1
}

for tool in ldd strip zip unzip dpkg-query; do
  command -v "$tool" >/dev/null || die "$tool not found (scripts/setup.sh installs it)"
done
if [ ! -f "$binary" ] || [ ! -x "$binary" ]; then
  die "$binary: not an executable file (build it: bash scripts/build.sh)"
fi
mkdir -p "$(dirname "$out")" || die "$(dirname "$out"): cannot create the output directory"
out="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
stage="$work/stage"
mkdir -p "$stage/bin" "$stage/lib"

# --- the binary --------------------------------------------------------------------------------
cp "$binary" "$stage/bin/moat"
strip --strip-unneeded "$stage/bin/moat" || die "strip failed on the copy of $binary"

# --- its shared libraries: the real files, under the names the binary asks for ------------------
deps="$(ldd "$binary" 2>&1)" || die "$binary: not a dynamically linked executable (ldd: $(head -n1 <<<"$deps" | xargs))"
if grep -q "not found" <<<"$deps"; then
  die "$binary: a library it needs is not installed: $(grep "not found" <<<"$deps" | head -n1 | xargs)"
fi
loader=""
libc_dir=""
while read -r name arrow path _; do
  if [ "$arrow" = "=>" ] && [ "${path:0:1}" = "/" ]; then
    cp -L "$path" "$stage/lib/$name"
    if [ "$name" = "libc.so.6" ]; then libc_dir="$(realpath "$(dirname "$path")")"; fi
  elif [ "$(basename "$name")" = "$loader_name" ]; then
    loader="$name"  # the program interpreter: "/lib64/ld-linux-x86-64.so.2 (0x…)"
  fi
done <<<"$deps"
[ -n "$loader" ] || die "$binary: ldd names no $loader_name (not a dynamically linked x86-64 binary?)"
[ -n "$libc_dir" ] || die "$binary: ldd names no libc.so.6"
cp -L "$loader" "$stage/lib/$loader_name"

# --- the rest of glibc (libraries loaded at run time, such as the NSS modules) ------------------
# Every versioned shared object of the libc6 package that sits beside libc.so.6.
glibc=0
while read -r path; do
  name="$(basename "$path")"
  if [[ ! "$name" =~ \.so\.[0-9]+$ ]] || [ "$name" = "$loader_name" ]; then continue; fi
  if [ "$(realpath "$(dirname "$path")")" != "$libc_dir" ]; then continue; fi
  if [ ! -e "$stage/lib/$name" ]; then cp -L "$path" "$stage/lib/$name"; fi
  glibc=$((glibc + 1))
done < <(dpkg-query --listfiles libc6)
[ "$glibc" -gt 1 ] || die "dpkg-query lists no glibc libraries of the libc6 package in $libc_dir"

# --- bootstrap ----------------------------------------------------------------------------------
cat >"$stage/bootstrap" <<'EOF'
#!/bin/sh
set -e
export AWS_EXECUTION_ENV=lambda-cpp
exec "$LAMBDA_TASK_ROOT/lib/ld-linux-x86-64.so.2" --library-path "$LAMBDA_TASK_ROOT/lib" "$LAMBDA_TASK_ROOT/bin/moat" lambda
EOF
chmod 755 "$stage/bootstrap" "$stage/bin/moat"
chmod 644 "$stage"/lib/*
chmod 755 "$stage/lib/$loader_name"

rm -f "$out"
(cd "$stage" && zip --symlinks -r -q -X "$out" bootstrap bin lib) || die "zip failed writing $out"

# --- check what was written ---------------------------------------------------------------------
check="$work/check"
mkdir -p "$check"
unzip -q "$out" -d "$check" || die "$out: cannot be unzipped"
for f in bootstrap bin/moat "lib/$loader_name"; do
  if [ ! -f "$check/$f" ] || [ ! -x "$check/$f" ]; then die "$out: $f missing or not executable"; fi
done

# Every library must resolve inside the unzipped lib/ (the kernel's vDSO is not a file).
trace="$(env -i LD_TRACE_LOADED_OBJECTS=1 "$check/lib/$loader_name" --inhibit-cache \
  --library-path "$check/lib" "$check/bin/moat")" || die "$out: the bundled loader cannot load bin/moat"
while read -r name arrow path _; do
  [ -n "$name" ] || continue
  [ "$arrow" = "=>" ] || path="$name"
  [ "$path" != "not" ] || die "$out: bin/moat needs $name, which is not in the zip"
  case "$path" in
    linux-vdso.so.*) ;;
    "$check/lib/"*) ;;
    *) die "$out: bin/moat loads $name from $path, outside the zip's lib/" ;;
  esac
done <<<"$trace"

expected="$("$binary" --version)" || die "$binary --version failed"
got="$(env -i "$check/lib/$loader_name" --inhibit-cache --library-path "$check/lib" "$check/bin/moat" --version)" ||
  die "$out: bin/moat --version failed through the bundled loader"
[[ "$got" =~ ^moat\ [0-9]+\.[0-9]+\.[0-9]+$ ]] ||
  die "$out: bin/moat --version printed \"$(head -n1 <<<"$got")\", not \"moat <version>\""
[ "$got" = "$expected" ] || die "$out: bin/moat --version printed \"$got\", the build prints \"$expected\""

# The bootstrap starts `moat lambda` through the bundled loader; outside Lambda (no Runtime API)
# moat refuses at once with its one-line error.
boot="$(env -i LAMBDA_TASK_ROOT="$check" timeout 10 /bin/sh "$check/bootstrap" 2>&1)" || true
[[ "$boot" == "moat: lambda: "* ]] ||
  die "$out: bootstrap did not start moat lambda (it printed \"$(head -n1 <<<"$boot")\")"

# --- summary ------------------------------------------------------------------------------------
size="$(stat -c %s "$out")"
unpacked="$(du -sb "$check" | cut -f1)"
libs="$(find "$check/lib" -type f | wc -l)"
printf '%s: %s (%d bytes; %d bytes unzipped), %s\n' "$out" "$(numfmt --to=iec-i --suffix=B "$size")" \
  "$size" "$unpacked" "$got"
printf '  bootstrap\n  bin/moat  %s\n  lib/      %d libraries: %s\n' \
  "$(numfmt --to=iec-i --suffix=B "$(stat -c %s "$check/bin/moat")")" "$libs" \
  "$(cd "$check/lib" && find . -type f -printf '%f\n' | sort | xargs)"
