#!/usr/bin/env python3
"""Benchmark of `moat pce sync` against moto and the PCE test server.

Modelling N RDS databases in the PCE must cost a handful of bulk write requests, not three per
database, and a sync with nothing to do must write nothing.

For each size N: a fresh moto_server (tests/moto_server.py, signature checking on) holds N
PostgreSQL instances db-0000…, each on its own security group, with a stand-in for its network
interface at its own address, and tagged team=<one of 5> and env=<prod|dev>; a fresh PCE test
server (tests/pce_test_server.py) starts with a few labels and nothing else. A first
`moat pce sync --provision --yes --json` models, provisions and binds every database; its requests
are counted in the server's request log and its result is read back through the PCE API. Then R
re-syncs with nothing to do (zero writes) and one `--plan --detailed-exitcode` (exit 0) follow.
Next to moat's writes stands what a sync writing one object per request would need.

Usage: pce_sync_bench.py [--moat PATH] [--source-dir DIR] [--sizes 100,1000] [--reps R]
                         [--workdir DIR] [--keep] [--json-out FILE] [--smoke]
"""

import argparse
import base64
import json
import math
import os
import statistics
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import loopback
from loopback import REGION, BenchError, Moto, Server, accepts

PCE_LAUNCHER = os.path.join("tests", "pce_test_server.py")
PCE_USER, PCE_SECRET, PCE_ORG = "api_1a2b3c4d5e6f", "test-secret-0123456789", "1"
BULK_MAX = 1000  # items per bulk request (the PCE's limit)
TEAMS = ["payments", "orders", "ledger", "search", "identity"]
ENVS = ["prod", "dev"]
LABEL_MAP = {"team": {"label": "app"}, "env": {"label": "env", "values": {"prod": "Production"}}}
# What the PCE holds before the first sync: labels only; moat needs one of them (env=Production).
PCE_BUNDLE = {"labels": [
    {"href": "/orgs/1/labels/1", "key": "role", "value": "Database"},
    {"href": "/orgs/1/labels/2", "key": "env", "value": "Production"},
    {"href": "/orgs/1/labels/3", "key": "loc", "value": "AWS"}]}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--source-dir", default=os.path.dirname(HERE),
                   help="the source tree (for tests/moto_server.py and tests/pce_test_server.py)")
    p.add_argument("--moat", help="path to the moat binary (default SOURCE/build/src/cli/moat)")
    p.add_argument("--sizes", help="comma-separated numbers of databases (default 100,1000)")
    p.add_argument("--reps", type=int, help="re-syncs with nothing to do per size (default 3)")
    p.add_argument("--workdir", help="where files and logs go (default: a temp dir under /tmp)")
    p.add_argument("--keep", action="store_true", help="keep the default temp workdir")
    p.add_argument("--json-out", help="write the raw measurements to this file")
    p.add_argument("--smoke", action="store_true", help="size 5 and one repetition")
    args = p.parse_args(argv)
    if args.moat is None:
        args.moat = os.path.join(args.source_dir, "build", "src", "cli", "moat")
    loopback.sizes_and_reps(p, args, "100,1000", "5", most=30000)
    return args


# ---------------------------------------------------------------------------------------------
# The PCE test server

