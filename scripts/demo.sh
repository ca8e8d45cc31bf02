#!/usr/bin/env bash
# Sets up, builds, and runs moat's main job against a local AWS emulator (moto, on loopback; no
# AWS account needed): an estate of three databases on a legacy wide-open group, their flow logs
# in S3, a policy bundle. moat shows who talks to the databases, draws the traffic map, plans with
# a what-if over the recorded flows, applies, and reverts a hand-made change; then it models the
# databases in a PCE (a stand-in, tests/pce_test_server.py, on loopback), pushes rules for what
# was seen to the PCE's draft, and plans from the policy once it is provisioned.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh >/dev/null
moat=build/src/cli/moat
if ! python3 -c 'import moto, boto3' 2>/dev/null; then
  echo "demo.sh: the demo runs moto, the Python AWS emulator, on loopback: pip install 'moto[server]'" >&2
  exit 1
fi
work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
INITIAL_NO_AUTH_ACTION_COUNT=4 python3 tests/moto_server.py -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
eval "$(python3 scripts/demo_estate.py seed "http://127.0.0.1:$port" samples/flowlogs)"
policy=samples/demo/policy.json
state="$work/state"
# The bundled flow logs are from May 2024: use the whole flow history, not the last 30 days.
export MOAT_SINCE=all

# A titled step: the command, its output, and its exit status when not 0 (plan exits 2 with
# --detailed-exitcode when there are changes).
step() {
  printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"
  local rc=0
  "${@:2}" || rc=$?
  if [ "$rc" != 0 ]; then echo "(exit status $rc)"; fi
}

step "Who talks to the databases (flow logs read from S3)" \
  "$moat" flows s3://flow-logs/AWSLogs --limit 2 --top 4
step "What the policy allows" "$moat" policy show --policy "$policy"
step "The plan, the flow logs recorded first: the what-if holds back cutting clients seen in the logs" \
  "$moat" plan --policy "$policy" --state "$state" --flows s3://flow-logs/AWSLogs
step "The traffic map: who talks to each database, and what the policy makes of it" \
  "$moat" map --policy "$policy" --state "$state" --out build/demo-map.html --plan
step "Rules that would admit what was seen, for review in the PCE" \
  "$moat" suggest --policy "$policy" --state "$state" --out build/demo-suggested.json
step "Apply it, the cuts accepted after review (make-before-break)" \
  "$moat" apply --policy "$policy" --state "$state" --yes --allow-breaking
step "Someone opens orders-db to the world and puts the legacy group back" \
  python3 scripts/demo_estate.py tamper "http://127.0.0.1:$port"
step "The next run sees the drift" "$moat" plan --policy "$policy" --state "$state"
step "... and reverts it" "$moat" apply --policy "$policy" --state "$state" --yes
step "Every change is in the audit log (each after its intent line), the reverts marked as drift" \
  sh -c 'grep -v "\"result\":\"intent\"" "$1" | tail -n 3' sh "$state/audit.log"
step "Converged: nothing to do (exit 0 with --detailed-exitcode)" \
  "$moat" plan --policy "$policy" --state "$state" --detailed-exitcode

# Onboarding in the PCE: a PCE stand-in on loopback that holds only labels.
python3 -c 'import json, sys; json.dump({"labels": json.load(open(sys.argv[1]))["labels"]}, open(sys.argv[2], "w"))' \
  "$policy" "$work/pce.json"
python3 tests/pce_test_server.py --bundle "$work/pce.json" --port-file "$work/pce.port" >"$work/pce.log" 2>&1 &
pce_pid=$!
trap 'kill $moto_pid $pce_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -s "$work/pce.port" ] && break; sleep 0.1; done
export ILLUMIO_PCE_HOST="http://127.0.0.1:$(cat "$work/pce.port")" ILLUMIO_API_KEY_USERNAME=api_1a2b3c4d5e6f \
  ILLUMIO_API_KEY_SECRET=test-secret-0123456789
step "Model each database in the PCE: a workload, a virtual service and their binding, labelled from its tags" \
  "$moat" pce sync --label-map samples/demo/labels.json --provision --yes
step "Modelled: nothing to do (exit 0 with --detailed-exitcode)" \
  "$moat" pce sync --label-map samples/demo/labels.json --plan --detailed-exitcode
step "Rules for what was seen, pushed to the PCE's draft policy for its admin (moat never provisions)" \
  "$moat" suggest --policy pce --state "$state" --push --out build/demo-pushed.json
step "The PCE's admin reviews the draft and provisions it" python3 scripts/demo_estate.py provision
step "The plan from the PCE's policy: reports-db, which no policy protected, gets the rules pushed for it" \
  "$moat" plan --policy pce --state "$state"
echo
echo "The map is build/demo-map.html (open it in a browser), the suggested rules build/demo-suggested.json"
echo "and, as pushed to the PCE, build/demo-pushed.json."
echo "Next: 'moat help' lists the commands; docs/operations.md points moat at your AWS account and PCE"
echo "(start with 'moat pce sync', 'moat map' and 'moat plan', or deploy the Lambda function in visibility mode)."
