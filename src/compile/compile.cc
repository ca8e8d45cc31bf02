#include "compile/compile.h"

#include <algorithm>
#include <deque>
#include <map>
#include <utility>

#include "compile/matcher.h"
#include "compile/segments.h"

namespace moat::compile {
namespace {

using namespace policy;  // NOLINT: the model's names read better unqualified here

// What one side of a rule stands for, as addresses; `error` when that cannot be known exactly.
struct AddressSide {
  net::AddressSet addresses;
  std::string error;
};

// A scope of a rule set that holds a provider, refined to that provider: each label group of the
// scope stands only for the provider's own labels in it, so that an intra-scope consumer must be
// in the same expanded scope (Security Policy Guide, "Use a Label Group in a Scope").
struct Refined {
  uint32_t scope;
  std::vector<ScopeTerm> groups;  // the scope's group terms, narrowed to the provider's labels
};

class Compiler {
 public:
  Compiler(const Policy& p, const CompileOptions& options) : p_(p), m_(p), options_(options) { Prepare(); }

  Compiled Run() {
    Compiled out;
    std::vector<bool> provider(m_.size());
    std::vector<uint32_t> targets = Targets();
    for (uint32_t o : targets) provider[o] = true;
    if (options_.every_virtual_service) {
      for (size_t vs = 0; vs < p_.virtual_services.size(); ++vs) {
        const uint32_t o = m_.IdOf({true, vs});
        if (!provider[o]) targets.push_back(o);
      }
    }
    for (uint32_t o : targets) {
      out.targets.push_back(BuildTarget(o));
      out.targets.back().provider = provider[o];
    }
    std::sort(out.targets.begin(), out.targets.end(), [](const Target& a, const Target& b) { return a.name < b.name; });
    out.warnings = std::move(warnings_);
    return out;
  }

 private:
  struct RuleIds {
    Side providers, consumers;
    std::string problem;             // the rule's, or a label group of its actors cannot be expanded
    bool providers_unknown = false;  // which objects it reaches is not known
  };
  struct RuleSetIds {
    std::vector<ScopeIds> scopes;
    std::vector<std::vector<uint32_t>> members;  // per scope: the objects in it
    std::vector<RuleIds> rules;
    std::string problem;  // which objects it holds is not known
  };

  void Warn(std::string w) {
    if (std::find(warnings_.begin(), warnings_.end(), w) == warnings_.end()) warnings_.push_back(std::move(w));
  }
  static void Note(Target& t, std::string w) {
    if (std::find(t.warnings.begin(), t.warnings.end(), w) == t.warnings.end()) t.warnings.push_back(std::move(w));
  }
  static void Refuse(Target& t, const std::string& why) {
    if (t.error.empty()) t.error = why;
  }

  // Resolves every rule set once, and indexes which objects each scope holds.
  void Prepare() {
    for (const std::string& w : p_.warnings) Warn(w);
    scoped_.resize(m_.size());
    sets_.resize(p_.rule_sets.size());
    for (size_t i = 0; i < p_.rule_sets.size(); ++i) {
      const RuleSet& rs = p_.rule_sets[i];
      if (!rs.enabled) continue;
      RuleSetIds& ids = sets_[i];
      ids.problem = rs.problem;
      for (const Scope& s : rs.scopes) {
        if (ids.problem.empty()) ids.problem = m_.Problem(s);
      }
      if (!ids.problem.empty()) ids.problem = "rule set " + rs.href + ": " + ids.problem;
      for (size_t j = 0; ids.problem.empty() && j < rs.scopes.size(); ++j) {
        ids.scopes.push_back(m_.Resolve(rs.scopes[j]));
        ids.members.push_back(m_.Members(ids.scopes.back()));
        for (uint32_t o : ids.members.back())
          scoped_[o].emplace_back(static_cast<uint32_t>(i), static_cast<uint32_t>(j));
      }
      if (!ids.problem.empty()) unknown_sets_.push_back(i);
      for (size_t k = 0; k < rs.rules.size(); ++k) {
        const Rule& r = rs.rules[k];
        RuleIds rule;
        rule.problem = r.problem;
        rule.providers_unknown = r.providers_unknown;
        if (!r.providers_unknown) {
          rule.providers = m_.Resolve(r.providers);
          if (std::string why = m_.Problem(r.providers); !why.empty() && rule.problem.empty()) {
            rule.problem = "providers: " + why;
            rule.providers_unknown = true;
          }
        }
        if (r.problem.empty()) {
          rule.consumers = m_.Resolve(r.consumers);
          if (std::string why = m_.Problem(r.consumers); !why.empty() && rule.problem.empty()) {
            rule.problem = "consumers: " + why;
          }
        }
        // Override denies whose provider side is addresses reach targets by address (ReachByAddress).
        if (r.enabled && r.override && !rule.providers_unknown &&
            (r.all_ips_except_providers || !rule.providers.ip_lists.empty())) {
          by_address_.emplace_back(i, k);
        }
        ids.rules.push_back(std::move(rule));
      }
    }
  }

