#!/usr/bin/env python3
"""The fleet map benchmark: `moat map --plan --out map.html` over 1,000 databases and 1,000,000
recorded flows, against moto, on one core.

A fresh moto_server (tests/moto_server.py, signature checking on) holds N PostgreSQL instances,
each on its own hand-made group and with a stand-in for its network interface. A policy bundle,
generated deterministically, holds 20 consumer workloads per database (labelled role / app / env
/ loc over 40 applications) and models 80 % of the databases as virtual services reached by one
rule per application; 10 % are modelled with no rule yet, 10 % not at all (unprotected). One flow
log holds F distinct flows spread over a day: per database, clients of its own application
(allowed), of other applications (not allowed), addresses in partner IP lists and in other /24s
(not allowed), and rejected ones; some flows repeat (more records). The flows are recorded once
(`moat map` without AWS), then, R times each, alternated:

  - `moat plan --json` on the same estate and history (the baseline: the plan and its what-if
    over the same flows, which `map --plan` includes);
  - `moat map --plan --out map.html` (the measured command),

both under `taskset -c 0` (one core), with their wall time and peak resident memory (wait4).
The page is then opened in headless Chromium (tests/map_browser_test.py --timing) when it is
installed: the time to a rendered page, and every database reachable through the picker and the
search. Budget: map ≤ 10 s, ≤ 1 GiB; page ≤ 3 s. Exit status 1 when a budget is missed.

Usage: map_fleet_bench.py [--moat PATH] [--source-dir DIR] [--databases N] [--flows F]
                          [--reps R] [--workdir DIR] [--keep] [--json-out FILE] [--smoke]
"""

import argparse
import gzip
import ipaddress
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import loopback
from loopback import REGION, BenchError, Moto

PORT = 5432
APPS = 40
WORKLOADS_PER_DB = 20
BUDGET_MAP_S = 10.0
BUDGET_MAP_MIB = 1024.0
BUDGET_PAGE_S = 3.0


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--source-dir", default=os.path.dirname(HERE))
    p.add_argument("--moat", help="the moat binary (default SOURCE/build/src/cli/moat)")
    p.add_argument("--databases", type=int, default=1000)
    p.add_argument("--flows", type=int, default=1000000, help="distinct flows recorded")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--workdir")
    p.add_argument("--keep", action="store_true")
    p.add_argument("--json-out")
    p.add_argument("--no-browser", action="store_true", help="skip the page check")
    p.add_argument("--format", default="html", choices=["html", "json", "dot"],
                   help="the map's format (the budget is the page's)")
    p.add_argument("--smoke", action="store_true", help="20 databases, 20,000 flows, one repetition")
    args = p.parse_args(argv)
    if args.moat is None:
        args.moat = os.path.join(args.source_dir, "build", "src", "cli", "moat")
    if args.smoke:
        args.databases, args.flows, args.reps = 20, 20000, 1
    return args


# ---------------------------------------------------------------------------------------------
# The estate and the policy

def seed(url, n):
    """N databases in moto (loopback.open_databases); returns (key, [(db id, endpoint, address)])."""
    key, rds, made = loopback.open_databases(url, n, PORT, digits=4)
    out = []
    for page in rds.get_paginator("describe_db_instances").paginate():
        for d in page["DBInstances"]:
            out.append((d["DBInstanceIdentifier"], d["Endpoint"]["Address"], made[d["DBInstanceIdentifier"]][1]))
    return key, sorted(out)


