// The RDS estate as the commands that act on databases see it (plan, apply, pce sync): the
// instances and Aurora clusters in a fixed number of reads, the ones --target selects, and their
// current private addresses.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "aws/ec2.h"
#include "aws/rds.h"
#include "base/result.h"

namespace moat::app {

// "<id>" for an instance, "cluster/<id>" for an Aurora cluster (DESIGN.md §8).
std::string TargetId(const aws::Database& db);

// Whether a --target selector (an identifier, cluster/<id>, tag:KEY or tag:KEY=VALUE) names `db`.
bool Selects(const std::string& selector, const aws::Database& db);

// Every instance and Aurora cluster, in two paginated reads. An Aurora member instance is left
// out: it is its cluster's.
Result<std::vector<aws::Database>> ReadDatabases(aws::Rds& rds);

// The databases the selectors name, each once, in the order of `databases`; all of them when
// there is no selector. A selector that names none adds a line to `errors`.
std::vector<const aws::Database*> Choose(const std::vector<aws::Database>& databases,
                                         const std::vector<std::string>& selectors, std::vector<std::string>& errors);

struct AddressLookup {
  std::vector<std::string> addresses;  // empty when not found
  std::string warning;                 // why not, when not found
};

// The private addresses of each database: its endpoint resolved (`resolve`, when set), else the
// one RDS network interface in its VPC (`vpc_of`; "" for any) that carries exactly its security
// groups — one DescribeNetworkInterfaces for all of them, only when a name did not resolve.
Result<std::map<const aws::Database*, AddressLookup>> FindAddresses(
    const std::vector<const aws::Database*>& databases, aws::Ec2& ec2,
    const std::function<std::vector<std::string>(const std::string& host)>& resolve,
    const std::function<std::string(const aws::Database&)>& vpc_of);

}  // namespace moat::app
