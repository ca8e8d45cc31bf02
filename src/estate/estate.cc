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

std::vector<std::string> RdsInterfacesOf(const std::vector<std::string>& addresses, const std::string& vpc,
                                         const std::vector<aws::NetworkInterface>& all) {
  std::vector<std::string> out;
  for (const aws::NetworkInterface& n : all) {
    if (!vpc.empty() && n.vpc_id != vpc) continue;
    const bool holds = std::any_of(n.private_addresses.begin(), n.private_addresses.end(), [&](const std::string& a) {
      return std::find(addresses.begin(), addresses.end(), a) != addresses.end();
    });
    if (holds && std::find(out.begin(), out.end(), n.id) == out.end()) out.push_back(n.id);
  }
  return out;
}

namespace {

// The addresses of the one RDS network interface in `vpc` ("": any) that carries exactly the
// database's groups, or why there are none.
AddressLookup ByGroups(const aws::Database& d, const std::string& vpc, const std::vector<aws::NetworkInterface>& all) {
  std::vector<std::string> groups = d.security_groups;
  std::sort(groups.begin(), groups.end());
  std::vector<const aws::NetworkInterface*> candidates;
  for (const aws::NetworkInterface& n : all) {
    std::vector<std::string> a = n.security_groups;
    std::sort(a.begin(), a.end());
    if ((vpc.empty() || n.vpc_id == vpc) && a == groups) candidates.push_back(&n);
  }
  AddressLookup out;
  if (candidates.size() == 1) {
    out.addresses = candidates[0]->private_addresses;
  } else {
    out.warning = "private address not found (" + std::to_string(candidates.size()) +
                  " RDS network interfaces in its VPC carry its groups)";
  }
  return out;
}

}  // namespace