  bool InScopeOf(uint32_t o, size_t rs, uint32_t scope) const {
    return std::find(scoped_[o].begin(), scoped_[o].end(), std::make_pair(static_cast<uint32_t>(rs), scope)) !=
           scoped_[o].end();
  }

  // The scopes `scopes` of rule set `rs` refined to provider `o`.
  std::vector<Refined> Refine(uint32_t o, size_t rs, const std::vector<uint32_t>& scopes) const {
    std::vector<Refined> out;
    for (uint32_t j : scopes) {
      Refined r{j, {}};
      for (const ScopeTerm& t : sets_[rs].scopes[j]) {
        if (!t.group || t.exclusion) continue;
        ScopeTerm n = t;
        std::erase_if(n.labels, [&](int l) { return !m_.Has(o, l); });
        r.groups.push_back(std::move(n));
      }
      out.push_back(std::move(r));
    }
    return out;
  }
  static std::vector<int32_t> Key(const std::vector<Refined>& refined) {
    std::vector<int32_t> key;
    for (const Refined& r : refined) {
      key.push_back(static_cast<int32_t>(r.scope));
      for (const ScopeTerm& t : r.groups) {
        key.push_back(-1);
        key.insert(key.end(), t.labels.begin(), t.labels.end());
      }
      key.push_back(-2);
    }
    return key;
  }

  // The objects of the refined scopes of rule set `rs` that `side` selects.
  std::vector<uint32_t> Select(size_t rs, const std::vector<Refined>& scopes, const Side& side,
                               const policy::Resolve& resolve) {
    const RuleSetIds& ids = sets_[rs];
    size_t in_scope = 0;
    for (const Refined& r : scopes) in_scope += ids.members[r.scope].size();
    const auto in_refined = [&](uint32_t o, const Refined& r) {
      return std::all_of(r.groups.begin(), r.groups.end(), [&](const ScopeTerm& t) { return m_.HasAny(o, t.labels); });
    };
    std::vector<uint32_t> out;
    std::vector<uint32_t> candidates = m_.Candidates(side, resolve);
    if (in_scope < candidates.size()) {
      for (const Refined& r : scopes) {
        for (uint32_t o : ids.members[r.scope]) {
          if (in_refined(o, r) && m_.Matches(o, side, resolve)) out.push_back(o);
        }
      }
      std::sort(out.begin(), out.end());
      out.erase(std::unique(out.begin(), out.end()), out.end());
    } else {
      for (uint32_t o : candidates) {
        const bool in = std::any_of(scopes.begin(), scopes.end(),
                                    [&](const Refined& r) { return InScopeOf(o, rs, r.scope) && in_refined(o, r); });
        if (in && m_.Matches(o, side, resolve)) out.push_back(o);
      }
    }
    return out;
  }
  std::vector<Refined> AllScopes(size_t rs) const {
    std::vector<Refined> out;
    for (uint32_t j = 0; j < sets_[rs].scopes.size(); ++j) out.push_back({j, {}});
    return out;
  }

  // The target an object that a rule reaches stands for: a virtual service; the virtual services
  // a workload is bound to; or the workload itself.
  void AddTargets(uint32_t o, std::vector<bool>& seen, std::vector<uint32_t>& out) const {
    const Obj obj = m_.ObjOf(o);
    std::vector<uint32_t> ids;
    if (obj.vs || m_.VirtualServicesOf(obj.index).empty()) {
      ids.push_back(o);
    } else {
      for (size_t vs : m_.VirtualServicesOf(obj.index)) ids.push_back(m_.IdOf({true, vs}));
    }
    for (uint32_t id : ids) {
      if (!seen[id]) out.push_back(id);
      seen[id] = true;
    }
  }

