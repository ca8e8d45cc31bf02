#include "aws/ec2.h"

#include <algorithm>

#include "base/strings.h"

namespace moat::aws {
namespace {

std::string ProtocolWire(int p) {
  switch (p) {
    case 6:
      return "tcp";
    case 17:
      return "udp";
    case 1:
      return "icmp";
    case 58:
      return "icmpv6";
    default:
      return std::to_string(p);
  }
}

// A port (or ICMP type or code) of a rule: -1 when absent (all-traffic rules have none).
Result<int> Port(const pugi::xml_node& item, std::string_view name, std::string_view what) {
  auto v = IntElement(item, name, what, -1, -1, 65535);
  if (!v) return Fail(std::move(v).error());
  return static_cast<int>(*v);
}

void AddPermissions(Params& params, const std::vector<IngressRule>& rules) {
  for (size_t i = 0; i < rules.size(); ++i) {
    const IngressRule& r = rules[i];
    const std::string p = "IpPermissions." + std::to_string(i + 1) + ".";
    params.emplace_back(p + "IpProtocol", ProtocolWire(r.protocol));
    if (r.protocol != -1) {
      params.emplace_back(p + "FromPort", std::to_string(r.from_port));
      params.emplace_back(p + "ToPort", std::to_string(r.to_port));
    }
    const bool v6 = r.cidr.base.is_v6();
    const std::string range = p + (v6 ? "Ipv6Ranges.1." : "IpRanges.1.");
    params.emplace_back(range + (v6 ? "CidrIpv6" : "CidrIp"), net::ToString(r.cidr));
    if (!r.description.empty()) params.emplace_back(range + "Description", r.description);
  }
}

void AddFilters(Params& params, const Filters& filters) {
  for (size_t i = 0; i < filters.size(); ++i) {
    const std::string f = "Filter." + std::to_string(i + 1) + ".";
    params.emplace_back(f + "Name", filters[i].first);
    for (size_t j = 0; j < filters[i].second.size(); ++j) {
      params.emplace_back(f + "Value." + std::to_string(j + 1), filters[i].second[j]);
    }
  }
}

Result<SecurityGroup> ParseGroup(const pugi::xml_node& item) {
  constexpr std::string_view kWhat = "ec2 DescribeSecurityGroups";
  SecurityGroup g;
  g.id = Sub(item, "groupId").text().get();
  g.name = Sub(item, "groupName").text().get();
  g.description = Sub(item, "groupDescription").text().get();
  g.vpc_id = Sub(item, "vpcId").text().get();
  for (const auto& t : Children(Sub(item, "tagSet"), "item"))
    g.tags[Sub(t, "key").text().get()] = Sub(t, "value").text().get();
  for (const auto& perm : Children(Sub(item, "ipPermissions"), "item")) {
    IngressRule base;
    base.protocol = ParseIpProtocol(Sub(perm, "ipProtocol").text().get());
    auto from = Port(perm, "fromPort", kWhat), to = Port(perm, "toPort", kWhat);
    if (!from) return Fail(std::move(from).error());
    if (!to) return Fail(std::move(to).error());
    base.from_port = *from;
    base.to_port = *to;
    for (const char* ranges : {"ipRanges", "ipv6Ranges"}) {
      for (const auto& r : Children(Sub(perm, ranges), "item")) {
        IngressRule rule = base;
        const std::string cidr = Sub(r, ranges == std::string_view("ipRanges") ? "cidrIp" : "cidrIpv6").text().get();
        auto prefix = net::ParsePrefix(cidr);
        if (!prefix) {
          ++g.other_ingress;
          continue;
        }
        rule.cidr = *prefix;
        rule.description = Sub(r, "description").text().get();
        g.ingress.push_back(rule);
      }
    }
    g.other_ingress += static_cast<int>(Children(Sub(perm, "groups"), "item").size() +
                                        Children(Sub(perm, "prefixListIds"), "item").size());
  }
  return g;
}

}  // namespace

int ParseIpProtocol(std::string_view s) {
  if (s == "tcp") return 6;
  if (s == "udp") return 17;
  if (s == "icmp") return 1;
  if (s == "icmpv6") return 58;
  if (s == "-1" || s == "all") return -1;
  return static_cast<int>(ParseInt(s, 0, 255).value_or(-2));
}

Result<std::vector<SecurityGroup>> Ec2::DescribeSecurityGroups(const Filters& filters,
                                                               const std::vector<std::string>& ids) {
  std::vector<SecurityGroup> out;
  std::string token;
  do {
    Params params;
    for (size_t i = 0; i < ids.size(); ++i) params.emplace_back("GroupId." + std::to_string(i + 1), ids[i]);
    AddFilters(params, filters);
    if (ids.empty()) params.emplace_back("MaxResults", "1000");
    if (!token.empty()) params.emplace_back("NextToken", token);
    auto doc = client_.Call("DescribeSecurityGroups", params);
    if (!doc) return Fail(std::move(doc).error());
    const pugi::xml_node root = doc->document_element();
    for (const auto& item : Children(Sub(root, "securityGroupInfo"), "item")) {
      auto group = ParseGroup(item);
      if (!group) return Fail(std::move(group).error());
      out.push_back(std::move(*group));
    }
    token = Sub(root, "nextToken").text().get();
  } while (!token.empty());
  return out;
}

Result<std::string> Ec2::CreateSecurityGroup(const std::string& name, const std::string& description,
                                             const std::string& vpc_id,
                                             const std::map<std::string, std::string>& tags) {
  Params params = {{"GroupName", name}, {"GroupDescription", description}, {"VpcId", vpc_id}};
  if (!tags.empty()) {
    params.emplace_back("TagSpecification.1.ResourceType", "security-group");
    int i = 0;
    for (const auto& [k, v] : tags) {
      ++i;
      params.emplace_back("TagSpecification.1.Tag." + std::to_string(i) + ".Key", k);
      params.emplace_back("TagSpecification.1.Tag." + std::to_string(i) + ".Value", v);
    }
  }
  auto doc = client_.Call("CreateSecurityGroup", params);
  if (!doc) return Fail(std::move(doc).error());
  std::string id = Sub(doc->document_element(), "groupId").text().get();
  if (id.empty()) return Fail(InvalidInput("ec2 CreateSecurityGroup: no groupId in the answer"));
  return id;
}

Status Ec2::AuthorizeIngress(const std::string& group_id, const std::vector<IngressRule>& rules) {
  Params params = {{"GroupId", group_id}};
  AddPermissions(params, rules);
  auto doc = client_.Call("AuthorizeSecurityGroupIngress", params);
  if (!doc) return Fail(std::move(doc).error());
  return {};
}

Status Ec2::RevokeIngress(const std::string& group_id, const std::vector<IngressRule>& rules) {
  Params params = {{"GroupId", group_id}};
  AddPermissions(params, rules);
  auto doc = client_.Call("RevokeSecurityGroupIngress", params);
  if (!doc) return Fail(std::move(doc).error());
  return {};
}

Result<std::vector<IdentifiedRule>> Ec2::DescribeIngressRules(const std::string& group_id) {
  std::vector<IdentifiedRule> out;
  std::string token;
  do {
    Params params = {{"Filter.1.Name", "group-id"}, {"Filter.1.Value.1", group_id}, {"MaxResults", "1000"}};
    if (!token.empty()) params.emplace_back("NextToken", token);
    auto doc = client_.Call("DescribeSecurityGroupRules", params);
    if (!doc) return Fail(std::move(doc).error());
    const pugi::xml_node root = doc->document_element();
    for (const auto& item : Children(Sub(root, "securityGroupRuleSet"), "item")) {
      if (std::string_view(Sub(item, "isEgress").text().get()) == "true") continue;
      std::string cidr = Sub(item, "cidrIpv4").text().get();
      if (cidr.empty()) cidr = Sub(item, "cidrIpv6").text().get();
      IdentifiedRule r;
      r.id = Sub(item, "securityGroupRuleId").text().get();
      r.rule.protocol = ParseIpProtocol(Sub(item, "ipProtocol").text().get());
      auto from = Port(item, "fromPort", "ec2 DescribeSecurityGroupRules");
      auto to = Port(item, "toPort", "ec2 DescribeSecurityGroupRules");
      if (!from) return Fail(std::move(from).error());
      if (!to) return Fail(std::move(to).error());
      r.rule.from_port = *from;
      r.rule.to_port = *to;
      r.rule.description = Sub(item, "description").text().get();
      if (auto prefix = net::ParsePrefix(cidr)) {
        r.rule.cidr = *prefix;
      } else {
        r.reference = Sub(item, "prefixListId").text().get();
        if (r.reference.empty()) r.reference = Sub(Sub(item, "referencedGroupInfo"), "groupId").text().get();
        if (r.reference.empty()) continue;  // nothing moat can name
      }
      out.push_back(std::move(r));
    }
    token = Sub(root, "nextToken").text().get();
  } while (!token.empty());
  return out;
}

Status Ec2::RevokeIngressById(const std::string& group_id, const std::vector<std::string>& rule_ids) {
  Params params = {{"GroupId", group_id}};
  for (size_t i = 0; i < rule_ids.size(); ++i)
    params.emplace_back("SecurityGroupRuleId." + std::to_string(i + 1), rule_ids[i]);
  auto doc = client_.Call("RevokeSecurityGroupIngress", params);
  if (!doc) return Fail(std::move(doc).error());
  return {};
}

Status Ec2::SetRuleDescriptions(const std::string& group_id, const std::vector<IdentifiedRule>& rules) {
  Params params = {{"GroupId", group_id}};
  for (size_t i = 0; i < rules.size(); ++i) {
    const IngressRule& r = rules[i].rule;
    const std::string p = "SecurityGroupRule." + std::to_string(i + 1) + ".";
    params.emplace_back(p + "SecurityGroupRuleId", rules[i].id);
    params.emplace_back(p + "SecurityGroupRule.IpProtocol", ProtocolWire(r.protocol));
    params.emplace_back(p + "SecurityGroupRule.FromPort", std::to_string(r.protocol == -1 ? -1 : r.from_port));
    params.emplace_back(p + "SecurityGroupRule.ToPort", std::to_string(r.protocol == -1 ? -1 : r.to_port));
    params.emplace_back(p + (r.cidr.base.is_v6() ? "SecurityGroupRule.CidrIpv6" : "SecurityGroupRule.CidrIpv4"),
                        net::ToString(r.cidr));
    params.emplace_back(p + "SecurityGroupRule.Description", r.description);
  }
  auto doc = client_.Call("ModifySecurityGroupRules", params);
  if (!doc) return Fail(std::move(doc).error());
  return {};
}

Status Ec2::CreateTags(const std::vector<std::string>& resource_ids, const std::map<std::string, std::string>& tags) {
  Params params;
  for (size_t i = 0; i < resource_ids.size(); ++i)
    params.emplace_back("ResourceId." + std::to_string(i + 1), resource_ids[i]);
  int i = 0;
  for (const auto& [k, v] : tags) {
    ++i;
    params.emplace_back("Tag." + std::to_string(i) + ".Key", k);
    params.emplace_back("Tag." + std::to_string(i) + ".Value", v);
  }
  auto doc = client_.Call("CreateTags", params);
  if (!doc) return Fail(std::move(doc).error());
  return {};
}

Result<std::vector<std::string>> Ec2::DescribeRegions() {
  auto doc = client_.Call("DescribeRegions", {});
  if (!doc) return Fail(std::move(doc).error());
  std::vector<std::string> out;
  for (const auto& item : Children(Sub(doc->document_element(), "regionInfo"), "item")) {
    std::string name = Sub(item, "regionName").text().get();
    const std::string opt_in = Sub(item, "optInStatus").text().get();
    if (name.empty() || opt_in == "not-opted-in") continue;
    out.push_back(std::move(name));
  }
  if (out.empty()) return Fail(InvalidInput("ec2 DescribeRegions: the answer names no region"));
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<NetworkInterface>> Ec2::DescribeNetworkInterfaces(const Filters& filters) {
  std::vector<NetworkInterface> out;
  std::string token;
  do {
    Params params;
    AddFilters(params, filters);
    params.emplace_back("MaxResults", "1000");
    if (!token.empty()) params.emplace_back("NextToken", token);
    auto doc = client_.Call("DescribeNetworkInterfaces", params);
    if (!doc) return Fail(std::move(doc).error());
    const pugi::xml_node root = doc->document_element();
    for (const auto& item : Children(Sub(root, "networkInterfaceSet"), "item")) {
      NetworkInterface n;
      n.id = Sub(item, "networkInterfaceId").text().get();
      n.description = Sub(item, "description").text().get();
      n.vpc_id = Sub(item, "vpcId").text().get();
      n.subnet_id = Sub(item, "subnetId").text().get();
      const std::string primary = Sub(item, "privateIpAddress").text().get();
      if (!primary.empty()) n.private_addresses.push_back(primary);
      for (const auto& a : Children(Sub(item, "privateIpAddressesSet"), "item")) {
        std::string addr = Sub(a, "privateIpAddress").text().get();
        if (!addr.empty() &&
            std::find(n.private_addresses.begin(), n.private_addresses.end(), addr) == n.private_addresses.end()) {
          n.private_addresses.push_back(std::move(addr));
        }
      }
      for (const auto& a : Children(Sub(item, "ipv6AddressesSet"), "item")) {
        std::string addr = Sub(a, "ipv6Address").text().get();
        if (!addr.empty()) n.private_addresses.push_back(std::move(addr));
      }
      for (const auto& g : Children(Sub(item, "groupSet"), "item"))
        n.security_groups.emplace_back(Sub(g, "groupId").text().get());
      out.push_back(std::move(n));
    }
    token = Sub(root, "nextToken").text().get();
  } while (!token.empty());
  return out;
}

}  // namespace moat::aws