def workload_address(i):
    return "10.%d.%d.%d" % (20 + i // 62500, (i // 250) % 250, i % 250 + 1)


def bundle(databases):
    """The policy: consumer workloads, the modelled databases, one rule per application."""
    org = "/orgs/1"
    act = org + "/sec_policy/active"
    labels, by = [], {}

    def label(key, value):
        if (key, value) not in by:
            by[(key, value)] = "%s/labels/%d" % (org, len(labels) + 1)
            labels.append({"href": by[(key, value)], "key": key, "value": value})
        return {"href": by[(key, value)]}

    n = len(databases)
    workloads = []
    for i in range(n * WORKLOADS_PER_DB):
        app = "app-%02d" % (i % APPS)
        workloads.append({
            "href": "%s/workloads/w%d" % (org, i), "name": "w-%05d" % i, "hostname": "w-%05d" % i,
            "managed": True,
            "labels": [label("role", "role-%d" % (i // APPS % 8)), label("app", app),
                       label("env", ("prod", "staging", "dev")[i // 320 % 3]),
                       label("loc", ("eu", "us")[i // 960 % 2])],
            "interfaces": [{"name": "eth0", "address": workload_address(i)}]})
    services = []
    for k, (db, endpoint, _) in enumerate(databases):
        if k % 10 == 9:
            continue  # unprotected: no object of the policy is it
        app = "app-%02d" % (k % APPS) if k % 10 != 8 else "new-%02d" % (k % APPS)  # no rule yet
        services.append({"href": "%s/virtual_services/v%d" % (act, k), "name": "VS-RDS-" + db,
                         "labels": [label("role", "db"), label("app", app)],
                         "service_ports": [{"port": PORT, "proto": 6}],
                         "service_addresses": [{"fqdn": endpoint}]})
    rules = []
    for a in range(APPS):
        app = "app-%02d" % a
        rules.append({"href": "%s/rule_sets/1/sec_rules/%d" % (act, a + 1), "enabled": True,
                      "providers": [{"label": label("role", "db")}, {"label": label("app", app)}],
                      "consumers": [{"label": label("app", app)}], "ingress_services": [],
                      "resolve_labels_as": {"providers": ["virtual_services"], "consumers": ["workloads"]}})
    ip_lists = [{"href": "%s/ip_lists/%d" % (act, p + 1), "name": "partner-%02d" % p,
                 "ip_ranges": [{"from_ip": "203.0.%d.0/24" % p}]} for p in range(16)]
    return {"labels": labels, "label_groups": [], "workloads": workloads, "virtual_services": services,
            "service_bindings": [], "ip_lists": ip_lists, "services": [],
            "rule_sets": [{"href": act + "/rule_sets/1", "name": "databases", "enabled": True,
                           "scopes": [[]], "rules": rules}]}


def write_flow_log(path, databases, flows, now):
    """`flows` distinct flows to the databases' addresses, some repeated; returns the lines."""
    rnd = random.Random(1714521600)
    n = len(databases)
    per_db = max(1, flows // n)
    start = now - 86400 - 3600
    lines = 0
    with gzip.open(path, "wt", compresslevel=1) as out:
        out.write("version account-id interface-id srcaddr dstaddr srcport dstport protocol packets "
                  "bytes start end action log-status\n")
        for k, (_, _, address) in enumerate(databases):
            own = [i for i in range(k % APPS, n * WORKLOADS_PER_DB, APPS)]
            rnd.shuffle(own)
            seen = set()
            sources, j = [], 0
            while len(sources) < per_db:
                j += 1
                r = j % 20
                if r < 9 and own:
                    sources.append((own[j % len(own)] if j < len(own) else rnd.randrange(n * WORKLOADS_PER_DB),
                                    "ACCEPT"))
                elif r < 13:
                    sources.append((rnd.randrange(n * WORKLOADS_PER_DB), "ACCEPT"))
                elif r < 16:
                    sources.append(("203.0.%d.%d" % (rnd.randrange(16), rnd.randrange(1, 255)), "ACCEPT"))
                elif r < 19:
                    sources.append(("198.%d.%d.%d" % (18 + rnd.randrange(2), rnd.randrange(256),
                                                     rnd.randrange(1, 255)), "ACCEPT"))
                else:
                    sources.append(("192.0.%d.%d" % (2 + rnd.randrange(4), rnd.randrange(1, 255)), "REJECT"))
                addr = workload_address(sources[-1][0]) if isinstance(sources[-1][0], int) else sources[-1][0]
                if (addr, sources[-1][1]) in seen:
                    sources.pop()
                else:
                    seen.add((addr, sources[-1][1]))
            for src, action in sources:
                addr = workload_address(src) if isinstance(src, int) else src
                for _ in range(1 + (rnd.random() < 0.3) + (rnd.random() < 0.05) * 5):
                    t = start + rnd.randrange(86400)
                    out.write("2 123456789012 eni-0a %s %s %d %d 6 10 840 %d %d %s OK\n" % (
                        addr, address, 32768 + rnd.randrange(28000), PORT, t, t + 59, action))
                    lines += 1
    return lines


# ---------------------------------------------------------------------------------------------
# Measuring

def timed(label, argv, env, log_dir, held_ok=False):
    """Runs a command to completion; returns (wall s, peak RSS MiB). It must exit 0 (or, with
    held_ok, 1 for changes a guard holds back: the first enforcement would cut observed flows)."""
    stem = os.path.join(log_dir, label.replace(" ", "-"))
    with open(stem + ".out", "w") as out, open(stem + ".err.txt", "w") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    with open(stem + ".err.txt") as f:
        stderr = f.read()
    if proc.returncode != 0 and not (held_ok and proc.returncode == 1 and "held back by a guard" in stderr):
        with open(stem + ".err.txt") as f:
            raise BenchError("%s: exit %d: %s\n  stderr: %s" % (label, proc.returncode, " ".join(argv),
                                                                f.read().strip()[-2000:]))
    return wall, usage.ru_maxrss / 1024.0


def one_core(argv):
    return (["taskset", "-c", "0"] + argv) if shutil.which("taskset") else argv


def check_map(path, databases):
    """The map's data: every database is on it, with the protection the bundle gives it."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if path.endswith(".json"):
        data = json.loads(text)
    else:
        tag = '<script type="application/json" id="moat-data">'
        start = text.index(tag) + len(tag)
        data = json.loads(text[start:text.index("</script>", start)])
    nodes = {n["id"]: n for n in data["nodes"] if n["kind"] == "database"}
    missing = [db for db, _, _ in databases if "db:" + db not in nodes]
    if missing:
        raise BenchError("the map lacks %d database(s), e.g. %s" % (len(missing), missing[:3]))
    counts = {}
    for k, (db, _, _) in enumerate(databases):
        want = "unprotected" if k % 10 == 9 else "no-rules" if k % 10 == 8 else "protected"
        got = nodes["db:" + db]["protection"]
        if got != want:
            raise BenchError("database %s is %s on the map, expected %s" % (db, got, want))
        counts[got] = counts.get(got, 0) + 1
    return {"nodes": len(data["nodes"]), "edges": len(data["edges"]), "protection": counts,
            "bytes": os.path.getsize(path), "window_flows": data.get("window_flows")}


def browser(args, page, log_dir):
    script = os.path.join(args.source_dir, "tests", "map_browser_test.py")
    proc = subprocess.run([sys.executable, script, "--html", page, "--timing",
                           "--overview-screenshot", os.path.join(log_dir, "fleet-overview.png"),
                           "--screenshot", os.path.join(log_dir, "fleet-database.png")],
                          capture_output=True, text=True, timeout=600)
    with open(os.path.join(log_dir, "browser.txt"), "w") as f:
        f.write(proc.stdout + proc.stderr)
    if proc.returncode == 77:
        return None
    if proc.returncode != 0:
        raise BenchError("the page check failed: " + (proc.stderr.strip() or proc.stdout.strip())[-1000:])
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    raise BenchError("the page check printed no timing: " + proc.stdout[-500:])


def main(argv):
    args = parse_args(argv)
    temp = loopback.make_workdir(args, "moat-map-fleet-")
    work = args.workdir
    ok = False
    try:
        log_dir = os.path.join(work, "logs")
        os.makedirs(log_dir, exist_ok=True)
        t0 = time.perf_counter()
        with Moto(args.source_dir, os.path.join(log_dir, "moto.log")) as moto:
            key, databases = seed(moto.url, args.databases)
            seeded = time.perf_counter() - t0
            with open(os.path.join(work, "policy.json"), "w") as f:
                json.dump(bundle(databases), f)
            lines = write_flow_log(os.path.join(work, "flows.log.gz"), databases, args.flows, int(time.time()))
            env = loopback.clean_env(drop=("AWS_", "MOAT_", "ILLUMIO_"), AWS_ENDPOINT_URL=moto.url,
                                     AWS_REGION=REGION, AWS_ACCESS_KEY_ID=key[0], AWS_SECRET_ACCESS_KEY=key[1])
            common = ["--policy", os.path.join(work, "policy.json"), "--state", os.path.join(work, "state"),
                      "--quiet", "--since", "all"]
            record_s, _ = timed("record", [args.moat, "map", "--out", os.path.join(work, "record.json"),
                                           "--flows", os.path.join(work, "flows.log.gz")] + common, env, log_dir)
            with open(os.path.join(work, "record.json")) as f:
                recorded = json.load(f)["recorded_flows"]
            page = os.path.join(work, "map." + args.format)
            plans, maps = [], []
            for r in range(args.reps):
                plans.append(timed("plan %d" % r, one_core([args.moat, "plan", "--json"] + common), env, log_dir,
                                   held_ok=True))
                maps.append(timed("map %d" % r, one_core([args.moat, "map", "--plan", "--out", page] + common),
                                  env, log_dir))
        shape = check_map(page, databases) if args.format != "dot" else {
            "nodes": 0, "edges": 0, "protection": {}, "bytes": os.path.getsize(page), "window_flows": 0}
        page_check = None if args.no_browser or args.format != "html" else browser(args, page, log_dir)
        result = {
            "databases": args.databases, "recorded_flows": recorded, "flow_log_lines": lines,
            "seed_s": round(seeded, 1), "record_s": round(record_s, 2),
            "plan_s": [round(w, 3) for w, _ in plans], "plan_mib": [round(m, 1) for _, m in plans],
            "map_s": [round(w, 3) for w, _ in maps], "map_mib": [round(m, 1) for _, m in maps],
            "map": shape, "page": page_check,
        }
        map_s = statistics.median(w for w, _ in maps)
        map_mib = max(m for _, m in maps)
        plan_s = statistics.median(w for w, _ in plans)
        print("fleet map: %d databases, %s recorded flows (%s flow-log lines; recorded in %.1f s)" % (
            args.databases, format(recorded, ","), format(lines, ","), record_s))
        print("  map: %s nodes, %s edges, %.1f MiB page; protection %s" % (
            format(shape["nodes"], ","), format(shape["edges"], ","), shape["bytes"] / 1048576.0,
            shape["protection"]))
        print("  %-44s median %6.2f s  peak %7.1f MiB" % ("moat plan --json (baseline, one core)", plan_s,
                                                           max(m for _, m in plans)))
        print("  %-44s median %6.2f s  peak %7.1f MiB  (budget %.0f s, %.0f MiB)" % (
            "moat map --plan --out map.%s (one core)" % args.format, map_s, map_mib, BUDGET_MAP_S, BUDGET_MAP_MIB))
        print("  map --plan / plan: %.2f" % (map_s / plan_s if plan_s > 0 else float("nan")))
        if page_check is not None:
            print("  page: rendered in %.2f s, painted in %.2f s (medians of %d loads; budget %.0f s); %d "
                  "databases reachable through the picker and the search; screenshots in %s" % (
                      page_check["render_s"], page_check["painted_s"], len(page_check["loads_s"]), BUDGET_PAGE_S,
                      page_check["databases"], log_dir))
        else:
            print("  page: not checked (Chromium or chromedriver missing, or --no-browser)")
        if args.json_out:
            with open(args.json_out, "w") as f:
                json.dump(result, f, indent=1)
        missed = []
        if not args.smoke:
            if map_s > BUDGET_MAP_S:
                missed.append("map %.2f s > %.0f s" % (map_s, BUDGET_MAP_S))
            if map_mib > BUDGET_MAP_MIB:
                missed.append("map %.0f MiB > %.0f MiB" % (map_mib, BUDGET_MAP_MIB))
            if page_check is not None and max(page_check["render_s"], page_check["painted_s"]) > BUDGET_PAGE_S:
                missed.append("page %.2f s > %.0f s" % (page_check["painted_s"], BUDGET_PAGE_S))
        if missed:
            print("BUDGET MISSED: " + "; ".join(missed))
            return 1
        ok = True
        return 0
    except BenchError as e:
        print("map_fleet_bench: %s" % e, file=sys.stderr)
        return 1
    finally:
        loopback.leave_workdir(args, temp, ok)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