Result<std::map<const aws::Database*, AddressLookup>> FindAddresses(
    const std::vector<const aws::Database*>& databases, aws::Ec2& ec2,
    const std::function<std::vector<std::string>(const std::string& host)>& resolve,
    const std::function<std::string(const aws::Database&)>& vpc_of, bool interfaces) {
  std::map<const aws::Database*, AddressLookup> out;
  bool need_interfaces = interfaces && !databases.empty();
  for (const aws::Database* d : databases) {
    if (resolve && !d->endpoint.empty()) out[d].addresses = resolve(d->endpoint);
    if (out[d].addresses.empty()) need_interfaces = true;
  }
  if (!need_interfaces) return out;
  auto read = ec2.DescribeNetworkInterfaces({{"description", {"RDSNetworkInterface"}}});
  if (!read) return Fail(std::move(read).error());
  for (const aws::Database* d : databases) {
    AddressLookup& found = out[d];
    const std::string vpc = vpc_of(*d);
    if (found.addresses.empty()) found = ByGroups(*d, vpc, *read);
    if (interfaces) found.interfaces = RdsInterfacesOf(found.addresses, vpc, *read);
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

namespace {

bool TaggedFor(const aws::SecurityGroup& g, const std::string& target_id) {
  auto managed = g.tags.find("moat:managed");
  auto target = g.tags.find("moat:target");
  return managed != g.tags.end() && managed->second == "true" && target != g.tags.end() && target->second == target_id;
}

std::string TagTarget(const aws::SecurityGroup& g) {
  auto managed = g.tags.find("moat:managed");
  auto target = g.tags.find("moat:target");
  if (managed == g.tags.end() || managed->second != "true" || target == g.tags.end()) return {};
  return target->second;
}

// The groups to read by id: those attached to the chosen databases and those recorded for them,
// less the ones the tag read returned.
std::vector<std::string> IdsToRead(const Estate& e, const store::EnforcedState& state,
                                   const std::vector<aws::SecurityGroup>& tagged) {
  std::set<std::string> have;
  for (const aws::SecurityGroup& g : tagged) have.insert(g.id);
  std::set<std::string> chosen;
  std::vector<std::string> out;
  const auto add = [&](const std::string& id) {
    if (have.insert(id).second) out.push_back(id);
  };
  for (const aws::Database* d : e.chosen) {
    chosen.insert(TargetId(*d));
    for (const std::string& g : d->security_groups) add(g);
  }
  for (const auto& [id, owned] : state.groups) {
    if (chosen.count(owned.target)) add(id);
  }
  return out;
}

Result<std::vector<aws::SecurityGroup>> ReadById(aws::Ec2& ec2, const std::vector<std::string>& ids) {
  std::vector<aws::SecurityGroup> out;
  for (size_t i = 0; i < ids.size(); i += 200) {
    const std::vector<std::string> chunk(ids.begin() + static_cast<long>(i),
                                         ids.begin() + static_cast<long>(std::min(i + 200, ids.size())));
    auto found = ec2.DescribeSecurityGroups({{"group-id", chunk}});
    if (!found) return Fail(std::move(found).error());
    out.insert(out.end(), std::make_move_iterator(found->begin()), std::make_move_iterator(found->end()));
  }
  return out;
}

// Sorts the groups read into moat's (by the state's record, in the database's VPC) and the
// others, and notes the tag claims, the lost tags, the adopted and the vanished groups.
void Classify(Estate& e, const store::EnforcedState& state, const RecordLookup& lookup,
              std::vector<aws::SecurityGroup> read) {
  std::map<std::string, const aws::Database*> db_by_target;
  for (const aws::Database& d : e.databases) db_by_target[TargetId(d)] = &d;
  std::set<std::string> chosen;
  for (const aws::Database* d : e.chosen) chosen.insert(TargetId(*d));
  for (const aws::SecurityGroup& g : read) e.groups_by_id[g.id] = &g;  // for VpcOf, rebuilt below
  std::vector<std::string> owner(read.size());                         // target id, or "" when not moat's
  for (size_t i = 0; i < read.size(); ++i) {
    const aws::SecurityGroup& g = read[i];
    const auto recorded = state.groups.find(g.id);
    std::string target = recorded != state.groups.end() ? recorded->second.target
                         : state.groups_recorded        ? std::string()
                                                        : TagTarget(g);
    // Tagged as moat's but not in the state read: its own record may say moat made it (the state
    // was saved by a run side by side that had not seen it).
    bool found_record = false;
    if (recorded == state.groups.end() && state.groups_recorded && lookup && !TagTarget(g).empty()) {
      found_record = lookup(g.id, {TagTarget(g), g.vpc_id});
      if (found_record) target = TagTarget(g);
    }
    const auto db = db_by_target.find(target);
    const std::string vpc = db != db_by_target.end() ? e.VpcOf(*db->second) : std::string();
    const bool same_vpc = vpc.empty() || vpc == g.vpc_id;
    if (db != db_by_target.end() && same_vpc &&
        (recorded == state.groups.end() || recorded->second.vpc_id == g.vpc_id)) {
      owner[i] = target;
      if (!TaggedFor(g, target)) e.tags_missing.insert(g.id);
      if (found_record) e.recovered[g.id] = {target, g.vpc_id};
      if (recorded == state.groups.end() && !found_record) e.adopted[g.id] = {target, g.vpc_id};
      continue;
    }
    const std::string claimed = TagTarget(g);
    if (!claimed.empty() && chosen.count(claimed)) {
      e.foreign_claims[claimed].push_back(g.id + " (" + g.name + ") in " + g.vpc_id + ": tagged moat:target=" +
                                          claimed + ", but moat did not create it for that database there");
    }
  }
  e.groups_by_id.clear();
  for (size_t i = 0; i < read.size(); ++i) (owner[i].empty() ? e.foreign : e.managed).push_back(std::move(read[i]));
  size_t m = 0;
  for (size_t i = 0; i < owner.size(); ++i) {
    if (!owner[i].empty()) e.managed_by_target[owner[i]].push_back(&e.managed[m++]);
  }
  for (const aws::SecurityGroup& g : e.managed) e.groups_by_id[g.id] = &g;
  for (const aws::SecurityGroup& g : e.foreign) e.groups_by_id[g.id] = &g;
  for (const auto& [id, owned] : state.groups) {
    if (chosen.count(owned.target) && !e.groups_by_id.count(id)) e.vanished.push_back(id);
  }
}

}  // namespace

Result<Estate> ReadEstate(aws::Ec2& ec2, aws::Rds& rds, const store::EnforcedState& state, const RecordLookup& lookup,
                          const std::vector<std::string>& selectors,
                          const std::function<std::vector<std::string>(const std::string& host)>& resolve,
                          bool interfaces, std::vector<std::string>& errors) {
  Estate e;
  auto dbs = ReadDatabases(rds);
  if (!dbs) return Fail(std::move(dbs).error());
  e.databases = std::move(*dbs);
  e.chosen = Choose(e.databases, selectors, errors);

  auto tagged = ec2.DescribeSecurityGroups({{"tag:moat:managed", {"true"}}});
  if (!tagged) return Fail(std::move(tagged).error());
  auto by_id = ReadById(ec2, IdsToRead(e, state, *tagged));
  if (!by_id) return Fail(std::move(by_id).error());
  std::vector<aws::SecurityGroup> read = std::move(*tagged);
  read.insert(read.end(), std::make_move_iterator(by_id->begin()), std::make_move_iterator(by_id->end()));
  Classify(e, state, lookup, std::move(read));

  auto addresses = FindAddresses(
      e.chosen, ec2, resolve, [&e](const aws::Database& d) { return e.VpcOf(d); }, interfaces);
  if (!addresses) return Fail(std::move(addresses).error());
  e.addresses = std::move(*addresses);
  return e;
}

}  // namespace moat::estate
