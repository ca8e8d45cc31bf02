#!/usr/bin/env python3
"""Benchmark of `moat apply` / `moat plan` on a converged estate against moto: the AWS calls of a
run that has nothing to do must not grow with the number of databases, and it must write nothing.

For each size N: a fresh moto_server (tests/moto_server.py, signature checking on) holds N
PostgreSQL instances, each on its own hand-made group open to the world on 5432 and with a
stand-in for its network interface; a policy bundle (the sample bundle's virtual service, N times)
protects all of them. A first `moat apply` brings the estate to the policy; then `moat apply` and
`moat plan` run R times each on the converged estate and their `calls.read` / `calls.write` are
recorded.

Usage: enforce_bench.py [--moat PATH] [--source-dir DIR] [--sizes 1,10,50,100] [--reps R]
                        [--workdir DIR] [--keep] [--json-out FILE] [--smoke]
"""

import argparse
import copy
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import loopback
from loopback import REGION, BenchError, Moto

PORT = 5432
SAMPLE_BUNDLE = os.path.join("samples", "policy", "orders-db.bundle.json")
# Databases per DescribeDBInstances page (the AWS maximum of MaxRecords, and its default).
RDS_PAGE = 100


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--source-dir", default=os.path.dirname(HERE),
                   help="the source tree (for the sample bundle and tests/moto_server.py)")
    p.add_argument("--moat", help="path to the moat binary (default SOURCE/build/src/cli/moat)")
    p.add_argument("--sizes", help="comma-separated numbers of databases (default 1,10,50,100)")
    p.add_argument("--reps", type=int,
                   help="converged runs of apply and of plan per size (default 3)")
    p.add_argument("--workdir",
                   help="where bundles, state and logs go (default: a temp dir under /tmp)")
    p.add_argument("--keep", action="store_true", help="keep the default temp workdir")
    p.add_argument("--json-out", help="write the raw measurements to this file")
    p.add_argument("--smoke", action="store_true", help="sizes 1,3 and one repetition")
    args = p.parse_args(argv)
    if args.moat is None:
        args.moat = os.path.join(args.source_dir, "build", "src", "cli", "moat")
    loopback.sizes_and_reps(p, args, "1,10,50,100", "1,3")
    return args


# ---------------------------------------------------------------------------------------------
# moto

def seed(url, n):
    """Creates the estate of N databases (loopback.open_databases), as tests/moto_setup.py does
    for its two.

    Returns {"key": (access key id, secret), "endpoints": {db id: endpoint}, "legacy": {db id:
    its hand-made group}}."""
    key, rds, made = loopback.open_databases(url, n, PORT)
    return {"key": key, "endpoints": endpoints(rds), "legacy": {db: group for db, (group, _) in made.items()}}


def endpoints(rds):
    """{db id: Endpoint.Address} as DescribeDBInstances reports it."""
    out = {}
    for page in rds.get_paginator("describe_db_instances").paginate():
        for db in page["DBInstances"]:
            out[db["DBInstanceIdentifier"]] = db["Endpoint"]["Address"]
    return out


def attached_groups(url, key):
    """{db id: [group ids]} read back from moto, to check the first apply independently."""
    rds = loopback.client(url, key, "rds")
    out = {}
    for page in rds.get_paginator("describe_db_instances").paginate():
        for db in page["DBInstances"]:
            out[db["DBInstanceIdentifier"]] = sorted(
                g["VpcSecurityGroupId"] for g in db["VpcSecurityGroups"])
    return out


# ---------------------------------------------------------------------------------------------
# The policy

def write_bundle(source_dir, endpoints_by_db, path):
    """The sample bundle with its virtual service replicated once per database: same labels (so
    the sample's label-based rules, web tier and the corporate VPN IP list on 5432, cover every
    copy), distinct href, name and fqdn. The sample's service binding, which ties its virtual
    service to a workload at an address of the sample's own network, is dropped."""
    with open(os.path.join(source_dir, SAMPLE_BUNDLE)) as f:
        bundle = json.load(f)
    template = bundle["virtual_services"][0]
    services = []
    for db, endpoint in sorted(endpoints_by_db.items()):
        vs = copy.deepcopy(template)
        vs["href"] = "/orgs/1/sec_policy/active/virtual_services/bench-%s" % db
        vs["name"] = "VS-RDS-%s" % db
        vs["description"] = "RDS endpoint %s" % db
        vs["service_addresses"][0]["fqdn"] = endpoint
        services.append(vs)
    bundle["virtual_services"] = services
    bundle["service_bindings"] = []
    with open(path, "w") as f:
        json.dump(bundle, f, indent=1)


