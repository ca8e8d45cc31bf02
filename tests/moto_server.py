#!/usr/bin/env python3
"""moto_server, with one behaviour of AWS that moto lacks: when a database's security groups change
(ModifyDBInstance / ModifyDBCluster), the network interfaces RDS made for it carry the new groups.
moto makes no such interface, so tests and the demo create stand-ins (Description=RDSNetworkInterface);
this keeps a stand-in's groups equal to its database's, as AWS does with the real ones.
Usage: moto_server.py -H 127.0.0.1 -p PORT (the arguments of moto_server)."""
import sys

from moto import server
from moto.ec2.models import ec2_backends
from moto.rds import models as rds


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


rds.RDSBackend.modify_db_instance = wrap_instance(rds.RDSBackend.modify_db_instance)
rds.RDSBackend.modify_db_cluster = wrap_cluster(rds.RDSBackend.modify_db_cluster)

if __name__ == "__main__":
    server.main(sys.argv[1:])
