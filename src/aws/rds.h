// The RDS calls moat makes, over a QueryClient: describe instances and Aurora clusters
// (paginated), and set their security groups (ModifyDBInstance / ModifyDBCluster with
// VpcSecurityGroupIds.VpcSecurityGroupId.N — the list replaces the whole set, so callers send
// every group the database must keep).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "aws/query.h"

namespace moat::aws {

inline constexpr const char* kRdsApiVersion = "2014-10-31";

struct Database {
  std::string id;  // DBInstanceIdentifier, or the cluster identifier for a cluster
  bool cluster = false;
  std::string engine;  // "postgres", "aurora-mysql", ...
  std::string endpoint;
  int port = 0;
  std::string vpc_id;
  std::string status;
  std::string cluster_id;  // for an instance that belongs to a cluster
  std::vector<std::string> security_groups;
  std::map<std::string, std::string> tags;
};

class Rds {
 public:
  explicit Rds(QueryClient& client) : client_(client) {}

  Result<std::vector<Database>> DescribeInstances(const std::string& id = "");
  Result<std::vector<Database>> DescribeClusters(const std::string& id = "");
  Status SetSecurityGroups(const Database& db, const std::vector<std::string>& group_ids);

 private:
  QueryClient& client_;
};

}  // namespace moat::aws
