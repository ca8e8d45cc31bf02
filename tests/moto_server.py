#!/usr/bin/env python3
"""moto_server, with behaviours of AWS that moto lacks:
- when a database's security groups change (ModifyDBInstance / ModifyDBCluster), the network
  interfaces RDS made for it carry the new groups. moto makes no such interface, so tests and the
  demo create stand-ins (Description=RDSNetworkInterface); this keeps a stand-in's groups equal to
  its database's, as AWS does with the real ones;
- the role OrganizationAccountAccessRole that moto makes in an account created through AWS
  Organizations (CreateAccount) is allowed everything, as AWS makes it;
- STS AssumeRole of a role that does not exist in its account, or without the external id its
  trust policy requires, is refused (AccessDenied), as AWS refuses it.
Usage: moto_server.py -H 127.0.0.1 -p PORT (the arguments of moto_server)."""
import json
import sys

from moto import server
from moto.core.exceptions import AccessDeniedError
from moto.ec2.models import ec2_backends
from moto.iam.models import iam_backends
from moto.organizations.models import OrganizationsBackend
from moto.rds import models as rds
from moto.sts.models import STSBackend

EVERYTHING = json.dumps({"Version": "2012-10-17",
                         "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


def follow_groups(backend, old, new):
    """The stand-in interfaces that carried the `old` groups now carry the `new` ones."""
    if not old or sorted(old) == sorted(new):
        return
    ec2 = ec2_backends[backend.account_id][backend.region_name]
    for eni in ec2.enis.values():
        if eni.description == "RDSNetworkInterface" and sorted(g.id for g in eni._group_set) == sorted(old):
            eni._group_set = [ec2.get_security_group_from_id(i) for i in new]


def wrap_instance(original):
    def modify_db_instance(self, db_instance_identifier, db_kwargs):
        old = list(self.describe_db_instances(db_instance_identifier)[0].vpc_security_group_ids or [])
        database = original(self, db_instance_identifier, db_kwargs)
        follow_groups(self, old, list(database.vpc_security_group_ids or []))
        return database
    return modify_db_instance


def wrap_cluster(original):
    def modify_db_cluster(self, kwargs):
        old = list(self.clusters[kwargs["db_cluster_identifier"]].vpc_security_group_ids or [])
        cluster = original(self, kwargs)
        follow_groups(self, old, list(cluster.vpc_security_group_ids or []))
        return cluster
    return modify_db_cluster


def wrap_create_account(original):
    def create_account(self, **kwargs):
        status = original(self, **kwargs)
        account = status["CreateAccountStatus"]["AccountId"]
        # moto makes the role, trusting the management account, but allows it nothing.
        iam_backends[account]["global"].put_role_policy(kwargs.get("RoleName", "OrganizationAccountAccessRole"),
                                                        "AdministratorAccess", EVERYTHING)
        return status
    return create_account


def wrap_assume_role(original):
    def assume_role(self, region_name, role_session_name, role_arn, policy, duration, external_id):
        parts = role_arn.split(":")
        account, name = (parts[4], parts[5].split("/")[-1]) if len(parts) == 6 else (self.account_id, "")
        refused = AccessDeniedError("arn:aws:sts::%s:caller" % self.account_id,
                                    "sts:AssumeRole on resource: %s" % role_arn)
        role = next((r for r in iam_backends[account]["global"].roles.values() if r.name == name), None)
        if role is None:
            raise refused
        trust = json.loads(role.assume_role_policy_document or "{}")
        for statement in trust.get("Statement", []):
            wanted = statement.get("Condition", {}).get("StringEquals", {}).get("sts:ExternalId")
            if wanted is not None and wanted != external_id:
                raise refused
        return original(self, region_name, role_session_name, role_arn, policy, duration, external_id)
    return assume_role


OrganizationsBackend.create_account = wrap_create_account(OrganizationsBackend.create_account)
STSBackend.assume_role = wrap_assume_role(STSBackend.assume_role)
rds.RDSBackend.modify_db_instance = wrap_instance(rds.RDSBackend.modify_db_instance)
rds.RDSBackend.modify_db_cluster = wrap_cluster(rds.RDSBackend.modify_db_cluster)

if __name__ == "__main__":
    server.main(sys.argv[1:])