  // Every object an enabled allow rule reaches — or may reach, when which objects it reaches is
  // not known — as targets.
  std::vector<uint32_t> Targets() {
    std::vector<bool> seen(m_.size());
    std::vector<uint32_t> out;
    for (size_t i = 0; i < p_.rule_sets.size(); ++i) {
      const RuleSet& rs = p_.rule_sets[i];
      if (!rs.enabled) continue;
      const bool scope_known = sets_[i].problem.empty();
      for (size_t k = 0; k < rs.rules.size(); ++k) {
        const Rule& r = rs.rules[k];
        if (!r.enabled || r.deny || r.all_ips_except_providers) continue;
        const Side& side = sets_[i].rules[k].providers;
        std::vector<uint32_t> reached;
        if (sets_[i].rules[k].providers_unknown) {
          if (scope_known) {
            for (const auto& members : sets_[i].members) reached.insert(reached.end(), members.begin(), members.end());
          } else {
            reached = m_.All({true, true});
          }
        } else if (scope_known) {
          reached = Select(i, AllScopes(i), side, r.resolve_providers);
        } else {
          for (uint32_t o : m_.Candidates(side, r.resolve_providers)) {
            if (m_.Matches(o, side, r.resolve_providers)) reached.push_back(o);
          }
        }
        for (uint32_t o : reached) AddTargets(o, seen, out);
      }
    }
    return out;
  }

  // The addresses a workload or virtual service stands for on a side: its interfaces (or their
  // subnets), a virtual service its bound workloads'.
  void AddAddresses(uint32_t o, bool subnets, AddressSide& out) {
    const auto add_workload = [&](size_t w) {
      const Workload& wl = p_.workloads[w];
      if (!wl.problem.empty() && out.error.empty()) out.error = "workload " + wl.href + ": " + wl.problem;
      out.addresses.Add(subnets ? wl.subnets : wl.addresses);
      if (subnets && wl.without_subnet > 0) {
        Warn("workload " + wl.href +
             ": an interface without cidr_block stands for its own address on a "
             "use_workload_subnets side");
      }
    };
    const Obj obj = m_.ObjOf(o);
    if (!obj.vs) return add_workload(obj.index);
    for (size_t b : m_.BindingsOf(obj.index)) {
      const ServiceBinding& sb = p_.service_bindings[b];
      if (!sb.problem.empty() && out.error.empty()) out.error = "service binding " + sb.href + ": " + sb.problem;
      if (!sb.container_workload.empty() && out.error.empty()) {
        out.error = "virtual service " + p_.virtual_services[obj.index].href + " is bound to container workload " +
                    sb.container_workload + ", whose addresses moat does not know";
      }
      if (auto w = p_.workload_index.find(sb.workload); w != p_.workload_index.end()) add_workload(w->second);
    }
  }

  // The addresses of the IP lists of a side. FQDN entries cannot become CIDRs: where leaving
  // them out only narrows what is admitted, that is a warning; where it would widen it (`strict`:
  // the side is denied, or complemented), the side cannot be known exactly.
  void AddIpLists(const Side& side, bool strict, AddressSide& out) {
    for (size_t i : side.ip_lists) {
      const IpList& l = p_.ip_lists[i];
      out.addresses.Add(l.addresses);
      for (const auto& f : l.fqdns) {
        if (strict) {
          if (out.error.empty()) out.error = "ip list " + l.name + ": fqdn " + f + " cannot be expressed as a CIDR";
        } else {
          Warn("ip list " + l.name + ": fqdn " + f + " cannot be expressed as a CIDR");
        }
      }
    }
  }

