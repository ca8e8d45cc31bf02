#!/usr/bin/env bash
# The Lambda deployment: both CloudFormation templates (deploy/moat.yaml, the central stack, and
# deploy/member.yaml, the member accounts' StackSet) pass cfn-lint with no finding; the member
# role writes exactly what the central function role writes, under the same tag conditions
# (tests/deploy_member_check.py); and the given moat binary packages into a Lambda zip that
# passes scripts/package-lambda.sh's own checks (bootstrap executable, every library inside lib/,
# `moat --version` through the bundled loader).
#
# Usage: tests/deploy_test.sh MOAT_BINARY SOURCE_DIR
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 MOAT_BINARY SOURCE_DIR" >&2
  exit 2
fi
binary="$1"
src="$2"

if ! command -v cfn-lint >/dev/null; then
  echo "deploy_test: cfn-lint not found; install it: pip install cfn-lint" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for template in deploy/moat.yaml deploy/member.yaml; do
  echo "== cfn-lint $template"
  if ! cfn-lint --format parseable -- "$src/$template" >"$work/lint" 2>&1; then
    cat "$work/lint" >&2
    echo "deploy_test: FAIL: cfn-lint reported findings on $template" >&2
    exit 1
  fi
  if [ -s "$work/lint" ]; then  # any output is a finding, whatever the exit status
    cat "$work/lint" >&2
    echo "deploy_test: FAIL: cfn-lint printed findings on $template" >&2
    exit 1
  fi
  echo "ok"
done

echo "== the member role writes what the central role writes"
if ! python3 "$src/tests/deploy_member_check.py" "$src"; then
  echo "deploy_test: FAIL: deploy/member.yaml's MemberRole differs from deploy/moat.yaml's FunctionRole" >&2
  exit 1
fi
echo "ok"

echo "== scripts/package-lambda.sh"
if ! bash "$src/scripts/package-lambda.sh" "$binary" "$work/moat-lambda.zip"; then
  echo "deploy_test: FAIL: packaging $binary" >&2
  exit 1
fi
echo "ok"
