#!/usr/bin/env python3
"""Benchmark of the PCE requests `moat lambda` makes per flow-log event with `--policy pce`.

One `moat lambda` process (the state in S3, in moto) handles the sample flow-log object as an S3
event EVENTS times, against tests/pce_test_server.py serving the sample policy; the PCE test
server's request log gives the policy reads (GETs) of each event. Then the policy is changed and
provisioned (one event), and a second process starts (a cold Lambda container) and handles one
event. The bulk traffic loader's POSTs (the flows sent to the PCE) are not counted: they are one
per event whatever the policy.

Goal: 1 PCE request per event while the policy is unchanged (the version check); the whole policy
(the version and eight collections) for the first event of a process with no copy in the state,
and for the first event after a provisioning; 1 request for a cold start with the copy.

Usage: pce_requests_bench.py [--moat PATH] [--source-dir DIR] [--events N] [--workdir DIR]
                             [--keep] [--json-out FILE] [--smoke]
"""

import argparse
import base64
import json
import os
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from lambda_bench import RuntimeServer, s3_event, stop  # noqa: E402
from loopback import REGION, BenchError, Moto, clean_env, leave_workdir, make_workdir  # noqa: E402

SAMPLE_BUNDLE = os.path.join("samples", "policy", "orders-db.bundle.json")
SAMPLE_FLOWLOGS = os.path.join("samples", "flowlogs")
MOTO_SETUP = os.path.join("tests", "moto_setup.py")
PCE_SERVER = os.path.join("tests", "pce_test_server.py")
BUCKET = "flow-logs"
OBJECT_KEY = ("AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/05/01/"
              "123456789012_vpcflowlogs_us-east-1_fl-0a1b2c3d_20240501T0000Z_1a2b3c4d.log.gz")
# moto's endpoint for orders-db, which the policy's virtual service must name.
MOTO_ENDPOINT = "orders-db.aaaaaaaaaa.us-east-1.rds.amazonaws.com"
PCE_USER, PCE_SECRET = "api_1a2b3c4d5e6f", "test-secret-0123456789"
EVENT_TIMEOUT = 120  # seconds one event may take
GOAL_PER_EVENT = 1.0


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--source-dir", default=os.path.dirname(HERE))
    p.add_argument("--moat", help="path to the moat binary (default SOURCE/build/src/cli/moat)")
    p.add_argument("--events", type=int, help="events handled by the first process (default 50)")
    p.add_argument("--workdir", help="where the servers' logs go (default: a temp dir)")
    p.add_argument("--keep", action="store_true", help="keep the default temp workdir")
    p.add_argument("--json-out", help="write the measurements to this file")
    p.add_argument("--smoke", action="store_true", help="5 events")
    args = p.parse_args(argv)
    if args.moat is None:
        args.moat = os.path.join(args.source_dir, "build", "src", "cli", "moat")
    if args.events is None:
        args.events = 5 if args.smoke else 50
    if args.events < 2:
        p.error("--events: at least 2")
    return args


def log(line):
    print(line, file=sys.stderr, flush=True)