  // The source addresses of rule k of rule set rs, whose intra-scope consumers must be in one of
  // `scopes` (those that hold the provider, refined to it). Computed once per (rule, scopes).
  const AddressSide& Consumers(size_t rs, size_t k, const std::vector<Refined>& scopes) {
    const Rule& r = p_.rule_sets[rs].rules[k];
    auto key = std::make_pair(&r, r.unscoped_consumers ? std::vector<int32_t>{} : Key(scopes));
    if (auto it = consumers_.find(key); it != consumers_.end()) return it->second;
    const Side& side = sets_[rs].rules[k].consumers;
    AddressSide out;
    std::vector<uint32_t> objects;
    if (r.unscoped_consumers) {
      for (uint32_t o : m_.Candidates(side, r.resolve_consumers)) {
        if (m_.Matches(o, side, r.resolve_consumers)) objects.push_back(o);
      }
    } else {
      objects = Select(rs, scopes, side, r.resolve_consumers);
    }
    for (uint32_t o : objects) AddAddresses(o, r.subnets_consumers, out);
    const bool strict = r.all_ips_except_consumers || r.deny;
    AddIpLists(side, strict, out);
    if (r.all_ips_except_consumers) {
      net::AddressSet all = net::Every();
      all.Subtract(out.addresses);
      out.addresses = std::move(all);
    }
    if (out.addresses.empty() && !r.deny) Warn("rule " + r.href + ": consumers resolve to no address");
    return consumers_.emplace(std::move(key), std::move(out)).first->second;
  }

  // The addresses an override-deny rule's IP-based provider side stands for: its IP lists, or
  // with all_ips_except_for_in_providers everything but what its providers resolve to.
  const AddressSide& IpProviders(size_t rs, size_t k) {
    const Rule& r = p_.rule_sets[rs].rules[k];
    if (auto it = ip_providers_.find(&r); it != ip_providers_.end()) return it->second;
    const Side& side = sets_[rs].rules[k].providers;
    AddressSide out;
    if (r.all_ips_except_providers) {
      for (uint32_t o : Select(rs, AllScopes(rs), side, r.resolve_providers)) AddAddresses(o, r.subnets_providers, out);
    }
    // A name in a provider IP list is not a database's private address; complemented, though,
    // leaving it out would deny less than the rule does.
    AddIpLists(side, r.all_ips_except_providers, out);
    if (r.all_ips_except_providers) {
      net::AddressSet all = net::Every();
      all.Subtract(out.addresses);
      out.addresses = std::move(all);
    }
    return ip_providers_.emplace(&r, std::move(out)).first->second;
  }

  // The ports a rule opens on provider `o`: its ingress services, else the virtual service's
  // ports with each binding's port overrides, at that binding's workload's addresses.
  void AddPorts(Obj o, const Rule& r, const net::AddressSet* to, const AddressSide& sources, Target& t,
                std::vector<Contribution>& out) {
    const auto add = [&](const PortSpec& ps, const net::AddressSet* at) {
      out.push_back({&r, ps, &sources.addresses, at});
    };
    if (!r.ports.empty()) {
      for (const PortSpec& ps : r.ports) add(ps, to);
      return;
    }
    if (!o.vs) {
      Note(t, "rule " + r.href + ": no ingress services for a workload provider; it opens nothing");
      return;
    }
    const VirtualService& vs = p_.virtual_services[o.index];
    const auto& bindings = m_.BindingsOf(o.index);
    const bool overridden = std::any_of(bindings.begin(), bindings.end(),
                                        [&](size_t b) { return !p_.service_bindings[b].overrides.empty(); });
    if (!overridden) {
      for (const PortSpec& ps : vs.ports) add(ps, to);
      return;
    }
    for (size_t b : bindings) {  // each binding's overrides at its own workload's addresses
      const ServiceBinding& sb = p_.service_bindings[b];
      auto w = p_.workload_index.find(sb.workload);
      if (w == p_.workload_index.end()) continue;
      const net::AddressSet* at = &p_.workloads[w->second].addresses;
      for (const PortSpec& ps : vs.ports) {
        bool replaced = false;
        for (const PortOverride& po : sb.overrides) {
          if ((po.protocol == ps.protocol || po.protocol == kAllProtocols) && po.port == ps.ports.from) {
            add({ps.protocol, po.to}, at);
            replaced = true;
          }
        }
        if (!replaced) add(ps, at);
      }
    }
  }

