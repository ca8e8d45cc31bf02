#!/usr/bin/env python3
"""The demo estate, in a local AWS emulator (moto, started by scripts/demo.sh on loopback).

  demo_estate.py seed ENDPOINT FLOWLOG_DIR
      Prepares a moto started with INITIAL_NO_AUTH_ACTION_COUNT=4 (signature checking on): an IAM
      user and access key (the four unsigned calls), then, signed with it, a VPC with three
      databases, all on one legacy group open to the world (plus a group of their own), each with
      a stand-in for the network interface RDS would make (Description=RDSNetworkInterface):
        orders-db   PostgreSQL instance      10.0.2.45
        ledger      Aurora PostgreSQL cluster 10.0.2.60 (one member instance, ledger-1)
        reports-db  MySQL instance           10.0.3.12 (not in the demo policy)
      tagged team and environment (which scripts/demo.sh maps to PCE labels with
      samples/demo/labels.json),
      and a bucket, flow-logs, holding the flow-log files under FLOWLOG_DIR. Prints the
      environment for moat as shell assignments.
  demo_estate.py tamper ENDPOINT
      What a hurried operator might do: opens orders-db's managed group to 0.0.0.0/0 and puts the
      legacy group back on orders-db.
  demo_estate.py provision
      What the PCE's admin does once the draft is reviewed: provisions it (POST /sec_policy to the
      PCE of ILLUMIO_PCE_HOST, with ILLUMIO_API_KEY_USERNAME / ILLUMIO_API_KEY_SECRET).
"""
import base64
import json
import os
import sys
import urllib.request

import boto3

REGION = "us-east-1"


def clients(endpoint, key_id, secret):
    common = dict(endpoint_url=endpoint, region_name=REGION, aws_access_key_id=key_id, aws_secret_access_key=secret)
    return boto3.client("ec2", **common), boto3.client("rds", **common), boto3.client("s3", **common)


def seed(endpoint, flowlogs):
    boot = dict(endpoint_url=endpoint, region_name=REGION, aws_access_key_id="bootstrap",
                aws_secret_access_key="bootstrap")
    iam = boto3.client("iam", **boot)
    iam.create_user(UserName="moat")
    policy = iam.create_policy(PolicyName="moat-demo", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    iam.attach_user_policy(UserName="moat", PolicyArn=policy["Policy"]["Arn"])
    key = iam.create_access_key(UserName="moat")["AccessKey"]
    ec2, rds, s3 = clients(endpoint, key["AccessKeyId"], key["SecretAccessKey"])

    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet_a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    subnet_b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.3.0/24", AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    rds.create_db_subnet_group(DBSubnetGroupName="databases", DBSubnetGroupDescription="databases",
                               SubnetIds=[subnet_a, subnet_b])
    legacy = ec2.create_security_group(GroupName="legacy-wide-open", Description="opened in 2019, owner unknown",
                                       VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=legacy, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])

    def own_group(name):
        return ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]

    def stand_in(subnet, groups, address):
        ec2.create_network_interface(SubnetId=subnet, Description="RDSNetworkInterface", Groups=groups,
                                     PrivateIpAddress=address)

    groups = [legacy, own_group("orders-db-sg")]
    rds.create_db_instance(DBInstanceIdentifier="orders-db", DBInstanceClass="db.t3.micro", Engine="postgres",
                           AllocatedStorage=20, MasterUsername="app", MasterUserPassword="demo-only-0",
                           DBSubnetGroupName="databases", VpcSecurityGroupIds=groups,
                           Tags=[{"Key": "team", "Value": "payments"}, {"Key": "environment", "Value": "prod"}])
    stand_in(subnet_a, groups, "10.0.2.45")

    groups = [legacy, own_group("ledger-sg")]
    rds.create_db_cluster(DBClusterIdentifier="ledger", Engine="aurora-postgresql", MasterUsername="app",
                          MasterUserPassword="demo-only-0", DBSubnetGroupName="databases",
                          VpcSecurityGroupIds=groups,
                          Tags=[{"Key": "team", "Value": "finance"}, {"Key": "environment", "Value": "prod"}])
    rds.create_db_instance(DBInstanceIdentifier="ledger-1", DBInstanceClass="db.r5.large",
                           Engine="aurora-postgresql", DBClusterIdentifier="ledger")
    stand_in(subnet_a, groups, "10.0.2.60")

    groups = [legacy, own_group("reports-db-sg")]
    rds.create_db_instance(DBInstanceIdentifier="reports-db", DBInstanceClass="db.t3.micro", Engine="mysql",
                           AllocatedStorage=20, MasterUsername="app", MasterUserPassword="demo-only-0",
                           DBSubnetGroupName="databases", VpcSecurityGroupIds=groups,
                           Tags=[{"Key": "team", "Value": "finance"}, {"Key": "environment", "Value": "dev"}])
    stand_in(subnet_b, groups, "10.0.3.12")

    s3.create_bucket(Bucket="flow-logs")
    for dirpath, _, files in os.walk(flowlogs):
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            # moto's signature check refuses keys with '=' (Hive-style partitions), which AWS
            # accepts: the demo spells them with '-'.
            s3.upload_file(path, "flow-logs", os.path.relpath(path, flowlogs).replace("=", "-"))

    print(f"export AWS_ENDPOINT_URL={endpoint} AWS_REGION={REGION}")
    print(f"export AWS_ACCESS_KEY_ID={key['AccessKeyId']} AWS_SECRET_ACCESS_KEY={key['SecretAccessKey']}")


def tamper(endpoint):
    ec2, rds, _ = clients(endpoint, os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
    managed = ec2.describe_security_groups(
        Filters=[{"Name": "tag:moat:target", "Values": ["orders-db"]}])["SecurityGroups"][0]["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=managed, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
         "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "temporary debugging"}]}])
    legacy = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["legacy-wide-open"]}])["SecurityGroups"][0]["GroupId"]
    rds.modify_db_instance(DBInstanceIdentifier="orders-db", VpcSecurityGroupIds=[managed, legacy],
                           ApplyImmediately=True)
    print(f"authorized tcp 5432 from 0.0.0.0/0 on {managed} (moat-orders-db-1); attached {legacy} "
          "(legacy-wide-open) to orders-db again")


def provision():
    user, secret = os.environ["ILLUMIO_API_KEY_USERNAME"], os.environ["ILLUMIO_API_KEY_SECRET"]
    request = urllib.request.Request(
        os.environ["ILLUMIO_PCE_HOST"] + "/api/v2/orgs/1/sec_policy", method="POST",
        data=json.dumps({"update_description": "rules suggested by moat, reviewed"}).encode(),
        headers={"Authorization": "Basic " + base64.b64encode((user + ":" + secret).encode()).decode(),
                 "Content-Type": "application/json"})
    # Loopback only: no proxy from the environment.
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request) as response:
        version = json.load(response)
    print("provisioned the draft as version %s" % version.get("version"))


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "seed":
        seed(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 3 and sys.argv[1] == "tamper":
        tamper(sys.argv[2])
    elif len(sys.argv) >= 2 and sys.argv[1] == "provision":
        provision()
    else:
        sys.exit(__doc__)