class Pce(Server):
    """tests/pce_test_server.py on a bundle of labels; it writes its port to a file once bound."""

    def __init__(self, source_dir, work):
        self.port_file = os.path.join(work, "pce.port")
        if os.path.exists(self.port_file):
            os.remove(self.port_file)
        bundle = os.path.join(work, "pce-bundle.json")
        with open(bundle, "w") as f:
            json.dump(PCE_BUNDLE, f)
        self.url = None
        launcher = os.path.join(source_dir, PCE_LAUNCHER)
        super().__init__([sys.executable, launcher, "--bundle", bundle,
                          "--port-file", self.port_file], os.path.join(work, "pce.log"),
                         dict(os.environ), "the PCE test server did not start")

    def ready(self):
        if self.url is None and os.path.exists(self.port_file):
            with open(self.port_file) as f:
                self.url = "http://127.0.0.1:%s" % f.read().strip()
        return self.url is not None and accepts(int(self.url.rsplit(":", 1)[1]))

    def call(self, method, path, auth=True):
        """The parsed JSON answer of one request (a `/_test/` control, or an API path)."""
        req = urllib.request.Request(self.url + path, method=method,
                                     data=b"{}" if method == "POST" else None)
        if auth:
            token = base64.b64encode(("%s:%s" % (PCE_USER, PCE_SECRET)).encode()).decode()
            req.add_header("Authorization", "Basic " + token)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return json.loads(resp.read() or b"null")
        except (OSError, ValueError) as e:
            raise BenchError("PCE test server: %s %s: %s" % (method, path, e))

    def collection(self, name, n):
        """An org's collection, all of it (max_results above the default 500)."""
        return self.call("GET", "/api/v2/orgs/%s/%s?max_results=%d" % (PCE_ORG, name, n + 1000))

    def reset_log(self):
        self.call("POST", "/_test/reset", auth=False)

    def log_counts(self):
        """(requests, writes, refused) since the last reset_log; refused: answers of 400 or more
        (or none), as "METHOD path status"."""
        log = self.call("GET", "/_test/log", auth=False)
        refused = ["%s %s %s" % (e.get("method"), e.get("path"), e.get("status")) for e in log
                   if not isinstance(e.get("status"), int) or e["status"] >= 400]
        return len(log), sum(1 for e in log if e.get("method") != "GET"), refused


# ---------------------------------------------------------------------------------------------
# The estate

def tags_of(i):
    return {"team": TEAMS[i % len(TEAMS)], "env": ENVS[i % len(ENVS)]}


def seed(url, n):
    """N PostgreSQL instances, as tests/moto_setup.py makes its one; returns (access key id, secret)
    and {db id: private address}."""
    key = loopback.iam_key(url)
    ec2 = loopback.client(url, key, "ec2")
    rds = loopback.client(url, key, "rds")
    vpc, first, base = loopback.network(ec2, rds, n)
    addresses = {}
    for i in range(n):
        db, address = "db-%04d" % i, str(base + 10 + i)
        # A group of its own: moat takes the address of the one RDS interface with exactly its
        # groups.
        group = ec2.create_security_group(GroupName="sg-" + db, Description="db",
                                          VpcId=vpc)["GroupId"]
        loopback.add_database(ec2, rds, first, db, group, address, tags=tags_of(i))
        addresses[db] = address
    return key, addresses


def expected_labels(n):
    """{db id: {label key: value}} the label map gives, and the labels the PCE lacks."""
    want = {}
    for i in range(n):
        tags = tags_of(i)
        want["db-%04d" % i] = {"app": tags["team"],
                               "env": LABEL_MAP["env"]["values"].get(tags["env"], tags["env"])}
    have = {(l["key"], l["value"]) for l in PCE_BUNDLE["labels"]}
    missing = {kv for labels in want.values() for kv in labels.items()} - have
    return want, len(missing)


# ---------------------------------------------------------------------------------------------
# Running moat

def moat_env(moto_url, key, pce_url):
    """The caller's environment without AWS_* / MOAT_* / ILLUMIO_* settings, pointed at the two
    servers."""
    return loopback.clean_env(AWS_ENDPOINT_URL=moto_url, AWS_REGION=REGION,
                              AWS_ACCESS_KEY_ID=key[0], AWS_SECRET_ACCESS_KEY=key[1],
                              ILLUMIO_PCE_HOST=pce_url, ILLUMIO_PCE_ORG_ID=PCE_ORG,
                              ILLUMIO_API_KEY_USERNAME=PCE_USER,
                              ILLUMIO_API_KEY_SECRET=PCE_SECRET)