  // The rules that reach provider object `p` (the target's virtual service, or a workload of it)
  // and what each gives it at `to` (nullptr: all of the target's addresses).
  void Reach(uint32_t p, const net::AddressSet* to, Target& t, std::vector<Contribution>& allows,
             std::vector<Contribution>& overrides) {
    const Obj obj = m_.ObjOf(p);
    std::vector<std::pair<size_t, std::vector<uint32_t>>> sets;  // rule set, the scopes that hold p
    for (const auto& [set, scope] : scoped_[p]) {
      if (sets.empty() || sets.back().first != set) sets.emplace_back(set, std::vector<uint32_t>{});
      sets.back().second.push_back(scope);
    }
    for (size_t set : unknown_sets_) sets.emplace_back(set, std::vector<uint32_t>{});
    for (const auto& [set, scopes] : sets) {
      const RuleSet& rs = p_.rule_sets[set];
      const bool scope_known = sets_[set].problem.empty();
      for (size_t k = 0; k < rs.rules.size(); ++k) {
        const Rule& r = rs.rules[k];
        if (!r.enabled || (r.deny && !r.override) || r.all_ips_except_providers) continue;
        const RuleIds& ids = sets_[set].rules[k];
        if (!ids.providers_unknown && !m_.Matches(p, ids.providers, r.resolve_providers)) continue;
        if (!scope_known) {
          Refuse(t, sets_[set].problem);
          return;
        }
        if (!ids.problem.empty()) {
          Refuse(t, "rule " + r.href + ": " + ids.problem);
          return;
        }
        for (const std::string& n : ids.providers.nothing) Note(t, "rule " + r.href + ": " + n);
        for (const std::string& n : ids.consumers.nothing) Note(t, "rule " + r.href + ": " + n);
        for (const std::string& q : r.qualifiers) {
          Note(t, "rule " + r.href + ": " + q +
                      ": a security group cannot express it; its addresses and ports "
                      "are applied");
        }
        const AddressSide& sources = Consumers(set, k, Refine(p, set, scopes));
        if (!sources.error.empty()) {
          Refuse(t, "rule " + r.href + ": consumers: " + sources.error);
          return;
        }
        if (r.deny) {
          std::vector<Contribution> denied;
          AddPorts(obj, r, to, sources, t, denied);
          for (const Contribution& c : denied)
            t.override_denied.push_back({r.href, c.ports.protocol, c.ports.ports, *c.sources});
          overrides.insert(overrides.end(), denied.begin(), denied.end());
        } else {
          AddPorts(obj, r, to, sources, t, allows);
        }
      }
      // Plain deny rules cannot take anything away from a security group: collected to report.
      for (size_t k = 0; k < rs.rules.size() && scope_known; ++k) {
        const Rule& r = rs.rules[k];
        if (!r.enabled || !r.deny || r.override || !sets_[set].rules[k].problem.empty() || r.all_ips_except_providers) {
          continue;
        }
        if (!m_.Matches(p, sets_[set].rules[k].providers, r.resolve_providers)) continue;
        const AddressSide& sources = Consumers(set, k, Refine(p, set, scopes));
        for (const PortSpec& ps : r.ports) denies_.push_back({&r, ps, &sources.addresses, nullptr});
      }
    }
  }

  // Override-deny rules whose provider side is addresses (IP lists, all_ips_except_for_in_
  // providers) deny at the target's addresses within them, whatever the target's labels.
  void ReachByAddress(Target& t, std::deque<net::AddressSet>& at, std::vector<Contribution>& overrides) {
    if (t.addresses.empty()) return;
    for (const auto& [set, k] : by_address_) {
      const Rule& r = p_.rule_sets[set].rules[k];
      const RuleIds& ids = sets_[set].rules[k];
      const bool scope_known = sets_[set].problem.empty();
      if (!scope_known && r.all_ips_except_providers) {  // its provider side depends on the scope
        Refuse(t, sets_[set].problem);
        return;
      }
      const AddressSide& providers = IpProviders(set, k);
      net::AddressSet hit = t.addresses.Intersect(providers.addresses);
      if (hit.empty() && providers.error.empty()) continue;
      if (!providers.error.empty() || !scope_known || !ids.problem.empty()) {
        Refuse(t, !scope_known           ? sets_[set].problem
                  : !ids.problem.empty() ? "rule " + r.href + ": " + ids.problem
                                         : "rule " + r.href + ": providers: " + providers.error);
        return;
      }
      const AddressSide& sources = Consumers(set, k, AllScopes(set));
      if (!sources.error.empty()) {
        Refuse(t, "rule " + r.href + ": consumers: " + sources.error);
        return;
      }
      const net::AddressSet* to = hit == t.addresses ? nullptr : &at.emplace_back(std::move(hit));
      for (const PortSpec& ps : r.ports) {
        overrides.push_back({&r, ps, &sources.addresses, to});
        t.override_denied.push_back({r.href, ps.protocol, ps.ports, sources.addresses});
      }
    }
  }

