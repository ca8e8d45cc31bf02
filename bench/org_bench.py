#!/usr/bin/env python3
"""Benchmark of moat over an AWS Organization against moto: a converged run's AWS calls must grow
with the account-regions, not with the databases, and write nothing; a member account's
hand-made change must be reverted within seconds of its CloudTrail event.

A fresh moto_server (tests/moto_server.py, signature checking on) holds an organisation of
ACCOUNTS member accounts, each with the role moat-member and, in each of REGIONS regions, a VPC
(10.0.0.0/16 in every account: the addresses overlap) with DBS PostgreSQL instances on hand-made
groups open to the world. A policy bundle protects every database by its endpoint. moat runs as
the management account's user, reaching the members through their role:

  1. `moat apply --accounts org --regions R1,R2 --yes --json` brings every database to the policy;
  2. the same apply, converged, REPS times: wall time, AWS calls per account-region, writes (0);
  3. `moat plan` of the first 10 %, 50 % and all of the accounts: the calls grow with the
     account-regions;
(the management account, which holds no database, is one of `--accounts org`'s places too);
  4. `moat watch` over the same accounts: a member's moat group is opened to the world and the
     CloudTrail event of that call is queued, REPS times; the time from queuing to the rule being
     gone, read as the member every 50 ms;
  0. before all that, a flow history from the organisation's log archive (a directory in the
     Control Tower layout, AWSLogs/<account>/vpcflowlogs/<region>/…, every place's databases at the
     same addresses): FLOWS flows per account-region, almost all rejected scans plus the VPN pool's
     sessions, and one client per account-region the policy does not admit. `moat plan
     --allow-breaking` records it (once), then plans from the history alone, REPS times, against
     the same plan without a history (the baseline); every database's what-if must list exactly
     its own account-region's client, never another's at the same address.

Usage: org_bench.py [--moat PATH] [--source-dir DIR] [--accounts 50] [--regions 2] [--dbs 5]
                    [--flows 20000] [--reps 3] [--workdir DIR] [--keep] [--json-out FILE] [--smoke]
"""

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import loopback
from loopback import BenchError, Moto

