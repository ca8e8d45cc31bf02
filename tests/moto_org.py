#!/usr/bin/env python3
"""Makes, in a moto prepared by moto_setup.py (signed with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
from the environment: the management account's user), an AWS Organization with four member
accounts, each reached as AWS does through its OrganizationAccountAccessRole (tests/moto_server.py):
  a  the role moat-member (trust requires the external id EXTERNAL_ID); us-east-1: orders-db,
     eu-west-1: billing-db;
  b  the role moat-member (the same trust); eu-west-1: reports-db;
  c  no moat-member role;
  d  closed (SUSPENDED).
Every database is a PostgreSQL instance on a hand-made group open to the world on 5432, in a VPC
10.0.0.0/16 with its interface stand-in at 10.0.2.45: the accounts' addresses overlap each other's
and the management account's orders-db. Prints {"a": id, "b": id, "c": id, "d": id}.
  moto_org.py ENDPOINT EXTERNAL_ID                   makes the organisation
  moto_org.py ENDPOINT tamper ACCOUNT REGION TARGET  opens moat's group of TARGET there to the world
                                                     on 5432, as a member's administrator; prints the group
  moto_org.py ENDPOINT open ACCOUNT REGION TARGET    prints 1 while that rule is there, else 0
  moto_org.py ENDPOINT bucket NAME DIR               makes bucket NAME (the log archive) holding every
                                                     file under DIR, keyed by its path below DIR
  moto_org.py ENDPOINT twin ACCOUNT REGION NAME      makes database NAME there, in a VPC of its own whose
                                                     addresses are the same as the others'
  moto_org.py ENDPOINT interfaces ACCOUNT REGION     prints {database: its interface stand-in} there
  moto_org.py ENDPOINT client ACCOUNT REGION DB      makes a client's interface (10.0.2.99) in DB's VPC;
                                                     prints its id"""
import json
import os
import sys

import boto3

EVERYTHING = json.dumps({"Version": "2012-10-17",
                         "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


def database(session, endpoint, region, name):
    ec2 = session.client("ec2", endpoint_url=endpoint, region_name=region)
    rds = session.client("rds", endpoint_url=endpoint, region_name=region)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24", AvailabilityZone=region + "a")["Subnet"]["SubnetId"]
    subnet_b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.3.0/24",
                                 AvailabilityZone=region + "b")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="hand-made", Description="hand-made", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ec2.create_network_interface(SubnetId=subnet, Description="RDSNetworkInterface", Groups=[sg],
                                 PrivateIpAddress="10.0.2.45")
    rds.create_db_subnet_group(DBSubnetGroupName=name + "-subnets", DBSubnetGroupDescription="db",
                               SubnetIds=[subnet, subnet_b])
    rds.create_db_instance(DBInstanceIdentifier=name, DBInstanceClass="db.t3.micro", Engine="postgres",
                           AllocatedStorage=20, MasterUsername="app", MasterUserPassword="not-a-secret-0",
                           DBSubnetGroupName=name + "-subnets", VpcSecurityGroupIds=[sg])


def member_session(admin, endpoint, account):
    creds = admin.client("sts", endpoint_url=endpoint).assume_role(
        RoleArn="arn:aws:iam::%s:role/OrganizationAccountAccessRole" % account, RoleSessionName="admin")["Credentials"]
    return boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                         aws_session_token=creds["SessionToken"], region_name="us-east-1")


def moat_group(ec2, target):
    groups = ec2.describe_security_groups(Filters=[{"Name": "tag:moat:target", "Values": [target]}])["SecurityGroups"]
    return groups[0]


WORLD = {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}


