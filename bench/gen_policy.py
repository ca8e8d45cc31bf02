#!/usr/bin/env python3
"""Generates a large synthetic policy bundle (PCE JSON shapes), deterministically.

Defaults: 100,000 workloads, 5,000 labels, 2,000 rule sets with 10,000 rules, 1,000 database
targets (virtual services bound to unmanaged workloads), 210 label groups (10 of them environment
groups that a seventh of the scopes use), 100 IP lists, 50 services. Usage: gen_policy.py --out FILE [--workloads N --labels N --rule-sets N --rules N --targets N]
"""
import argparse
import ipaddress
import json
import random


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--workloads", type=int, default=100000)
    p.add_argument("--labels", type=int, default=5000)
    p.add_argument("--rule-sets", type=int, default=2000)
    p.add_argument("--rules", type=int, default=10000)
    p.add_argument("--targets", type=int, default=1000)
    p.add_argument("--seed", type=int, default=20261129)
    a = p.parse_args()
    rnd = random.Random(a.seed)
    org = "/orgs/1"
    act = org + "/sec_policy/active"

    # Labels: a few roles and environments, many apps, some locations.
    keys = {"role": max(10, a.labels // 25), "env": 10, "loc": max(10, a.labels // 50)}
    keys["app"] = a.labels - sum(keys.values())
    labels, by_key = [], {}
    n = 0
    for key, count in keys.items():
        for i in range(count):
            n += 1
            href = "%s/labels/%d" % (org, n)
            labels.append({"href": href, "key": key, "value": "%s-%d" % (key, i)})
            by_key.setdefault(key, []).append(href)
    db_role, web_role = by_key["role"][0], by_key["role"][1]

    groups = []
    for i in range(200):
        key = rnd.choice(["app", "loc", "role"])
        groups.append({"href": "%s/label_groups/lg-%d" % (act, i), "name": "LG-%d" % i, "key": key,
                       "labels": [{"href": h} for h in rnd.sample(by_key[key], 5)],
                       "sub_groups": [{"href": "%s/label_groups/lg-%d" % (act, i - 1)}] if i % 10 and groups and groups[-1]["key"] == key else []})

    # Environment groups ("Non-prod"-like): group k holds env labels k, k+1 and k+2. A seventh of
    # the rule sets scope by one, so that scopes expand per member label.
    env_groups = []
    for k in range(len(by_key["env"])):
        members = [by_key["env"][(k + d) % len(by_key["env"])] for d in range(3)]
        env_groups.append({"href": "%s/label_groups/env-%d" % (act, k), "name": "LG-env-%d" % k, "key": "env",
                           "labels": [{"href": h} for h in members], "sub_groups": []})

    def pick_labels(role):
        return [{"href": role}, {"href": rnd.choice(by_key["app"])}, {"href": rnd.choice(by_key["env"])},
                {"href": rnd.choice(by_key["loc"])}]

    workloads, vss, bindings = [], [], []
    base = int(ipaddress.ip_address("10.0.0.0"))
    for i in range(a.workloads):
        is_db = i < a.targets
        role = db_role if is_db else (web_role if i % 3 else rnd.choice(by_key["role"]))
        w = {"href": "%s/workloads/w-%06d" % (org, i), "name": "host-%d" % i, "hostname": "host-%d.internal" % i,
             "interfaces": [{"name": "eth0", "address": str(ipaddress.ip_address(base + i * 2 + 1)), "cidr_block": 24}],
             "labels": pick_labels(role), "ven": None if is_db else {"href": "%s/vens/%d" % (org, i)}}
        if i % 10 == 0:
            w["interfaces"].append({"name": "eth1", "address": "2001:db8:%x::%x" % (i // 65536, i % 65536 + 1)})
        workloads.append(w)
        if is_db:
            vs = {"href": "%s/virtual_services/vs-%04d" % (act, i), "name": "VS-RDS-db-%d" % i,
                  "service_ports": [{"port": rnd.choice([5432, 3306, 1433]), "proto": 6}],
                  "service_addresses": [{"fqdn": "db-%d.c1example.us-east-1.rds.amazonaws.com" % i}],
                  "labels": w["labels"]}
            vss.append(vs)
            bindings.append({"href": "%s/service_bindings/b-%d" % (org, i), "virtual_service": {"href": vs["href"]},
                             "workload": {"href": w["href"]}, "port_overrides": []})

    ip_lists = []
    for i in range(100):
        ranges = [{"from_ip": "172.%d.%d.0/24" % (16 + i % 16, j), "exclusion": False} for j in range(5)]
        ranges.append({"from_ip": "172.%d.0.10" % (16 + i % 16), "to_ip": "172.%d.0.20" % (16 + i % 16), "exclusion": True})
        ip_lists.append({"href": "%s/ip_lists/%d" % (act, i + 1), "name": "IPL-%d" % i, "ip_ranges": ranges,
                         "fqdns": []})
    services = [{"href": "%s/services/%d" % (act, i + 1), "name": "S-%d" % i,
                 "service_ports": [{"port": 1000 + i * 7, "proto": 6}]} for i in range(50)]

    rule_sets, rules_left = [], a.rules
    for i in range(a.rule_sets):
        per = rules_left // (a.rule_sets - i)
        rules_left -= per
        # Application scopes (app AND env), sometimes two: allow sets stay the size security groups
        # can hold, as a policy meant for them does.
        # Each rule set is about one database's application (so that every database is a target).
        db_labels = workloads[i % a.targets]["labels"]
        app, env = db_labels[1], db_labels[2]
        app, env = {"label": app}, {"label": env}
        scope = [[app, env]]
        if i % 7 == 3:
            env_group = env_groups[by_key["env"].index(env["label"]["href"])]
            scope = [[app, {"label_group": {"href": env_group["href"]}}]]
        if i % 5 == 0:
            scope.append([{"label": {"href": rnd.choice(by_key["app"])}}, env])
        rs_href = "%s/rule_sets/%d" % (act, i + 1)
        rules = []
        for j in range(per):
            kind = rnd.random()
            if kind < 0.4:
                consumers = [{"label": {"href": web_role}}]
            elif kind < 0.6:
                consumers = [{"label_group": {"href": rnd.choice(groups)["href"]}}]
            elif kind < 0.8:
                consumers = [{"ip_list": {"href": rnd.choice(ip_lists)["href"]}}]
            else:
                consumers = [{"label": {"href": rnd.choice(by_key["app"])}}, {"label": {"href": web_role}}]
            # Every rule protects the databases (the targets): half on the virtual service's own port,
            # half on a service's.
            rules.append({"href": "%s/sec_rules/%d" % (rs_href, j + 1), "enabled": True,
                          "providers": [{"label": {"href": db_role}}],
                          "consumers": consumers,
                          "ingress_services": [] if j % 2 == 0 else [{"href": rnd.choice(services)["href"]}],
                          "resolve_labels_as": {"providers": ["virtual_services"], "consumers": ["workloads"]},
                          "unscoped_consumers": kind >= 0.6})
        rule_sets.append({"href": rs_href, "name": "RS-%d" % i, "enabled": True, "scopes": scope, "rules": rules})

    bundle = {"labels": labels, "label_groups": groups + env_groups, "workloads": workloads, "virtual_services": vss,
              "service_bindings": bindings, "ip_lists": ip_lists, "services": services, "rule_sets": rule_sets}
    with open(a.out, "w") as f:
        json.dump(bundle, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