def counted_run(label, argv, env, work, pce, want_json=True):
    """A moat run with the PCE's request log cleared before and read after; no request may be
    refused. Returns {"wall", "cpu", "requests", "writes"} and the JSON."""
    pce.reset_log()
    wall, cpu, report = loopback.run_moat(label, argv, env, work, want_json=want_json)
    requests, writes, refused = pce.log_counts()
    if refused:
        raise BenchError("%s: %d PCE request(s) refused: %s" % (label, len(refused), refused[:5]))
    return {"wall": wall, "cpu": cpu, "requests": requests, "writes": writes}, report


def check_first_sync(n, report, run, new_labels):
    """The JSON's `applied` counts, and moat's write count against the server's."""
    applied = report.get("applied") or {}
    got = {"labels": applied.get("labels"),
           "workloads": (applied.get("workloads") or {}).get("created"),
           "virtual_services": (applied.get("virtual_services") or {}).get("created"),
           "service_bindings": (applied.get("service_bindings") or {}).get("created")}
    want = {"labels": new_labels, "workloads": n, "virtual_services": n, "service_bindings": n}
    problems = ["%s created %s, expected %s" % (k, got[k], want[k])
                for k in want if got[k] != want[k]]
    version = (applied.get("provisioned") or {}).get("version")
    if not isinstance(version, int) or version < 2:
        problems.append("provisioned version %r (the bundle is version 1)" % version)
    if report.get("errors"):
        problems.append("errors %s" % report["errors"][:3])
    if applied.get("pce_writes") != run["writes"]:
        problems.append("moat counts %s writes, the PCE saw %d" % (applied.get("pce_writes"),
                                                                   run["writes"]))
    most = new_labels + 3 * math.ceil(n / BULK_MAX) + 1
    if run["writes"] > most:
        problems.append("%d write requests; bulk requests of %d need at most %d" % (
            run["writes"], BULK_MAX, most))
    if problems:
        raise BenchError("first sync: " + "; ".join(problems))
    return version


def check_pce(pce, n, addresses, want_labels):
    """Reads the PCE back: each database's moat workload (address, labels), and N active virtual
    services and bindings of moat's."""
    labels = {l["href"]: (l["key"], l["value"]) for l in pce.collection("labels", n)}
    problems, seen = [], set()
    for w in pce.collection("workloads", n):
        if w.get("external_data_set") != "moat":
            continue
        db = (w.get("external_data_reference") or "").replace("rds:", "", 1)
        seen.add(db)
        ips = [i.get("address") for i in w.get("interfaces") or []]
        have = dict(labels.get(l.get("href"), ("?", "?")) for l in w.get("labels") or [])
        if db not in addresses:
            problems.append("workload %s names no database" % w.get("name"))
        elif ips != [addresses[db]] or have != want_labels[db]:
            problems.append("%s: interfaces %s labels %s, expected [%s] %s" % (
                w.get("name"), ips, have, addresses[db], want_labels[db]))
    if seen != set(addresses):
        problems.append("%d moat workloads for %d databases" % (len(seen), n))
    services = [v for v in pce.collection("sec_policy/active/virtual_services", n)
                if v.get("external_data_set") == "moat"]
    bindings = pce.collection("service_bindings", n)
    if len(services) != n or len(bindings) != n:
        problems.append("%d active virtual services and %d bindings for %d databases" % (
            len(services), len(bindings), n))
    if problems:
        raise BenchError("the PCE after the first sync: " + "; ".join(problems[:5]) +
                         (" (and %d more)" % (len(problems) - 5) if len(problems) > 5 else ""))


# ---------------------------------------------------------------------------------------------
# One size