  Target BuildTarget(uint32_t id) {
    const Obj o = m_.ObjOf(id);
    Target t;
    std::vector<Contribution> allows, overrides;
    std::deque<net::AddressSet> at;  // destination sets the contributions point to
    if (o.vs) {
      const VirtualService& vs = p_.virtual_services[o.index];
      t.name = vs.name.empty() ? vs.href : vs.name;
      for (const ServiceAddress& a : vs.addresses) {
        if (t.fqdn.empty() && !a.fqdn.empty()) t.fqdn = a.fqdn;
      }
      if (!vs.problem.empty()) Refuse(t, "virtual service " + vs.href + ": " + vs.problem);
      std::vector<size_t> bound;
      for (size_t b : m_.BindingsOf(o.index)) {
        const ServiceBinding& sb = p_.service_bindings[b];
        if (!sb.problem.empty()) Refuse(t, "service binding " + sb.href + ": " + sb.problem);
        if (!sb.container_workload.empty()) {
          Note(t, "container workload " + sb.container_workload +
                      " is bound to it; a container is not a database, so "
                      "its binding is left out");
        }
        if (auto w = p_.workload_index.find(sb.workload); w != p_.workload_index.end()) {
          bound.push_back(w->second);
          t.addresses.Add(p_.workloads[w->second].addresses);
        }
      }
      Reach(id, nullptr, t, allows, overrides);
      std::sort(bound.begin(), bound.end());
      bound.erase(std::unique(bound.begin(), bound.end()), bound.end());
      for (size_t w : bound) {  // what the rules give the bound workloads themselves
        const Workload& wl = p_.workloads[w];
        if (!wl.problem.empty()) Refuse(t, "workload " + wl.href + ": " + wl.problem);
        Reach(m_.IdOf({false, w}), wl.addresses == t.addresses ? nullptr : &wl.addresses, t, allows, overrides);
      }
    } else {
      const Workload& w = p_.workloads[o.index];
      t.name = !w.name.empty() ? w.name : !w.hostname.empty() ? w.hostname : w.href;
      t.fqdn = w.hostname;
      t.addresses = w.addresses;
      if (!w.problem.empty()) Refuse(t, "workload " + w.href + ": " + w.problem);
      Reach(id, nullptr, t, allows, overrides);
    }
    ReachByAddress(t, at, overrides);
    if (!t.error.empty()) {
      t.allow.clear();
      t.override_denied.clear();
      denies_.clear();
      return t;
    }
    t.allow = AllowEntries(t.addresses, allows, overrides);
    ReportDenies(t);
    return t;
  }

  // Plain deny rules cannot take anything away from a security group: report where they overlap.
  void ReportDenies(const Target& t) {
    for (const auto& d : denies_) {
      for (const AllowEntry& e : t.allow) {
        const bool ports = (d.ports.protocol == e.protocol || d.ports.protocol == kAllProtocols) &&
                           d.ports.ports.from <= e.ports.to && e.ports.from <= d.ports.ports.to;
        if (ports && !d.sources->Intersect(e.sources).empty()) {
          Warn("deny rule " + d.rule->href + " overlaps what allow rules admit to " + t.name +
               "; allow wins over deny, so it is only reported");
          break;
        }
      }
    }
    denies_.clear();
  }

  const Policy& p_;
  Matcher m_;
  CompileOptions options_;
  std::vector<std::string> warnings_;
  std::vector<Contribution> denies_;
  std::map<std::pair<const Rule*, std::vector<int32_t>>, AddressSide> consumers_;  // node-based: stable
  std::map<const Rule*, AddressSide> ip_providers_;
  std::vector<RuleSetIds> sets_;
  std::vector<size_t> unknown_sets_;                   // rule sets whose scopes cannot be read
  std::vector<std::pair<size_t, size_t>> by_address_;  // (rule set, rule): override denies reaching by address
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> scoped_;  // object -> (rule set, scope), sorted
};

}  // namespace

Compiled Compile(const policy::Policy& policy, const CompileOptions& options) {
  return Compiler(policy, options).Run();
}

}  // namespace moat::compile
