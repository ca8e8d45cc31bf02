#!/usr/bin/env python3
"""The map benchmark, end to end: `moat map` of 1,000 consumers x 50 databases.

Generates (deterministically) a policy bundle — 1,000 labelled workloads over role / app / env /
loc, 50 databases (virtual services bound to unmanaged workloads), one rule per app — and one flow
log in which every consumer talks to one to three databases (mostly its app's, allowed; some
another app's, not allowed; some rejected), plus 200 addresses of no workload. The flows are
recorded once; then `moat map --out map.html --since all` runs --runs times (median reported),
against `dot -Tsvg` on the map's own DOT file as the baseline: Graphviz's command line laying out
the same graph. Usage: map_cli_bench.py --moat PATH [--consumers N] [--databases N] [--runs N]
[--smoke]
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time


def bundle(consumers, databases, rnd):
    org = "/orgs/1"
    act = org + "/sec_policy/active"
    labels, by = [], {}

    def label(key, value):
        if (key, value) not in by:
            href = "%s/labels/%d" % (org, len(labels) + 1)
            labels.append({"href": href, "key": key, "value": value})
            by[(key, value)] = href
        return by[(key, value)]

    apps = ["app-%02d" % i for i in range(10)]
    workloads, vss, bindings, rules = [], [], [], []
    for i in range(consumers):
        app = apps[i % len(apps)]
        ls = [label("role", "role-%d" % rnd.randrange(8)), label("app", app),
              label("env", rnd.choice(["prod", "staging", "dev"])), label("loc", rnd.choice(["eu", "us"]))]
        workloads.append({"href": "%s/workloads/c%d" % (org, i), "name": "c-%04d" % i, "hostname": "c-%04d" % i,
                          "labels": [{"href": h} for h in ls], "managed": True,
                          "interfaces": [{"name": "eth0", "address": "10.20.%d.%d" % (i // 250, i % 250 + 1)}]})
    for d in range(databases):
        app = apps[d % len(apps)]
        ls = [label("role", "db"), label("app", app)]
        vs = "%s/virtual_services/v%d" % (act, d)
        vss.append({"href": vs, "name": "VS-db-%02d" % d, "labels": [{"href": h} for h in ls],
                    "service_ports": [{"port": 5432, "proto": 6}],
                    "service_addresses": [{"fqdn": "db-%02d.example.rds.amazonaws.com" % d}]})
        w = "%s/workloads/d%d" % (org, d)
        workloads.append({"href": w, "name": "rds-db-%02d" % d, "hostname": "db-%02d" % d, "labels": [],
                          "interfaces": [{"name": "eth0", "address": "10.30.0.%d" % (d + 1)}]})
        bindings.append({"href": "%s/service_bindings/b%d" % (org, d), "virtual_service": {"href": vs},
                         "workload": {"href": w}})
    for k, app in enumerate(apps):
        rules.append({"href": "%s/rule_sets/1/sec_rules/%d" % (act, k + 1), "enabled": True,
                      "providers": [{"label": {"href": label("role", "db")}}, {"label": {"href": label("app", app)}}],
                      "consumers": [{"label": {"href": label("app", app)}}], "ingress_services": [],
                      "resolve_labels_as": {"providers": ["virtual_services"], "consumers": ["workloads"]}})
    return {"labels": labels, "label_groups": [], "workloads": workloads, "virtual_services": vss,
            "service_bindings": bindings, "ip_lists": [], "services": [],
            "rule_sets": [{"href": act + "/rule_sets/1", "name": "databases", "enabled": True, "scopes": [[]],
                           "rules": rules}]}


def flow_log(consumers, databases, rnd, now):
    out = ["version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"]

    def rec(src, dst, action):
        t = now - rnd.randrange(86400)
        out.append("2 123456789012 eni-0a %s %s %d 5432 6 10 840 %d %d %s OK" % (src, dst, 40000 + rnd.randrange(20000), t, t + 59, action))

    for i in range(consumers):
        src = "10.20.%d.%d" % (i // 250, i % 250 + 1)
        own = [d for d in range(databases) if d % 10 == i % 10]
        for _ in range(rnd.randint(1, 3)):
            r = rnd.random()
            d = rnd.choice(own) if r < 0.8 else rnd.randrange(databases)
            rec(src, "10.30.0.%d" % (d + 1), "REJECT" if r > 0.95 else "ACCEPT")
    for j in range(200):
        rec("10.99.%d.%d" % (j % 40, j + 1), "10.30.0.%d" % (rnd.randrange(databases) + 1), "ACCEPT")
    return "\n".join(out) + "\n"


def timed(cmd, **kw):
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit("map_cli_bench: %s failed: %s" % (" ".join(cmd[:2]), r.stderr.strip()))
    return time.perf_counter() - t, r


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--moat", required=True)
    p.add_argument("--consumers", type=int, default=1000)
    p.add_argument("--databases", type=int, default=50)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--smoke", action="store_true", help="100 consumers x 10 databases, one run")
    a = p.parse_args()
    if a.smoke:
        a.consumers, a.databases, a.runs = 100, 10, 1
    rnd = random.Random(20261129)
    now = int(time.time())
    with tempfile.TemporaryDirectory(prefix="moat-map-bench-") as d:
        with open(os.path.join(d, "policy.json"), "w") as f:
            json.dump(bundle(a.consumers, a.databases, rnd), f)
        with open(os.path.join(d, "flows.log"), "w") as f:
            f.write(flow_log(a.consumers, a.databases, rnd, now))
        base = [a.moat, "map", "--policy", os.path.join(d, "policy.json"), "--state", os.path.join(d, "state"),
                "--since", "all", "--quiet"]
        timed(base + ["--out", os.path.join(d, "map.dot"), "--flows", os.path.join(d, "flows.log")])
        html, dot = [], []
        summary = ""
        for _ in range(a.runs):
            s, r = timed(base + ["--out", os.path.join(d, "map.html")])
            html.append(s)
            summary = r.stderr.splitlines()[0]
            s, _ = timed(["dot", "-Tsvg", "-o", os.path.join(d, "dot.svg"), os.path.join(d, "map.dot")])
            dot.append(s)
        print("map %d consumers x %d databases: moat map --out map.html median %.2f s; baseline dot -Tsvg on its "
              "DOT median %.2f s (ratio %.2f)" % (a.consumers, a.databases, statistics.median(html),
                                                  statistics.median(dot), statistics.median(html) / statistics.median(dot)))
        print("  " + summary.replace("moat: map: ", ""))


if __name__ == "__main__":
    main()
