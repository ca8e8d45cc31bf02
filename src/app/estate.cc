#include "app/estate.h"

#include <algorithm>

namespace moat::app {

std::string TargetId(const aws::Database& db) { return db.cluster ? "cluster/" + db.id : db.id; }

bool Selects(const std::string& selector, const aws::Database& db) {
  if (selector.starts_with("tag:")) {
    const std::string kv = selector.substr(4);
    const size_t eq = kv.find('=');
    if (eq == std::string::npos) return db.tags.count(kv) > 0;
    auto it = db.tags.find(kv.substr(0, eq));
    return it != db.tags.end() && it->second == kv.substr(eq + 1);
  }
  if (selector.starts_with("cluster/")) return db.cluster && db.id == selector.substr(8);
  return db.id == selector;
}

Result<std::vector<aws::Database>> ReadDatabases(aws::Rds& rds) {
  auto instances = rds.DescribeInstances();
  if (!instances) return Fail(std::move(instances).error());
  auto clusters = rds.DescribeClusters();
  if (!clusters) return Fail(std::move(clusters).error());
  std::vector<aws::Database> dbs;
  for (auto& d : *instances) {
    if (d.cluster_id.empty()) dbs.push_back(std::move(d));
  }
  for (auto& c : *clusters) dbs.push_back(std::move(c));
  return dbs;
}

std::vector<const aws::Database*> Choose(const std::vector<aws::Database>& databases,
                                         const std::vector<std::string>& selectors, std::vector<std::string>& errors) {
  std::vector<const aws::Database*> chosen;
  for (const std::string& s : selectors) {
    bool any = false;
    for (const aws::Database& d : databases) {
      if (!Selects(s, d)) continue;
      any = true;
      if (std::find(chosen.begin(), chosen.end(), &d) == chosen.end()) chosen.push_back(&d);
    }
    if (!any) errors.push_back("--target " + s + ": no RDS instance or Aurora cluster has that identifier or tag");
  }
  if (selectors.empty()) {
    for (const aws::Database& d : databases) chosen.push_back(&d);
  }
  return chosen;
}

Result<std::map<const aws::Database*, AddressLookup>> FindAddresses(
    const std::vector<const aws::Database*>& databases, aws::Ec2& ec2,
    const std::function<std::vector<std::string>(const std::string& host)>& resolve,
    const std::function<std::string(const aws::Database&)>& vpc_of) {
  std::map<const aws::Database*, AddressLookup> out;
  bool need_interfaces = false;
  for (const aws::Database* d : databases) {
    if (resolve && !d->endpoint.empty()) out[d].addresses = resolve(d->endpoint);
    if (out[d].addresses.empty()) need_interfaces = true;
  }
  if (!need_interfaces) return out;
  auto interfaces = ec2.DescribeNetworkInterfaces({{"description", {"RDSNetworkInterface"}}});
  if (!interfaces) return Fail(std::move(interfaces).error());
  for (const aws::Database* d : databases) {
    AddressLookup& found = out[d];
    if (!found.addresses.empty()) continue;
    const std::string vpc = vpc_of(*d);
    std::vector<std::string> groups = d->security_groups;
    std::sort(groups.begin(), groups.end());
    std::vector<const aws::NetworkInterface*> candidates;
    for (const aws::NetworkInterface& n : *interfaces) {
      std::vector<std::string> a = n.security_groups;
      std::sort(a.begin(), a.end());
      if ((vpc.empty() || n.vpc_id == vpc) && a == groups) candidates.push_back(&n);
    }
    if (candidates.size() == 1) {
      found.addresses = candidates[0]->private_addresses;
    } else {
      found.warning = "private address not found (" + std::to_string(candidates.size()) +
                      " RDS network interfaces in its VPC carry its groups)";
    }
  }
  return out;
}

}  // namespace moat::app