REGIONS = ["us-east-1", "eu-west-1", "eu-central-1"]
EXTERNAL_ID = "moat-bench-external-id"
SAMPLE_BUNDLE = os.path.join("samples", "policy", "orders-db.bundle.json")
EVERYTHING = json.dumps({"Version": "2012-10-17",
                         "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--source-dir", default=os.path.dirname(HERE),
                   help="the source tree (for the sample bundle and tests/moto_server.py)")
    p.add_argument("--moat", help="path to the moat binary (default SOURCE/build/src/cli/moat)")
    p.add_argument("--accounts", type=int, default=50, help="member accounts (default 50)")
    p.add_argument("--regions", type=int, default=2, choices=[1, 2, 3], help="regions per account (default 2)")
    p.add_argument("--dbs", type=int, default=5, help="databases per account-region (default 5)")
    p.add_argument("--flows", type=int, default=20000, help="flows logged per account-region (default 20000)")
    p.add_argument("--reps", type=int, default=3, help="converged runs, and reverts timed (default 3)")
    p.add_argument("--workdir", help="where bundles, state and logs go (default: a temp dir under /tmp)")
    p.add_argument("--keep", action="store_true", help="keep the default temp workdir")
    p.add_argument("--json-out", help="write the raw measurements to this file")
    p.add_argument("--smoke", action="store_true", help="3 accounts, 2 regions, 2 databases, 1 repetition")
    args = p.parse_args(argv)
    if args.moat is None:
        args.moat = os.path.join(args.source_dir, "build", "src", "cli", "moat")
    if args.smoke:
        args.accounts, args.regions, args.dbs, args.reps, args.flows = 3, 2, 2, 1, 200
    return args


# ---------------------------------------------------------------------------------------------
# moto

def session(key, token=None):
    import boto3  # imported here so --help works without it

    return boto3.Session(aws_access_key_id=key[0], aws_secret_access_key=key[1], aws_session_token=token,
                         region_name="us-east-1")


def member(admin, url, account):
    creds = admin.client("sts", endpoint_url=url).assume_role(
        RoleArn="arn:aws:iam::%s:role/OrganizationAccountAccessRole" % account,
        RoleSessionName="admin")["Credentials"]
    return session((creds["AccessKeyId"], creds["SecretAccessKey"]), creds["SessionToken"])


def seed(url, args, regions):
    """The organisation: the management account's user, ACCOUNTS members with the moat-member role
    and DBS databases db-<i> in each region. Returns (key, [account ids], {account: session})."""
    key = loopback.iam_key(url)
    admin = session(key)
    org = admin.client("organizations", endpoint_url=url)
    org.create_organization(FeatureSet="ALL")
    management = admin.client("sts", endpoint_url=url).get_caller_identity()["Account"]
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "arn:aws:iam::%s:root" % management},
        "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}}}]})
    accounts, sessions = [], {}
    for n in range(args.accounts):
        status = org.create_account(AccountName="member-%02d" % n, Email="m%02d@example.com" % n)
        account = status["CreateAccountStatus"]["AccountId"]
        accounts.append(account)
        s = member(admin, url, account)
        sessions[account] = s
        iam = s.client("iam", endpoint_url=url)
        iam.create_role(RoleName="moat-member", AssumeRolePolicyDocument=trust)
        iam.put_role_policy(RoleName="moat-member", PolicyName="moat", PolicyDocument=EVERYTHING)
        for region in regions:
            ec2 = s.client("ec2", endpoint_url=url, region_name=region)
            rds = s.client("rds", endpoint_url=url, region_name=region)
            vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
            first = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24",
                                      AvailabilityZone=region + "a")["Subnet"]["SubnetId"]
            second = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.3.0/24",
                                       AvailabilityZone=region + "b")["Subnet"]["SubnetId"]
            rds.create_db_subnet_group(DBSubnetGroupName="db-subnets", DBSubnetGroupDescription="db",
                                       SubnetIds=[first, second])
            for i in range(args.dbs):
                group = ec2.create_security_group(GroupName="legacy-%d" % i, Description="hand-made",
                                                  VpcId=vpc)["GroupId"]
                ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
                    {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
                loopback.add_database(ec2, rds, first, "db-%d" % i, group, "10.0.2.%d" % (10 + i))
    return key, accounts, sessions


def bundle(source_dir, regions, dbs):
    """The sample policy's virtual service once per endpoint (db-<i> in each region: the same in
    every account)."""
    with open(os.path.join(source_dir, SAMPLE_BUNDLE)) as f:
        b = json.load(f)
    vs = b["virtual_services"][0]
    b["virtual_services"] = []
    for region in regions:
        for i in range(dbs):
            v = copy.deepcopy(vs)
            v["href"] = "/orgs/1/sec_policy/active/virtual_services/bench-%s-%d" % (region, i)
            v["name"] = "VS-db-%d-%s" % (i, region)
            v["service_addresses"][0]["fqdn"] = "db-%d.aaaaaaaaaa.%s.rds.amazonaws.com" % (i, region)
            b["virtual_services"].append(v)
    return b


# ---------------------------------------------------------------------------------------------
# The runs

def fleet_args(accounts, regions):
    return ["--accounts", ",".join(accounts) if accounts else "org", "--regions", ",".join(regions),
            "--external-id", EXTERNAL_ID]


def calls_per_place(report):
    """The reads of each account-region that has databases, and the writes of all."""
    reads = [p["calls"]["read"] for p in report["places"] if p["targets"]]
    writes = sum(p["calls"]["write"] for p in report["places"])
    return reads, writes


def write_archive(root, accounts, regions, dbs, flows):
    """The log archive: one object per account-region, FLOWS one-record flows to db-<i>
    (10.0.2.10+i) on 5432 — rejected scans from 10.64.0.0/10, the VPN pool's accepted sessions, and
    one accepted session from 10.9.<account>.<region>, which the policy does not admit. Returns
    {place: that client}."""
    start = 1796630400  # 2026-12-07T09:00:00Z
    own = {}
    for a, account in enumerate(accounts):
        for r, region in enumerate(regions):
            place = "%s/%s" % (account, region)
            own[place] = "10.9.%d.%d" % (a, r)
            where = os.path.join(root, "AWSLogs", account, "vpcflowlogs", region, "2026", "12", "07")
            os.makedirs(where, exist_ok=True)
            name = "%s_vpcflowlogs_%s_fl-0a1b2c3d4e5f6%04d_20261207T0900Z_%08x.log" % (account, region, a, a * 7 + r)
            lines = ["version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
                     "start end action log-status"]
            rec = "2 %s eni-0a %%s 10.0.2.%%d 40000 5432 6 1 60 %d %d %%s OK" % (account, start, start + 59)
            lines.append(rec % (own[place], 10, "ACCEPT"))
            for n in range(flows - 1):
                db = 10 + n % dbs
                if n % 10 == 0:
                    client = "192.168.50.%d" % (n // dbs % 128)
                    action = "ACCEPT"
                else:
                    k = n // dbs
                    client = "10.%d.%d.%d" % (64 + (k >> 16) % 64, (k >> 8) % 256, k % 256)
                    action = "REJECT"
                lines.append(rec % (client, db, action))
            with open(os.path.join(where, name), "w") as f:
                f.write("\n".join(lines) + "\n")
    return own


def history_runs(args, env, logs, work, policy, regions, accounts):
    """Step 0: the history recorded once, then plans from it against plans without it."""
    archive = os.path.join(work, "archive")
    t = time.perf_counter()
    own = write_archive(archive, accounts, regions, args.dbs, args.flows)
    generated = time.perf_counter() - t
    where = fleet_args(None, regions) + ["--allow-breaking"]
    with_history = ["--policy", policy, "--state", os.path.join(work, "state-history"), "--json"] + where
    without = ["--policy", policy, "--state", os.path.join(work, "state-none"), "--json"] + where
    record_wall, _, first = loopback.run_moat("plan recording the archive",
                                              [args.moat, "plan", "--flows", archive] + with_history, env, logs)
    walls, base = [], []
    for rep in range(args.reps):
        wall, _, report = loopback.run_moat("plan from the history %d" % rep, [args.moat, "plan"] + with_history,
                                            env, logs)
        walls.append(wall)
        wall, _, _ = loopback.run_moat("plan without a history %d" % rep, [args.moat, "plan"] + without, env, logs)
        base.append(wall)
    # Every database weighs its own account-region's flows only.
    targets, wrong = 0, []
    for p in report["places"]:
        place = "%s/%s" % (p["aws"]["account"], p["aws"]["region"])
        for t in p["targets"]:
            targets += 1
            cut = sorted(c["initiator"] for c in t["cuts"])
            want = [own[place]] if t["id"] == "db-0" else []
            if cut != want:
                wrong.append("%s/%s: cuts %s, want %s" % (place, t["id"], cut[:5], want))
    return {"flows_per_place": args.flows, "flows": max(p.get("what_if", {}).get("flows", 0) for p in report["places"]), "generated_s": generated,
            "record_and_plan_s": record_wall, "wall_s": walls, "median_wall_s": statistics.median(walls),
            "baseline_wall_s": base, "median_baseline_s": statistics.median(base), "targets": targets,
            "misattributed": wrong, "first_flows": max(p.get("what_if", {}).get("flows", 0) for p in first["places"])}


def time_reverts(args, url, env, sessions, accounts, regions, logs, policy, state):
    """Starts `moat watch` over the accounts; REPS times, opens a member's moat group and queues
    the CloudTrail event; returns the seconds to each revert."""
    admin_sqs = session((env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"])).client("sqs", endpoint_url=url)
    queue = admin_sqs.create_queue(QueueName="moat-events", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    worker_env = dict(env, MOAT_ACCOUNTS=",".join(accounts), MOAT_REGIONS=",".join(regions),
                      MOAT_EXTERNAL_ID=EXTERNAL_ID, MOAT_RECONCILE_QUEUE=queue, MOAT_POLICY=policy,
                      MOAT_STATE=state)
    log = open(os.path.join(logs, "watch.err.txt"), "wb")
    worker = subprocess.Popen([args.moat, "watch", "--queue", queue, "--wait-seconds", "1"], env=worker_env,
                              stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    seconds = []
    try:
        for rep in range(args.reps + 1):  # the first warms the worker (its policy, the members' roles)
            account = accounts[(rep * 7) % len(accounts)]
            region = regions[rep % len(regions)]
            ec2 = sessions[account].client("ec2", endpoint_url=url, region_name=region)
            group = ec2.describe_security_groups(
                Filters=[{"Name": "tag:moat:target", "Values": ["db-0"]}])["SecurityGroups"][0]["GroupId"]
            world = {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
            ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[world])
            start = time.perf_counter()
            admin_sqs.send_message(QueueUrl=queue, MessageBody=json.dumps({
                "detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2", "account": account,
                "region": region, "detail": {"eventName": "AuthorizeSecurityGroupIngress",
                                             "requestParameters": {"groupId": group}}}))
            while True:
                rules = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["IpPermissions"]
                if not any(r.get("CidrIp") == "0.0.0.0/0" for p in rules for r in p["IpRanges"]):
                    break
                if time.perf_counter() - start > 60:
                    raise BenchError("no revert within 60 s in %s/%s; see %s" % (account, region, log.name))
                time.sleep(0.05)
            if rep > 0:
                seconds.append(time.perf_counter() - start)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
    return seconds


def bench(args, work):
    regions = REGIONS[:args.regions]
    logs = os.path.join(work, "logs")
    os.makedirs(logs, exist_ok=True)
    out = {"accounts": args.accounts, "regions": args.regions, "dbs_per_place": args.dbs}
    with Moto(args.source_dir, os.path.join(logs, "moto.log"), env=loopback.clean_env()) as moto:
        t = time.perf_counter()
        key, accounts, sessions = seed(moto.url, args, regions)
        out["seed_s"] = time.perf_counter() - t
        policy = os.path.join(work, "policy.json")
        with open(policy, "w") as f:
            json.dump(bundle(args.source_dir, regions, args.dbs), f)
        env = loopback.clean_env(AWS_ACCESS_KEY_ID=key[0], AWS_SECRET_ACCESS_KEY=key[1], AWS_REGION="us-east-1",
                                 AWS_ENDPOINT_URL=moto.url)
        out["history"] = history_runs(args, env, logs, work, policy, regions, accounts)
        state = os.path.join(work, "state")
        base = ["--policy", policy, "--state", state, "--json"]
        wall, _, first = loopback.run_moat("first apply", [args.moat, "apply", "--yes"] + base +
                                           fleet_args(None, regions), env, logs)
        reads, writes = calls_per_place(first)
        out["first_apply"] = {"wall_s": wall, "places": len(first["places"]), "writes": writes,
                              "reads": sum(reads)}
        walls, converged = [], []
        for rep in range(args.reps):
            wall, _, again = loopback.run_moat("converged apply %d" % rep, [args.moat, "apply", "--yes"] + base +
                                               fleet_args(None, regions), env, logs)
            walls.append(wall)
            converged.append(again)
        reads, writes = calls_per_place(converged[-1])
        places = len(converged[-1]["places"])
        out["converged_apply"] = {
            "wall_s": walls, "median_wall_s": statistics.median(walls), "places": places,
            "databases": sum(len(p["targets"]) for p in converged[-1]["places"]),
            "reads_per_place": sorted(set(reads)), "reads": sum(reads), "writes": writes,
            "run_calls": converged[-1]["calls"], "changes": converged[-1]["changes"],
            "per_place_ms": statistics.median(walls) * 1000 / places}
        out["plan_by_accounts"] = []
        for share in (0.1, 0.5, 1.0):
            chosen = accounts[:max(1, int(round(len(accounts) * share)))]
            wall, _, plan = loopback.run_moat("plan %d accounts" % len(chosen), [args.moat, "plan"] + base +
                                              fleet_args(chosen, regions), env, logs)
            reads, writes = calls_per_place(plan)
            out["plan_by_accounts"].append({"accounts": len(chosen), "places": len(plan["places"]),
                                            "reads": sum(reads), "run_calls": plan["calls"], "wall_s": wall})
        out["revert_s"] = time_reverts(args, moto.url, env, sessions, accounts, regions, logs, policy, state)
    return out


def main(argv):
    args = parse_args(argv)
    temp = loopback.make_workdir(args, "moat-org-bench-")
    ok = False
    try:
        m = bench(args, args.workdir)
        ok = True
    except (BenchError, subprocess.CalledProcessError, OSError, ValueError, KeyError) as e:
        print("org_bench: %s" % e, file=sys.stderr)
        return 1
    finally:
        loopback.leave_workdir(args, temp, ok)
    c = m["converged_apply"]
    print("organisation: %d accounts x %d regions x %d databases (seeded in %.0f s)" % (
        m["accounts"], m["regions"], m["dbs_per_place"], m["seed_s"]))
    h = m["history"]
    print("flow history: %d flows (%d per account-region) from the log archive; recorded and planned in %.2f s" % (
        h["flows"], h["flows_per_place"], h["record_and_plan_s"]))
    print("  plan from the history (%d runs): median %.2f s (%s); without a history: median %.2f s (%s); "
          "ratio %.2f" % (len(h["wall_s"]), h["median_wall_s"], ", ".join("%.2f" % w for w in h["wall_s"]),
                          h["median_baseline_s"], ", ".join("%.2f" % w for w in h["baseline_wall_s"]),
                          h["median_wall_s"] / h["median_baseline_s"]))
    print("  %d databases: %d weighed a flow of another account-region%s" % (
        h["targets"], len(h["misattributed"]), "" if not h["misattributed"] else ": " + "; ".join(h["misattributed"][:3])))
    f = m["first_apply"]
    print("first apply: %d account-regions, %d writes, %.2f s" % (f["places"], f["writes"], f["wall_s"]))
    print("converged apply (%d runs): median %.2f s (%s), %.0f ms per account-region" % (
        len(c["wall_s"]), c["median_wall_s"], ", ".join("%.2f" % w for w in c["wall_s"]), c["per_place_ms"]))
    print("  %d account-regions, %d databases: %d reads (%s per account-region with databases), %d writes; "
          "whole run %d reads (with STS and Organizations)" % (c["places"], c["databases"], c["reads"],
                                            "/".join(str(r) for r in c["reads_per_place"]), c["writes"],
                                            c["run_calls"]["reads"]))
    for p in m["plan_by_accounts"]:
        print("plan of %d accounts: %d account-regions, %d reads (%.1f each), whole run %d reads, %.2f s" % (
            p["accounts"], p["places"], p["reads"], p["reads"] / p["places"], p["run_calls"]["reads"], p["wall_s"]))
    if m["revert_s"]:
        print("cross-account tamper reverted, event queued to rule gone: median %.2f s (%s)" % (
            statistics.median(m["revert_s"]), ", ".join("%.2f" % s for s in m["revert_s"])))
    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump(m, fh, indent=1)
    met = c["writes"] == 0 and not c["changes"] and len(c["reads_per_place"]) == 1 and \
        all(s <= 5 for s in m["revert_s"]) and not h["misattributed"]
    print("goal (converged: 0 writes, the same reads in every account-region; reverts within 5 s; every "
          "database weighs its own account-region's flows): %s" % (
        "met" if met else "NOT met"))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
