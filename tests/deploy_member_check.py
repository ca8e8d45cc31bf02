"""The member role cannot drift from the central function role.

deploy/member.yaml's MemberRole must write exactly what deploy/moat.yaml's FunctionRole writes:
the same statements (by Sid), the same actions, the same tag conditions, and the same resources
with the region widened to every region. It reads what the central role reads, plus
ec2:DescribeRegions. And the member accounts' forwarding rule matches the same CloudTrail calls as
the central stack's rules.

Usage: python3 tests/deploy_member_check.py SOURCE_DIR
Prints one line per difference and exits 1 when there is any.
"""

import sys

try:
    import yaml
except ImportError:  # cfn-lint depends on PyYAML; this python is not cfn-lint's
    print("deploy_member_check: PyYAML not found for", sys.executable, file=sys.stderr)
    sys.exit(1)


class CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short forms (!Sub x) as their long forms ({"Fn::Sub": x})."""


def _construct_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    if suffix == "Condition":
        return {"Condition": value}
    return {"Fn::" + suffix: value}


CfnLoader.add_multi_constructor("!", _construct_tag)


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=CfnLoader)


def statements(template, role):
    """The role's policy statements; a statement under Fn::If counts as present."""
    out = []
    for policy in template["Resources"][role]["Properties"]["Policies"]:
        for st in policy["PolicyDocument"]["Statement"]:
            if isinstance(st, dict) and "Fn::If" in st:
                st = st["Fn::If"][1]
            if isinstance(st, dict) and "Sid" in st:
                out.append(st)
    return out


def actions(st):
    a = st["Action"]
    return sorted(a if isinstance(a, list) else [a])


def is_write(st):
    return any(a.split(":")[0] in ("ec2", "rds") and ":Describe" not in a for a in actions(st))


def resources(st):
    """The statement's resource ARNs as text, the region written as "*"."""
    r = st["Resource"]
    out = []
    for one in r if isinstance(r, list) else [r]:
        if isinstance(one, dict) and "Fn::Sub" in one:
            sub = one["Fn::Sub"]
            one = sub[0] if isinstance(sub, list) else sub
        if not isinstance(one, str):
            out.append(repr(one))
            continue
        out.append(one.replace("${Region}", "*").replace("${AWS::Region}", "*"))
    return sorted(out)


def pattern_calls(rule):
    p = rule["Properties"]["EventPattern"]
    return (p["detail-type"], p["source"], p["detail"]["eventSource"], p["detail"]["eventName"])


def main():
    if len(sys.argv) != 2:
        print("usage: deploy_member_check.py SOURCE_DIR", file=sys.stderr)
        return 2
    src = sys.argv[1]
    central = load(f"{src}/deploy/moat.yaml")
    member = load(f"{src}/deploy/member.yaml")
    problems = []

    c_writes = {st["Sid"]: st for st in statements(central, "FunctionRole") if is_write(st)}
    m_all = statements(member, "MemberRole")
    m_writes = {st["Sid"]: st for st in m_all if is_write(st)}
    if not c_writes:
        problems.append("moat.yaml: FunctionRole has no EC2/RDS write statement (check is stale)")
    for sid in sorted(set(c_writes) | set(m_writes)):
        c, m = c_writes.get(sid), m_writes.get(sid)
        if c is None:
            continue  # reported below with every other extra statement
        if m is None:
            problems.append(f"member.yaml: MemberRole: no statement {sid} (moat.yaml FunctionRole has it)")
            continue
        if actions(c) != actions(m):
            problems.append(f"member.yaml: MemberRole.{sid}.Action: {actions(m)}, central {actions(c)}")
        if c.get("Condition") != m.get("Condition"):
            problems.append(
                f"member.yaml: MemberRole.{sid}.Condition: {m.get('Condition')}, "
                f"central {c.get('Condition')}")
        if c.get("Effect") != m.get("Effect"):
            problems.append(f"member.yaml: MemberRole.{sid}.Effect differs from the central role's")
        if resources(c) != resources(m):
            problems.append(
                f"member.yaml: MemberRole.{sid}.Resource: {resources(m)}, "
                f"central (region as *) {resources(c)}")

    for st in m_all:
        if st["Sid"] != "Describe" and st["Sid"] not in c_writes:
            problems.append(f"member.yaml: MemberRole.{st['Sid']}: a statement the central role does not have")

    c_reads = set()
    for st in statements(central, "FunctionRole"):
        if st["Sid"] == "Describe":
            c_reads.update(actions(st))
    m_reads = set()
    for st in m_all:
        if st["Sid"] == "Describe":
            m_reads.update(actions(st))
    if m_reads != c_reads | {"ec2:DescribeRegions"}:
        problems.append(
            f"member.yaml: MemberRole.Describe: {sorted(m_reads)}, expected the central role's "
            f"reads and ec2:DescribeRegions: {sorted(c_reads | {'ec2:DescribeRegions'})}")

    calls = pattern_calls(central["Resources"]["ChangeEventRule"])
    for name, rule in (("moat.yaml: MemberChangeEventRule", central["Resources"]["MemberChangeEventRule"]),
                       ("member.yaml: ForwardRule", member["Resources"]["ForwardRule"])):
        if pattern_calls(rule) != calls:
            problems.append(f"{name}: EventPattern matches other calls than moat.yaml's ChangeEventRule")

    for p in problems:
        print("deploy_member_check:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
