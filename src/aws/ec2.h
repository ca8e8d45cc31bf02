// The EC2 calls moat makes, over a QueryClient: security groups (describe, paginated; create with
// tags; authorize and revoke ingress; rules described one by one and their descriptions changed
// with ModifySecurityGroupRules), tags, and network interfaces (describe, paginated). Values in, values out; the wire
// names are AWS's (reference/aws-apis.md §3). InvalidPermission.Duplicate on authorize is kConflict and
// InvalidPermission.NotFound on revoke kNotFound: callers treat both as converged.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "aws/query.h"
#include "net/address_set.h"

namespace moat::aws {

inline constexpr const char* kEc2ApiVersion = "2016-11-15";

// One ingress rule: one protocol and port range from one CIDR.
struct IngressRule {
  int protocol = 6;   // IANA number; -1 for all traffic
  int from_port = 0;  // -1 when the protocol has no ports
  int to_port = 0;
  net::Prefix cidr;
  std::string description;

  friend bool operator==(const IngressRule& a, const IngressRule& b) {
    return a.protocol == b.protocol && a.from_port == b.from_port && a.to_port == b.to_port && a.cidr == b.cidr;
  }
};

struct SecurityGroup {
  std::string id, name, description, vpc_id;
  std::map<std::string, std::string> tags;
  std::vector<IngressRule> ingress;  // CIDR rules only; rules naming groups or prefix lists are kept apart
  int other_ingress = 0;             // ingress entries that are not CIDRs (group references, prefix lists)
};

// One ingress rule as DescribeSecurityGroupRules has it: with its id (sgr-...). A rule whose
// source is another group or a prefix list has `reference` set (the group or list id) and no CIDR.
struct IdentifiedRule {
  std::string id;
  IngressRule rule;
  std::string reference;
};

struct NetworkInterface {
  std::string id, description, vpc_id, subnet_id;
  std::vector<std::string> private_addresses;  // every private address, primary first
  std::vector<std::string> security_groups;
};

using Filters = std::vector<std::pair<std::string, std::vector<std::string>>>;

class Ec2 {
 public:
  explicit Ec2(QueryClient& client) : client_(client) {}

  // Filters as (name, values), e.g. {"tag:moat:managed", {"true"}}; ids may be empty.
  Result<std::vector<SecurityGroup>> DescribeSecurityGroups(const Filters& filters,
                                                            const std::vector<std::string>& ids = {});
  Result<std::string> CreateSecurityGroup(const std::string& name, const std::string& description,
                                          const std::string& vpc_id, const std::map<std::string, std::string>& tags);
  Status AuthorizeIngress(const std::string& group_id, const std::vector<IngressRule>& rules);
  Status RevokeIngress(const std::string& group_id, const std::vector<IngressRule>& rules);
  // The ingress rules of a group, each with its id (paginated).
  Result<std::vector<IdentifiedRule>> DescribeIngressRules(const std::string& group_id);
  // Revokes ingress rules by id (SecurityGroupRuleId.N).
  Status RevokeIngressById(const std::string& group_id, const std::vector<std::string>& rule_ids);
  // Sets the descriptions of existing rules, named by id; the rules themselves stay as they are.
  Status SetRuleDescriptions(const std::string& group_id, const std::vector<IdentifiedRule>& rules);
  Status CreateTags(const std::vector<std::string>& resource_ids, const std::map<std::string, std::string>& tags);
  Result<std::vector<NetworkInterface>> DescribeNetworkInterfaces(const Filters& filters);
  // The regions enabled for the account (DescribeRegions without AllRegions: opt-in regions the
  // account has not opted in to are left out), by name.
  Result<std::vector<std::string>> DescribeRegions();

 private:
  QueryClient& client_;
};

// "tcp" -> 6, "-1" -> -1, "50" -> 50; -2 when unknown.
int ParseIpProtocol(std::string_view s);

}  // namespace moat::aws
