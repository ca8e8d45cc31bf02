#include "estate/estate.h"

#include <algorithm>
#include <set>

namespace moat::estate {

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

std::string Estate::VpcOf(const aws::Database& db) const {
  if (!db.vpc_id.empty()) return db.vpc_id;
  for (const std::string& g : db.security_groups) {
    if (auto it = groups_by_id.find(g); it != groups_by_id.end() && !it->second->vpc_id.empty()) {
      return it->second->vpc_id;
    }
  }
  return {};
}

bool Estate::IsManaged(const std::string& target_id, const std::string& group_id) const {
  auto it = managed_by_target.find(target_id);
  if (it == managed_by_target.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](const aws::SecurityGroup* g) { return g->id == group_id; });
}

std::string Estate::GroupName(const std::string& group_id) const {
  auto it = groups_by_id.find(group_id);
  return it == groups_by_id.end() ? std::string() : it->second->name;
}

Result<Estate> ReadEstate(aws::Ec2& ec2, aws::Rds& rds, const std::vector<std::string>& selectors,
                          const std::function<std::vector<std::string>(const std::string& host)>& resolve,
                          std::vector<std::string>& errors) {
  Estate e;
  auto dbs = ReadDatabases(rds);
  if (!dbs) return Fail(std::move(dbs).error());
  e.databases = std::move(*dbs);
  e.chosen = Choose(e.databases, selectors, errors);

  auto managed = ec2.DescribeSecurityGroups({{"tag:moat:managed", {"true"}}});
  if (!managed) return Fail(std::move(managed).error());
  e.managed = std::move(*managed);
  std::set<std::string> managed_ids;
  for (const aws::SecurityGroup& g : e.managed) {
    auto t = g.tags.find("moat:target");
    if (t == g.tags.end()) continue;
    e.managed_by_target[t->second].push_back(&g);
    managed_ids.insert(g.id);
  }
  // The other groups attached to the chosen databases: their names, VPCs and rules.
  std::vector<std::string> foreign_ids;
  for (const aws::Database* d : e.chosen) {
    for (const std::string& g : d->security_groups) {
      if (!managed_ids.count(g) && std::find(foreign_ids.begin(), foreign_ids.end(), g) == foreign_ids.end()) {
        foreign_ids.push_back(g);
      }
    }
  }
  for (size_t i = 0; i < foreign_ids.size(); i += 200) {
    const std::vector<std::string> chunk(
        foreign_ids.begin() + static_cast<long>(i),
        foreign_ids.begin() + static_cast<long>(std::min(i + 200, foreign_ids.size())));
    auto found = ec2.DescribeSecurityGroups({{"group-id", chunk}});
    if (!found) return Fail(std::move(found).error());
    e.foreign.insert(e.foreign.end(), found->begin(), found->end());
  }
  for (const aws::SecurityGroup& g : e.managed) e.groups_by_id[g.id] = &g;
  for (const aws::SecurityGroup& g : e.foreign) e.groups_by_id[g.id] = &g;

  auto addresses = FindAddresses(e.chosen, ec2, resolve, [&e](const aws::Database& d) { return e.VpcOf(d); });
  if (!addresses) return Fail(std::move(addresses).error());
  e.addresses = std::move(*addresses);
  return e;
}

}  // namespace moat::estate