def bench_size(args, n):
    work = os.path.join(args.workdir, "n%d" % n)
    os.makedirs(work, exist_ok=True)
    label_map = os.path.join(work, "label-map.json")
    with open(label_map, "w") as f:
        json.dump(LABEL_MAP, f)
    want_labels, new_labels = expected_labels(n)
    with Moto(args.source_dir, os.path.join(work, "moto.log")) as moto, \
            Pce(args.source_dir, work) as pce:
        start = time.perf_counter()
        try:
            key, addresses = seed(moto.url, n)
        except Exception as e:  # botocore's errors: moto refused or failed a call
            raise BenchError("seeding moto with %d databases: %s" % (n, e))
        seed_s = time.perf_counter() - start
        print("  N=%d: seeded in %.1f s" % (n, seed_s), file=sys.stderr)
        env = moat_env(moto.url, key, pce.url)
        sync = [args.moat, "pce", "sync", "--label-map", label_map]

        first, report = counted_run("sync first", sync + ["--provision", "--yes", "--json"],
                                    env, work, pce)
        first["version"] = check_first_sync(n, report, first, new_labels)
        check_pce(pce, n, addresses, want_labels)
        print("  N=%d: first sync %.2f s, %d PCE requests, %d writes" % (
            n, first["wall"], first["requests"], first["writes"]), file=sys.stderr)

        resyncs = []
        for rep in range(args.reps):
            run, report = counted_run("sync again %d" % rep, sync + ["--yes", "--json"], env, work,
                                      pce)
            if report.get("changes") is not False or run["writes"] != 0 or report.get("errors"):
                raise BenchError("re-sync %d: changes=%s, %d writes, errors %s" % (
                    rep, report.get("changes"), run["writes"], report.get("errors")))
            resyncs.append(run)
        plan, _ = counted_run("plan", sync + ["--plan", "--detailed-exitcode"], env, work, pce,
                              want_json=False)
        if plan["writes"] != 0:
            raise BenchError("plan: %d writes" % plan["writes"])
    return {"n": n, "seed_s": seed_s, "labels_created": new_labels,
            "naive_writes": 3 * n + new_labels + 1,
            "first_sync": first, "resyncs": resyncs, "plan": plan}


# ---------------------------------------------------------------------------------------------
# Report

def print_table(results, reps):
    print("# moat pce sync (moto + the PCE test server)\n")
    print("Naive writes: one request per workload, virtual service and binding, plus the labels "
          "and one provisioning. %d re-sync(s) per size; their wall time is the median.\n" % reps)
    print("| N | seed s | first sync s | PCE requests | PCE writes | naive writes (÷ moat) "
          "| resync s | resync requests | resync writes | plan s |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        f, again = r["first_sync"], r["resyncs"]
        requests = sorted({x["requests"] for x in again})
        print("| %d | %.1f | %.2f | %d | %d | %d (%.0f×) | %.2f | %s | %d | %.2f |" % (
            r["n"], r["seed_s"], f["wall"], f["requests"], f["writes"], r["naive_writes"],
            r["naive_writes"] / max(f["writes"], 1), statistics.median(x["wall"] for x in again),
            requests[0] if len(requests) == 1 else requests, max(x["writes"] for x in again),
            r["plan"]["wall"]))


def main(argv):
    args = parse_args(argv)
    if not os.access(args.moat, os.X_OK):
        sys.exit("pce_sync_bench: %s is not an executable moat (--moat)" % args.moat)
    temp = loopback.make_workdir(args, "moat-pce-sync-bench-")
    results, failure = loopback.run_sizes(args, bench_size)
    if results:
        print_table(results, args.reps)
    if failure:
        print("\nFAIL: " + failure)
    else:
        print("\nPASS: every first sync modelled, provisioned and bound all N databases in %s "
              "write requests (N = %s); no re-sync or plan wrote" % (
                  "/".join(str(r["first_sync"]["writes"]) for r in results),
                  ", ".join(str(r["n"]) for r in results)))
    loopback.leave_workdir(args, temp, not failure)
    return 1 if failure else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