class Pce:
    """tests/pce_test_server.py on a free port, serving `bundle`."""

    def __init__(self, source_dir, bundle, work):
        port_file = os.path.join(work, "pce.port")
        self.log = open(os.path.join(work, "pce-server.log"), "wb")
        self.proc = subprocess.Popen([sys.executable, os.path.join(source_dir, PCE_SERVER), "--bundle", bundle,
                                      "--port-file", port_file], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise BenchError("pce_test_server.py did not start; see %s" % self.log.name)
            time.sleep(0.02)
        with open(port_file) as f:
            self.url = "http://127.0.0.1:" + f.read().strip()

    def call(self, method, path, body=None, api=False):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        if api:
            req.add_header("Authorization", "Basic " + base64.b64encode(
                ("%s:%s" % (PCE_USER, PCE_SECRET)).encode()).decode())
        with urllib.request.urlopen(req, timeout=30) as resp:
            payload = resp.read()
            return json.loads(payload) if payload else None

    def reads(self):
        """The GETs since the last reset."""
        return [e["path"] + ("?" + e["query"] if e["query"] else "")
                for e in self.call("GET", "/_test/log") if e["method"] == "GET"]

    def reset(self):
        self.call("POST", "/_test/reset", {})

    def provision(self):
        """A change to the VPN's IP list, provisioned: the active policy's version goes up."""
        vpn = self.call("GET", "/api/v2/orgs/1/sec_policy/draft/ip_lists/7", api=True)
        ranges = vpn["ip_ranges"] + [{"from_ip": "10.77.0.0/16", "exclusion": False}]
        self.call("PUT", "/api/v2/orgs/1/sec_policy/draft/ip_lists/7", {"ip_ranges": ranges}, api=True)
        return self.call("POST", "/api/v2/orgs/1/sec_policy", {"update_description": "bench"}, api=True)["version"]

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()
        self.log.close()


class Lambda:
    """One `moat lambda` process and its Runtime API server."""

    def __init__(self, args, work, name, env):
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir, exist_ok=True)
        self.runtime = RuntimeServer(args.source_dir, self.dir)
        self.err_path = os.path.join(self.dir, "moat.err.txt")
        with open(os.path.join(self.dir, "moat.out.txt"), "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen([args.moat, "lambda"], env=dict(env, AWS_LAMBDA_RUNTIME_API=self.runtime.api),
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        self.handled = 0

    def event(self):
        """One S3 event of the sample object, answered; returns the answer."""
        self.runtime.call("POST", "/_test/invoke", {"event": s3_event(BUCKET, OBJECT_KEY, 100),
                                                    "deadline_ms": EVENT_TIMEOUT * 1000})
        self.handled += 1
        results = self.runtime.call("GET", "/_test/results?count=%d&timeout=%d" % (self.handled, EVENT_TIMEOUT),
                                    timeout=EVENT_TIMEOUT + 30)
        if len(results) != self.handled or results[-1].get("kind") != "response":
            raise BenchError("moat lambda: event %d: %s" % (self.handled, (results or [{}])[-1]))
        body = json.loads(results[-1]["body"])
        if not (body.get("reconcile") or {}).get("policy_ok"):
            raise BenchError("moat lambda: event %d: the policy was not read: %s" % (self.handled, body))
        return body

    def close(self):
        try:
            if self.proc.poll() is None:
                stop(self.proc, "moat lambda", self.err_path)
        finally:
            self.runtime.close()


def bench(args, work):
    with open(os.path.join(args.source_dir, SAMPLE_BUNDLE)) as f:
        bundle = json.load(f)
    bundle["virtual_services"][0]["service_addresses"][0]["fqdn"] = MOTO_ENDPOINT
    bundle_path = os.path.join(work, "policy.json")
    with open(bundle_path, "w") as f:
        json.dump(bundle, f)
    out = {}
    with Moto(args.source_dir, os.path.join(work, "moto.log"), env=clean_env()) as moto:
        setup = subprocess.run([sys.executable, os.path.join(args.source_dir, MOTO_SETUP), moto.url, BUCKET,
                                os.path.join(args.source_dir, SAMPLE_FLOWLOGS)],
                               env=clean_env(), capture_output=True, text=True, check=True)
        seeded = json.loads(setup.stdout)
        pce = Pce(args.source_dir, bundle_path, work)
        try:
            env = clean_env(AWS_ENDPOINT_URL=moto.url, AWS_REGION=REGION,
                            AWS_ACCESS_KEY_ID=seeded["access_key_id"],
                            AWS_SECRET_ACCESS_KEY=seeded["secret_access_key"],
                            MOAT_POLICY="pce", MOAT_STATE="s3://%s/moat/state/" % BUCKET,
                            MOAT_FLOW_LOG_BUCKET=BUCKET, MOAT_ALLOW_BREAKING="true",
                            ILLUMIO_PCE_HOST=pce.url, ILLUMIO_PCE_ORG_ID="1",
                            ILLUMIO_API_KEY_USERNAME=PCE_USER, ILLUMIO_API_KEY_SECRET=PCE_SECRET)
            warm = Lambda(args, work, "warm", env)
            try:
                warm.event()
                out["first_event"] = len(pce.reads())
                pce.reset()
                start = time.perf_counter()
                for _ in range(args.events - 1):
                    warm.event()
                out["unchanged_wall_s"] = time.perf_counter() - start
                reads = pce.reads()
                out["unchanged_events"] = args.events - 1
                out["unchanged_requests"] = len(reads)
                out["unchanged_per_event"] = len(reads) / (args.events - 1)
                out["version_requests_only"] = all(r.endswith("/sec_policy?max_results=1") for r in reads)
                out["provisioned_version"] = pce.provision()
                pce.reset()
                warm.event()
                out["after_provisioning"] = len(pce.reads())
            finally:
                warm.close()
            pce.reset()
            cold = Lambda(args, work, "cold", env)
            try:
                cold.event()
                out["cold_start_with_copy"] = len(pce.reads())
            finally:
                cold.close()
        finally:
            pce.close()
    return out


def main(argv):
    args = parse_args(argv)
    temp = make_workdir(args, "moat-pce-requests-")
    work = args.workdir
    ok = False
    try:
        m = bench(args, work)
        ok = True
    except (BenchError, subprocess.CalledProcessError, OSError, ValueError, KeyError) as e:
        log("pce_requests_bench: %s" % e)
        return 1
    finally:
        leave_workdir(args, temp, ok)
    print("PCE requests per flow-log event (policy reads; the bulk traffic upload not counted)")
    print("  first event of a process, no copy in the state:  %d" % m["first_event"])
    print("  each later event, policy unchanged:              %.2f  (%d events, %d requests%s)" % (
        m["unchanged_per_event"], m["unchanged_events"], m["unchanged_requests"],
        ", each the version check" if m["version_requests_only"] else ""))
    print("  the event after a provisioning (version %d):      %d" % (m["provisioned_version"], m["after_provisioning"]))
    print("  a cold start, the copy in the state:             %d" % m["cold_start_with_copy"])
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(m, f, indent=1)
    met = m["unchanged_per_event"] <= GOAL_PER_EVENT and m["version_requests_only"] and m["cold_start_with_copy"] == 1
    print("goal (1 request per event, policy unchanged; 1 for a cold start with the copy): %s" % (
        "met" if met else "NOT met"))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