def main():
    endpoint = sys.argv[1]
    admin = boto3.Session(aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"], region_name="us-east-1")
    if sys.argv[2] == "bucket":
        name, root = sys.argv[3:5]
        s3 = admin.client("s3", endpoint_url=endpoint)
        s3.create_bucket(Bucket=name)
        for where, _, files in os.walk(root):
            for f in files:
                path = os.path.join(where, f)
                s3.upload_file(path, name, os.path.relpath(path, root))
        return
    if sys.argv[2] == "twin":
        account, region, name = sys.argv[3:6]
        database(member_session(admin, endpoint, account), endpoint, region, name)
        return
    if sys.argv[2] == "client":
        account, region, name = sys.argv[3:6]
        session = member_session(admin, endpoint, account)
        ec2 = session.client("ec2", endpoint_url=endpoint, region_name=region)
        rds = session.client("rds", endpoint_url=endpoint, region_name=region)
        db = rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]
        subnet = db["DBSubnetGroup"]["Subnets"][0]["SubnetIdentifier"]
        eni = ec2.create_network_interface(SubnetId=subnet, Description="app server", PrivateIpAddress="10.0.2.99")
        print(eni["NetworkInterface"]["NetworkInterfaceId"])
        return
    if sys.argv[2] == "interfaces":
        account, region = sys.argv[3:5]
        session = member_session(admin, endpoint, account)
        ec2 = session.client("ec2", endpoint_url=endpoint, region_name=region)
        rds = session.client("rds", endpoint_url=endpoint, region_name=region)
        found = {}
        for db in rds.describe_db_instances()["DBInstances"]:
            vpc = db["DBSubnetGroup"]["VpcId"]
            enis = ec2.describe_network_interfaces(Filters=[{"Name": "vpc-id", "Values": [vpc]}, {
                "Name": "description", "Values": ["RDSNetworkInterface"]}])["NetworkInterfaces"]
            found[db["DBInstanceIdentifier"]] = enis[0]["NetworkInterfaceId"]
        print(json.dumps(found))
        return
    if sys.argv[2] in ("tamper", "open"):
        account, region, target = sys.argv[3:6]
        ec2 = member_session(admin, endpoint, account).client("ec2", endpoint_url=endpoint, region_name=region)
        group = moat_group(ec2, target)
        if sys.argv[2] == "tamper":
            ec2.authorize_security_group_ingress(GroupId=group["GroupId"], IpPermissions=[WORLD])
            print(group["GroupId"])
        else:
            print(int(any(r.get("CidrIp") == "0.0.0.0/0" for p in group["IpPermissions"] for r in p["IpRanges"])))
        return
    external_id = sys.argv[2]
    org = admin.client("organizations", endpoint_url=endpoint)
    org.create_organization(FeatureSet="ALL")
    sts = admin.client("sts", endpoint_url=endpoint)
    ids = {}
    for name in "abcd":
        status = org.create_account(AccountName="member-" + name, Email=name + "@example.com")
        ids[name] = status["CreateAccountStatus"]["AccountId"]
    org.close_account(AccountId=ids["d"])
    management = sts.get_caller_identity()["Account"]
    for name in "abc":
        creds = sts.assume_role(RoleArn="arn:aws:iam::%s:role/OrganizationAccountAccessRole" % ids[name],
                                RoleSessionName="setup")["Credentials"]
        member = boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                               aws_session_token=creds["SessionToken"], region_name="us-east-1")
        if name != "c":
            trust = {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "sts:AssumeRole",
                "Principal": {"AWS": "arn:aws:iam::%s:root" % management},
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}}}]}
            iam = member.client("iam", endpoint_url=endpoint)
            iam.create_role(RoleName="moat-member", AssumeRolePolicyDocument=json.dumps(trust))
            iam.put_role_policy(RoleName="moat-member", PolicyName="moat", PolicyDocument=EVERYTHING)
        if name == "a":
            database(member, endpoint, "us-east-1", "orders-db")
            database(member, endpoint, "eu-west-1", "billing-db")
        elif name == "b":
            database(member, endpoint, "eu-west-1", "reports-db")
    print(json.dumps(ids))


if __name__ == "__main__":
    main()