# ---------------------------------------------------------------------------------------------
# Running moat

def moat_env(url, key):
    """The caller's environment without AWS_* / MOAT_* settings, pointed at moto."""
    return loopback.clean_env(drop=("AWS_", "MOAT_"), AWS_ENDPOINT_URL=url, AWS_REGION=REGION,
                              AWS_ACCESS_KEY_ID=key[0], AWS_SECRET_ACCESS_KEY=key[1])


def run_moat(label, argv, env, log_dir):
    """Runs one moat command; returns (wall seconds, parsed JSON stdout).

    Raises BenchError when it exits non-zero or prints no JSON; stdout and stderr are kept in
    log_dir under `label`."""
    wall, _, report = loopback.run_moat(label, argv, env, log_dir, out_suffix=".out.json")
    return wall, report


def check_policy(args, bundle, env, log_dir, endpoints_by_db):
    """`moat policy show` must list one target per database, at its endpoint."""
    _, shown = run_moat("policy show", [args.moat, "policy", "show", "--policy", bundle, "--json"],
                        env, log_dir)
    fqdns = sorted(t.get("fqdn") for t in shown.get("targets", []))
    if fqdns != sorted(endpoints_by_db.values()):
        raise BenchError("policy show: %d targets for %d databases (fqdns %s)" % (
            len(fqdns), len(endpoints_by_db), fqdns[:5]))


def check_first_apply(report, dbs, legacy, attached):
    """Every database was changed and applied, and is no longer on its hand-made group."""
    by_id = {t.get("id"): t for t in report.get("targets", [])}
    problems = []
    for db in dbs:
        t = by_id.get(db)
        if t is None:
            problems.append("%s: not among the targets" % db)
        elif t.get("error") or not t.get("changes") or not t.get("applied"):
            problems.append("%s: changes=%s applied=%s error=%r" % (
                db, t.get("changes"), t.get("applied"), t.get("error")))
        elif legacy[db] in attached.get(db, []) or not attached.get(db):
            problems.append("%s: groups after apply %s (hand-made %s)" % (
                db, attached.get(db), legacy[db]))
    if not report.get("changes") or report.get("calls", {}).get("write", 0) <= 0:
        problems.append("report: changes=%s calls=%s" % (report.get("changes"),
                                                         report.get("calls")))
    if problems:
        raise BenchError("first apply: " + "; ".join(problems[:5]) +
                         (" (and %d more)" % (len(problems) - 5) if len(problems) > 5 else ""))


def converged_run(label, argv, env, log_dir, dbs):
    """One run on the converged estate: every database seen, no changes and no writes.

    Returns (wall, reads, writes)."""
    wall, report = run_moat(label, argv, env, log_dir)
    calls = report.get("calls", {})
    reads, writes = calls.get("read"), calls.get("write")
    if report.get("changes") is not False or writes != 0 or not isinstance(reads, int):
        raise BenchError("%s: converged run has changes=%s calls=%s" % (
            label, report.get("changes"), calls))
    seen = sorted(t.get("id") for t in report.get("targets", [])
                  if not t.get("error") and t.get("changes") is False)
    if seen != dbs:
        raise BenchError("%s: %d of %d databases reported as converged" % (
            label, len(seen), len(dbs)))
    return wall, reads, writes


# ---------------------------------------------------------------------------------------------
# One size

