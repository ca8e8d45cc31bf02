#!/usr/bin/env bash
# Installs everything moat needs to build and test, from Debian's packages only (Debian 12).
# Run as root (or through sudo). Nothing is downloaded at build time.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config   # toolchain
  zlib1g-dev libisal-dev isal                    # gzip: ISA-L igzip, zlib fallback; igzip for the benchmark
  libfmt-dev libcli11-dev nlohmann-json3-dev     # formatting, arguments, JSON out
  libtomlplusplus-dev                            # the --config file (TOML)
  libsimdjson-dev libcurl4-openssl-dev libssl-dev # JSON in, HTTP (PCE, AWS), SHA-256 and HMAC (SigV4)
  libpugixml-dev                                 # AWS XML answers
  libsqlite3-dev                                 # flow history (the map, the what-if, suggestions)
  libgraphviz-dev graphviz                       # the map's layout
  chromium chromium-driver                       # the map's HTML, tested in headless Chromium
  libgtest-dev libgmock-dev                      # tests
  clang libclang-rt-14-dev                       # libFuzzer
  clang-format clang-tidy                        # style and lint checks
  python3 time openssl                           # test servers, benchmark runner; TLS test certificates
  zip unzip                                      # the Lambda zip (scripts/package-lambda.sh)
)

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then exec sudo "$0" "$@"; fi
  echo "setup.sh: run as root: it installs packages with apt-get" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# moto (the AWS emulator of the integration tests) is a Python tool, not a Debian package: it comes
# preinstalled on the project's machines. Say how to get it rather than fail obscurely later.
if ! command -v moto_server >/dev/null; then
  echo "setup.sh: moto_server not found; the demo and the integration tests need it: pip install 'moto[server]'" >&2
fi
# cfn-lint checks the CloudFormation template (deploy/moat.yaml) in the tests; the same holds.
if ! command -v cfn-lint >/dev/null; then
  echo "setup.sh: cfn-lint not found; the deployment test needs it: pip install cfn-lint" >&2
fi
