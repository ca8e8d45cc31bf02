#!/usr/bin/env python3
"""Prepares a moto_server started with INITIAL_NO_AUTH_ACTION_COUNT=4 for signed requests: creates
an IAM user allowed everything and its access key (the four unsigned calls), then, signed with
that key, a VPC with two databases, each on a hand-made group open to the world on its port, each
with a stand-in for its network interface (moto makes none; Description=RDSNetworkInterface):
orders-db (PostgreSQL instance, 10.0.2.45) and ledger (Aurora PostgreSQL cluster with one member
instance, ledger-1; 10.0.3.60). Prints {"access_key_id", "secret_access_key", "vpc_id", "db_group",
"cluster_group", "cluster_endpoint", "secret_arn"} as JSON; the secret moat/pce holds the PCE test
server's API secret.
With BUCKET and DIR, also creates the bucket and uploads every file under DIR (key = its path
relative to DIR, '=' written as '-'). Usage: moto_setup.py ENDPOINT [BUCKET DIR]"""
import json
import sys

import boto3


def main():
    endpoint = sys.argv[1]
    common = dict(endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    iam = boto3.client("iam", **common)
    iam.create_user(UserName="moat")
    policy = iam.create_policy(PolicyName="everything", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    iam.attach_user_policy(UserName="moat", PolicyArn=policy["Policy"]["Arn"])
    key = iam.create_access_key(UserName="moat")["AccessKey"]
    ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    # A database to protect: orders-db (PostgreSQL) in the VPC, on one hand-made group.
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    subnet_b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.3.0/24", AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="hand-made", Description="hand-made", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    ec2.create_network_interface(SubnetId=subnet, Description="RDSNetworkInterface", Groups=[sg],
                                 PrivateIpAddress="10.0.2.45")
    rds = boto3.client("rds", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    rds.create_db_subnet_group(DBSubnetGroupName="db-subnets", DBSubnetGroupDescription="db",
                               SubnetIds=[subnet, subnet_b])
    rds.create_db_instance(DBInstanceIdentifier="orders-db", DBInstanceClass="db.t3.micro", Engine="postgres",
                           AllocatedStorage=20, MasterUsername="app", MasterUserPassword="not-a-secret-0",
                           DBSubnetGroupName="db-subnets", VpcSecurityGroupIds=[sg],
                           Tags=[{"Key": "team", "Value": "payments"}])
    # ledger: an Aurora cluster (its security groups belong to the cluster, not to its instances).
    csg = ec2.create_security_group(GroupName="ledger-legacy", Description="hand-made", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=csg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    cluster = rds.create_db_cluster(DBClusterIdentifier="ledger", Engine="aurora-postgresql", MasterUsername="app",
                                    MasterUserPassword="not-a-secret-0", DBSubnetGroupName="db-subnets",
                                    VpcSecurityGroupIds=[csg], Tags=[{"Key": "team", "Value": "finance"}])["DBCluster"]
    rds.create_db_instance(DBInstanceIdentifier="ledger-1", DBInstanceClass="db.r5.large", Engine="aurora-postgresql",
                           DBClusterIdentifier="ledger")
    ec2.create_network_interface(SubnetId=subnet_b, Description="RDSNetworkInterface", Groups=[csg],
                                 PrivateIpAddress="10.0.3.60")
    # The PCE's API secret, kept as the Lambda function keeps it (tests/pce_server.h kPceSecret).
    secrets = boto3.client("secretsmanager", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
    secret_arn = secrets.create_secret(Name="moat/pce", SecretString="test-secret-0123456789")["ARN"]
    if len(sys.argv) > 3:
        import os
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"])
        bucket, root = sys.argv[2], sys.argv[3]
        s3.create_bucket(Bucket=bucket)
        for dirpath, _, files in os.walk(root):
            for name in files:
                path = os.path.join(dirpath, name)
                # moto's S3 signature check rejects keys with '=' (Hive-style partitions) although
                # boto3 and AWS accept them: spell those as '-' here.
                s3.upload_file(path, bucket, os.path.relpath(path, root).replace("=", "-"))
    print(json.dumps({"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"],
                      "vpc_id": vpc, "db_group": sg, "cluster_group": csg,
                      "cluster_endpoint": cluster["Endpoint"], "secret_arn": secret_arn}))


if __name__ == "__main__":
    main()
