#!/usr/bin/env python3
"""IAM access keys in a moto prepared by moto_setup.py, signed with AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY from the environment.
  moto_keys.py ENDPOINT create USER   makes USER (if new, allowed everything) and a new access key;
                                      prints {"id", "secret"}
  moto_keys.py ENDPOINT delete USER ID deletes that key: moto then refuses requests signed with it"""
import json
import os
import sys

import boto3


def main():
    endpoint, command, user = sys.argv[1:4]
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"])
    if command == "create":
        if user not in [u["UserName"] for u in iam.list_users()["Users"]]:
            iam.create_user(UserName=user)
            arn = next(p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"] if p["PolicyName"] == "everything")
            iam.attach_user_policy(UserName=user, PolicyArn=arn)
        key = iam.create_access_key(UserName=user)["AccessKey"]
        print(json.dumps({"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}))
    elif command == "delete":
        iam.delete_access_key(UserName=user, AccessKeyId=sys.argv[4])
    else:
        sys.exit("usage: moto_keys.py ENDPOINT create USER | delete USER ID")


if __name__ == "__main__":
    main()
