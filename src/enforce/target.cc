#include "enforce/target.h"

#include <algorithm>
#include <charconv>

#include "base/strings.h"

namespace moat::enforce {
namespace {

int GroupNumber(const std::string& name) {
  const size_t dash = name.rfind('-');
  if (dash == std::string::npos) return 0;
  int n = 0;
  const char* first = name.data() + dash + 1;
  const char* last = name.data() + name.size();
  const auto [end, ec] = std::from_chars(first, last, n);
  return ec == std::errc() && end == last ? n : 0;
}

plan::SgRule FromIngress(const aws::IngressRule& r) {
  return {r.protocol, r.from_port, r.to_port, r.cidr, r.description};
}

const compile::Target* MatchPolicy(const compile::Compiled& compiled, const aws::Database& db,
                                   const std::vector<std::string>& addresses, std::string& how) {
  for (const compile::Target& t : compiled.targets) {
    if (!db.endpoint.empty() && EqualsIgnoreCase(t.fqdn, db.endpoint)) {
      how = "endpoint";
      return &t;
    }
  }
  for (const std::string& a : addresses) {
    auto address = net::ParseAddress(a);
    if (!address) continue;
    for (const compile::Target& t : compiled.targets) {
      if (t.addresses.Contains(*address)) {
        how = "address";
        return &t;
      }
    }
  }
  return nullptr;
}

bool AdmitsPort(const compile::Target& t, int port) {
  return std::any_of(t.allow.begin(), t.allow.end(), [&](const compile::AllowEntry& e) {
    return e.protocol == -1 || (e.protocol == 6 && e.ports.from <= port && port <= e.ports.to);
  });
}

// Whether the attached group `id` is one --keep-group names (by id, or by the name read).
bool Kept(const estate::Estate& estate, const RunInputs& run, const std::string& id) {
  const std::string name = estate.GroupName(id);
  return std::any_of(run.keep_groups.begin(), run.keep_groups.end(),
                     [&](const std::string& k) { return k == id || (!name.empty() && k == name); });
}

TargetReport Describe(const estate::Estate& estate, const aws::Database& db) {
  TargetReport t;
  t.id = estate::TargetId(db);
  t.cluster = db.cluster;
  t.endpoint = db.endpoint;
  t.port = db.port;
  t.attached = db.security_groups;
  t.vpc_id = estate.VpcOf(db);
  for (const std::string& g : db.security_groups) {
    if (const std::string name = estate.GroupName(g); !name.empty()) t.group_names[g] = name;
  }
  if (auto claims = estate.foreign_claims.find(t.id); claims != estate.foreign_claims.end()) {
    t.foreign_claims = claims->second;
  }
  if (auto it = estate.addresses.find(&db); it != estate.addresses.end()) {
    t.addresses = it->second.addresses;
    t.interfaces = it->second.interfaces;
    if (t.addresses.empty()) t.warnings.push_back(it->second.warning + "; matched by endpoint only");
  }
  return t;
}

// The rules the policy wants on the database (nullopt: keep what was applied), or why it is
// skipped (`skip`) or left untouched (`t.error`); `held` says why the policy's rules are not used.
struct Wanted {
  std::optional<std::vector<plan::SgRule>> rules;
  std::string held, skip;
  bool stop = false;  // t.error is set, or skipped: no plan
};

Wanted PolicyRules(const estate::Estate& estate, const aws::Database& db, bool applied_before, const RunInputs& run,
                   TargetReport& t) {
  Wanted w;
  if (run.compiled == nullptr) {
    if (!applied_before) {
      w.skip = "the policy could not be read, and moat never applied it";
      w.stop = true;
    }
    return w;
  }
  const compile::Target* match = MatchPolicy(*run.compiled, db, t.addresses, t.matched_by);
  if (match == nullptr) {
    const std::string why =
        "no virtual service of the policy has its endpoint " + db.endpoint +
        (t.addresses.empty() ? std::string() : ", and no workload has its address " + t.addresses[0]);
    w.stop = !applied_before;
    if (!applied_before && !run.named_targets) w.skip = why;
    if (!applied_before && run.named_targets) t.error = why + "; left untouched";
    // Applied before, gone from the policy now: keep what was applied (drift is still reverted)
    // and say so; taking its access away is not a decision to make by omission.
    if (applied_before) w.held = why + "; moat applied it before, so what it applied stays enforced";
    return w;
  }
  t.policy_target = match->name;
  for (const std::string& warning : match->warnings) t.warnings.push_back(warning);
  std::vector<net::Address> parsed;
  for (const std::string& a : t.addresses) {
    if (auto address = net::ParseAddress(a)) parsed.push_back(*address);
  }
  compile::Narrowed narrowed = compile::ForAddresses(*match, parsed);
  // A target the policy cannot be compiled for exactly keeps what moat last applied (drift is
  // still reverted) and fails the run.
  const std::string refused = !match->error.empty() ? match->error : narrowed.error;
  if (!refused.empty()) {
    w.stop = !applied_before;
    if (!applied_before) {
      t.error = "the policy cannot be compiled exactly for it: " + refused + "; nothing on it is changed";
    } else {
      w.held = "the policy cannot be compiled exactly for it: " + refused + "; what moat applied before stays enforced";
    }
    return w;
  }
  if (db.port > 0 && !AdmitsPort(narrowed.target, db.port)) {
    t.warnings.push_back("the policy admits nothing on its endpoint port " + std::to_string(db.port));
  }
  w.rules = plan::DesiredRules(narrowed.target);
  if (run.over_permission_budget > 0) {
    int kept = 0;
    for (const std::string& a : db.security_groups) {
      if (!estate.IsManaged(t.id, a) && Kept(estate, run, a)) ++kept;
    }
    const size_t capacity = static_cast<size_t>(std::max(run.quotas.groups_per_interface - kept, 0)) *
                            static_cast<size_t>(run.quotas.rules_per_group);
    plan::Widened widened = plan::Widen(std::move(*w.rules), capacity, run.over_permission_budget);
    for (const plan::Widening& x : widened.widenings) t.widened.push_back(plan::DescribeWidening(x));
    w.rules = std::move(widened.rules);
  }
  return w;
}

plan::ReconcileInput ReconcileInputFor(const estate::Estate& estate, const aws::Database& db,
                                       const std::optional<std::vector<plan::SgRule>>& last_applied,
                                       const RunInputs& run, TargetReport& t) {
  plan::ReconcileInput in;
  in.target_id = t.id;
  in.last_applied = last_applied;
  if (auto managed = estate.managed_by_target.find(t.id); managed != estate.managed_by_target.end()) {
    for (const aws::SecurityGroup* g : managed->second) {
      plan::GroupState s{g->id, g->name,          GroupNumber(g->name),
                         {},    g->other_ingress, estate.tags_missing.count(g->id) > 0};
      for (const aws::IngressRule& r : g->ingress) s.rules.push_back(FromIngress(r));
      in.managed.push_back(std::move(s));
      t.group_names[g->id] = g->name;
    }
  }
  in.attached = db.security_groups;
  in.quotas = run.quotas;
  in.guards = run.guards;
  for (const std::string& a : db.security_groups) {
    if (estate.IsManaged(t.id, a)) continue;
    auto g = estate.groups_by_id.find(a);
    const bool keep = Kept(estate, run, a);
    if (keep) in.keep.push_back(a);
    if (g == estate.groups_by_id.end()) {
      in.foreign_references = true;  // not readable: what it admits is not known
      continue;
    }
    for (const aws::IngressRule& r : g->second->ingress) {
      in.foreign_rules.push_back(FromIngress(r));
      if (keep) in.kept_rules.push_back(FromIngress(r));
    }
    if (g->second->other_ingress > 0) in.foreign_references = true;
  }
  return in;
}

std::vector<const traffic::Flow*> ObservedTo(const ObservedIndex& index, uint32_t place, const TargetReport& t) {
  std::vector<const traffic::Flow*> out;
  for (const std::string& a : t.addresses) {
    if (const auto address = net::ParseAddress(a)) index.Append(place, *address, t.interfaces, t.vpc_id, out);
  }
  return out;
}

}  // namespace

ObservedIndex::ObservedIndex(const std::vector<traffic::Flow>& flows, const traffic::FlowPlaces* places)
    : places_(places), first_(flows.data()) {
  const bool placed = places != nullptr && places->of.size() == flows.size();
  for (size_t i = 0; i < flows.size(); ++i) {
    const uint32_t place = placed ? places->of[i] : 0;
    std::vector<const traffic::Flow*>& to = flows_[{place, flows[i].key.responder}];
    if (to.empty()) places_at_[flows[i].key.responder].push_back(place);
    to.push_back(&flows[i]);
  }
  if (places != nullptr && places->interface_of.size() == flows.size()) {
    for (size_t n = 1; n < places->interfaces.size(); ++n) interface_numbers_.emplace(places->interfaces[n], n);
  }
}

void ObservedIndex::AddDatabase(uint32_t place, const net::Address& address, const std::vector<std::string>& interfaces,
                                const std::string& vpc) {
  databases_.insert({place, address});
  if (!vpc.empty()) database_vpcs_.emplace(address, vpc);
  for (const std::string& name : interfaces) {
    if (const auto n = interface_numbers_.find(name); n != interface_numbers_.end()) {
      database_interfaces_.insert(n->second);
    }
  }
}

std::vector<std::string> ObservedIndex::OtherInterfaces(uint32_t place, const net::Address& address) const {
  std::set<uint32_t> found;
  const auto there = places_at_.find(address);
  if (there == places_at_.end() || interface_numbers_.empty()) return {};
  for (const uint32_t p : there->second) {
    if (place != kEveryPlace && p != 0 && p != place) continue;
    for (const traffic::Flow* f : flows_.at({p, address})) {
      const uint32_t at = InterfaceOf(f);
      if (at != 0 && database_interfaces_.count(at) == 0) found.insert(at);
    }
  }
  std::vector<std::string> out;
  out.reserve(found.size());
  for (const uint32_t at : found) out.push_back(places_->interfaces[at]);
  return out;
}

void ObservedIndex::SetInterfaceVpc(const std::string& name, const std::string& vpc) {
  if (const auto n = interface_numbers_.find(name); n != interface_numbers_.end() && !vpc.empty()) {
    interface_vpcs_[n->second] = vpc;
  }
}

void ObservedIndex::Append(uint32_t place, const net::Address& address, const std::vector<std::string>& interfaces,
                           const std::string& vpc, std::vector<const traffic::Flow*>& out) const {
  const auto there = places_at_.find(address);
  if (there == places_at_.end()) return;
  std::unordered_set<uint32_t> own;
  for (const std::string& name : interfaces) {
    if (const auto n = interface_numbers_.find(name); n != interface_numbers_.end()) own.insert(n->second);
  }
  for (const uint32_t p : there->second) {
    const bool of_place = place == kEveryPlace || p == 0 || p == place || databases_.count({p, address}) == 0;
    const std::vector<const traffic::Flow*>& flows = flows_.at({p, address});
    if (database_interfaces_.empty() && interface_vpcs_.empty()) {
      if (of_place) out.insert(out.end(), flows.begin(), flows.end());
      continue;
    }
    for (const traffic::Flow* f : flows) {
      const uint32_t at = InterfaceOf(f);
      bool weighs = of_place;
      if (at != 0 && database_interfaces_.count(at) > 0) {
        weighs = own.count(at) > 0;
      } else if (const auto v = at != 0 ? interface_vpcs_.find(at) : interface_vpcs_.end();
                 v != interface_vpcs_.end() && database_vpcs_.count({address, v->second}) > 0) {
        weighs = v->second == vpc;
      }
      if (weighs) out.push_back(f);
    }
  }
}

Planned PlanTarget(const estate::Estate& estate, const aws::Database& db,
                   const std::optional<std::vector<plan::SgRule>>& last_applied, const RunInputs& run) {
  Planned out;
  out.report = Describe(estate, db);
  TargetReport& t = out.report;
  Wanted wanted = PolicyRules(estate, db, last_applied.has_value(), run, t);
  if (wanted.stop) {
    out.skipped = wanted.skip;
    return out;
  }
  plan::ReconcileInput in = ReconcileInputFor(estate, db, last_applied, run, t);
  in.wanted = std::move(wanted.rules);
  std::vector<const traffic::Flow*> observed;
  if (run.observed != nullptr) observed = ObservedTo(*run.observed, run.observed_place, t);
  in.observed = observed;
  auto reconciled = plan::Reconcile(in);
  if (!reconciled) {
    t.error = reconciled.error().message;
    return out;
  }
  t.plan = std::move(*reconciled);
  if (!wanted.held.empty()) t.plan.held = wanted.held;
  if (t.vpc_id.empty() && std::any_of(t.plan.plan.groups.begin(), t.plan.plan.groups.end(),
                                      [](const plan::GroupChange& g) { return g.create; })) {
    t.error = t.id + ": its VPC is unknown (no group attached to it could be read); nothing on it is changed";
  }
  return out;
}

bool Touched(const estate::Estate& estate, const aws::Database& db, const EventScope& scope) {
  const auto has = [](const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  const std::string id = estate::TargetId(db);
  if (has(scope.databases, id)) return true;
  for (const std::string& g : db.security_groups) {
    if (has(scope.groups, g)) return true;
  }
  if (auto managed = estate.managed_by_target.find(id); managed != estate.managed_by_target.end()) {
    for (const aws::SecurityGroup* g : managed->second) {
      if (has(scope.groups, g->id)) return true;
    }
  }
  if (auto it = estate.addresses.find(&db); it != estate.addresses.end()) {
    for (const std::string& a : it->second.addresses) {
      if (has(scope.addresses, a)) return true;
    }
  }
  return false;
}

}  // namespace moat::enforce
