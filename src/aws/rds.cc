#include "aws/rds.h"

namespace moat::aws {
namespace {

std::vector<std::string> Groups(const pugi::xml_node& item) {
  std::vector<std::string> out;
  for (const auto& m : Children(Sub(item, "VpcSecurityGroups"), "VpcSecurityGroupMembership")) {
    out.emplace_back(Sub(m, "VpcSecurityGroupId").text().get());
  }
  return out;
}

std::map<std::string, std::string> Tags(const pugi::xml_node& item) {
  std::map<std::string, std::string> out;
  for (const auto& t : Children(Sub(item, "TagList"), "Tag"))
    out[Sub(t, "Key").text().get()] = Sub(t, "Value").text().get();
  return out;
}

}  // namespace

Result<std::vector<Database>> Rds::DescribeInstances(const std::string& id) {
  std::vector<Database> out;
  std::string marker;
  do {
    Params params;
    if (!id.empty()) params.emplace_back("DBInstanceIdentifier", id);
    if (!marker.empty()) params.emplace_back("Marker", marker);
    auto doc = client_.Call("DescribeDBInstances", params);
    if (!doc) return Fail(std::move(doc).error());
    const pugi::xml_node result = Child(*doc, "DescribeDBInstancesResult");
    for (const auto& i : Children(Sub(result, "DBInstances"), "DBInstance")) {
      Database d;
      d.id = Sub(i, "DBInstanceIdentifier").text().get();
      d.engine = Sub(i, "Engine").text().get();
      d.endpoint = Sub(Sub(i, "Endpoint"), "Address").text().get();
      auto port = IntElement(Sub(i, "Endpoint"), "Port", "rds DescribeDBInstances", 0, 0, 65535);
      if (!port) return Fail(std::move(port).error());
      d.port = static_cast<int>(*port);
      d.vpc_id = Sub(Sub(i, "DBSubnetGroup"), "VpcId").text().get();
      d.status = Sub(i, "DBInstanceStatus").text().get();
      d.cluster_id = Sub(i, "DBClusterIdentifier").text().get();
      d.security_groups = Groups(i);
      d.tags = Tags(i);
      out.push_back(std::move(d));
    }
    marker = Sub(result, "Marker").text().get();
  } while (!marker.empty());
  return out;
}

Result<std::vector<Database>> Rds::DescribeClusters(const std::string& id) {
  std::vector<Database> out;
  std::string marker;
  do {
    Params params;
    if (!id.empty()) params.emplace_back("DBClusterIdentifier", id);
    if (!marker.empty()) params.emplace_back("Marker", marker);
    auto doc = client_.Call("DescribeDBClusters", params);
    if (!doc) return Fail(std::move(doc).error());
    const pugi::xml_node result = Child(*doc, "DescribeDBClustersResult");
    for (const auto& c : Children(Sub(result, "DBClusters"), "DBCluster")) {
      Database d;
      d.cluster = true;
      d.id = Sub(c, "DBClusterIdentifier").text().get();
      d.engine = Sub(c, "Engine").text().get();
      d.endpoint = Sub(c, "Endpoint").text().get();
      auto port = IntElement(c, "Port", "rds DescribeDBClusters", 0, 0, 65535);
      if (!port) return Fail(std::move(port).error());
      d.port = static_cast<int>(*port);
      d.status = Sub(c, "Status").text().get();
      d.security_groups = Groups(c);
      d.tags = Tags(c);
      out.push_back(std::move(d));
    }
    marker = Sub(result, "Marker").text().get();
  } while (!marker.empty());
  return out;
}

Status Rds::SetSecurityGroups(const Database& db, const std::vector<std::string>& group_ids) {
  Params params = {{db.cluster ? "DBClusterIdentifier" : "DBInstanceIdentifier", db.id}, {"ApplyImmediately", "true"}};
  for (size_t i = 0; i < group_ids.size(); ++i) {
    params.emplace_back("VpcSecurityGroupIds.VpcSecurityGroupId." + std::to_string(i + 1), group_ids[i]);
  }
  auto doc = client_.Call(db.cluster ? "ModifyDBCluster" : "ModifyDBInstance", params);
  if (!doc) return Fail(std::move(doc).error());
  return {};
}

}  // namespace moat::aws