def bench_size(args, n):
    """Seeds a fresh moto with N databases, applies once, then times the converged runs."""
    work = os.path.join(args.workdir, "n%d" % n)
    os.makedirs(work, exist_ok=True)
    state = os.path.join(work, "state")
    bundle = os.path.join(work, "policy.json")
    with Moto(args.source_dir, os.path.join(work, "moto.log")) as moto:
        start = time.perf_counter()
        try:
            estate = seed(moto.url, n)
        except Exception as e:  # botocore's errors: moto refused or failed a call
            raise BenchError("seeding moto with %d databases: %s" % (n, e))
        seed_s = time.perf_counter() - start
        print("  N=%d: seeded in %.1f s" % (n, seed_s), file=sys.stderr)
        dbs = sorted(estate["legacy"])
        if sorted(estate["endpoints"]) != dbs:
            raise BenchError("moto lists databases %s, expected %s" % (
                sorted(estate["endpoints"])[:5], dbs[:5]))
        write_bundle(args.source_dir, estate["endpoints"], bundle)
        env = moat_env(moto.url, estate["key"])
        check_policy(args, bundle, env, work, estate["endpoints"])

        common = ["--policy", bundle, "--json", "--state", state]
        apply_argv = [args.moat, "apply", "--yes"] + common
        plan_argv = [args.moat, "plan"] + common
        first_s, first = run_moat("apply first", apply_argv, env, work)
        check_first_apply(first, dbs, estate["legacy"], attached_groups(moto.url, estate["key"]))
        print("  N=%d: first apply %.2f s, calls %s" % (n, first_s, first["calls"]),
              file=sys.stderr)

        applies, plans = [], []
        for rep in range(args.reps):
            applies.append(converged_run("apply converged %d" % rep, apply_argv, env, work, dbs))
            plans.append(converged_run("plan converged %d" % rep, plan_argv, env, work, dbs))
    return {
        "n": n, "seed_s": seed_s,
        "first_apply": {"wall": first_s, "read": first["calls"]["read"],
                        "write": first["calls"]["write"]},
        "apply": {"walls": [r[0] for r in applies], "reads": [r[1] for r in applies],
                  "writes": [r[2] for r in applies]},
        "plan": {"walls": [r[0] for r in plans], "reads": [r[1] for r in plans],
                 "writes": [r[2] for r in plans]},
    }


# ---------------------------------------------------------------------------------------------
# Report

def reads_of(result, command):
    """The read count of a command's converged runs, or a list when the runs disagree."""
    reads = sorted(set(result[command]["reads"]))
    return reads[0] if len(reads) == 1 else reads


def print_table(results, reps):
    print("# moat apply / plan on a converged estate (moto)\n")
    print("%d converged run(s) of apply and of plan per size; wall times are medians.\n" % reps)
    print("| N | seed s | first apply s | first apply writes | reads (apply) | reads (plan) "
          "| writes (apply, plan) | apply s | plan s |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print("| %d | %.1f | %.2f | %d | %s | %s | %d | %.3f | %.3f |" % (
            r["n"], r["seed_s"], r["first_apply"]["wall"], r["first_apply"]["write"],
            reads_of(r, "apply"), reads_of(r, "plan"),
            max(r["apply"]["writes"] + r["plan"]["writes"]),
            statistics.median(r["apply"]["walls"]), statistics.median(r["plan"]["walls"])))


def verdict(results):
    """(ok, line): the converged read count is one number, the same for every size."""
    apply_reads = {json.dumps(reads_of(r, "apply")) for r in results}
    plan_reads = {json.dumps(reads_of(r, "plan")) for r in results}
    sizes = ",".join(str(r["n"]) for r in results)
    if len(apply_reads) == 1 and len(plan_reads) == 1 and all(
            isinstance(reads_of(r, c), int) for r in results for c in ("apply", "plan")):
        return True, ("PASS: a converged apply costs %s reads and a plan %s, for every N (%s); "
                      "zero writes" % (apply_reads.pop(), plan_reads.pop(), sizes))
    line = "FAIL: converged read counts differ between sizes (%s): apply %s, plan %s" % (
        sizes, [reads_of(r, "apply") for r in results], [reads_of(r, "plan") for r in results])
    if max(r["n"] for r in results) > RDS_PAGE:
        line += ("\n  (DescribeDBInstances returns at most %d databases per page: every %d more "
                 "databases cost one more read)" % (RDS_PAGE, RDS_PAGE))
    return False, line


# ---------------------------------------------------------------------------------------------

def main(argv):
    args = parse_args(argv)
    if not os.access(args.moat, os.X_OK):
        sys.exit("enforce_bench: %s is not an executable moat (--moat)" % args.moat)
    temp = loopback.make_workdir(args, "moat-enforce-bench-")
    results, failure = loopback.run_sizes(args, bench_size)
    if results:
        print_table(results, args.reps)
    if failure:
        ok, line = False, "FAIL: " + failure
    else:
        ok, line = verdict(results)
    print("\n" + line)
    loopback.leave_workdir(args, temp, ok)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
