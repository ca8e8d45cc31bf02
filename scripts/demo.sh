#!/usr/bin/env bash
# Sets up, builds, and runs moat's main job on the bundled sample: who talks to the databases,
# read from VPC flow logs laid out as they are in S3.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh >/dev/null
echo "\$ moat flows samples/flowlogs"
build/src/cli/moat flows samples/flowlogs
echo
echo "\$ moat policy show --policy samples/policy/orders-db.bundle.json"
build/src/cli/moat policy show --policy samples/policy/orders-db.bundle.json
