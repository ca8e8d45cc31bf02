#include "compile/compile.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace moat::compile {
namespace {

using namespace policy;  // NOLINT: the model's names read better unqualified here

// What a rule side can select: a workload or a virtual service.
struct Obj {
  bool vs = false;
  size_t index = 0;
  friend bool operator==(const Obj&, const Obj&) = default;
};

// Label lookups over a policy: which labels an object carries, label groups expanded, and which
// objects carry a label (an inverted index, so that consumers are found without a scan).
class Matcher {
 public:
  explicit Matcher(const Policy& p) : p_(p) {
    for (size_t i = 0; i < p.workloads.size(); ++i) Index({false, i}, p.workloads[i].labels);
    for (size_t i = 0; i < p.virtual_services.size(); ++i) Index({true, i}, p.virtual_services[i].labels);
    for (const ServiceBinding& b : p.service_bindings) {
      bound_[p.vs_index.at(b.virtual_service)].push_back(p.workload_index.at(b.workload));
      is_bound_.insert(p.workload_index.at(b.workload));
    }
  }

  const std::vector<std::string>& Labels(Obj o) const {
    return o.vs ? p_.virtual_services[o.index].labels : p_.workloads[o.index].labels;
  }
  bool Has(Obj o, const std::string& label) const {
    const auto& l = Labels(o);
    return std::find(l.begin(), l.end(), label) != l.end();
  }

  // Every label of a group and of its sub-groups, nested.
  const std::set<std::string>& GroupLabels(const std::string& id) const {
    auto it = groups_.find(id);
    if (it != groups_.end()) return it->second;
    std::set<std::string> out;
    std::set<std::string> seen;
    std::vector<std::string> todo{id};
    while (!todo.empty()) {
      const std::string g = todo.back();
      todo.pop_back();
      if (!seen.insert(g).second) continue;  // a cycle, or a group reached twice
      const LabelGroup& lg = p_.label_groups[p_.group_index.at(g)];
      out.insert(lg.labels.begin(), lg.labels.end());
      todo.insert(todo.end(), lg.sub_groups.begin(), lg.sub_groups.end());
    }
    return groups_.emplace(id, std::move(out)).first->second;
  }
  bool HasAny(Obj o, const std::set<std::string>& labels) const {
    for (const auto& l : Labels(o)) {
      if (labels.contains(l)) return true;
    }
    return false;
  }

  bool InScope(Obj o, const Scope& scope) const {
    for (const ScopeItem& item : scope) {
      const bool has = item.group ? HasAny(o, GroupLabels(item.ref)) : Has(o, item.ref);
      if (has == item.exclusion) return false;
    }
    return true;
  }

  // Whether `o` is selected by `actors` (one side of a rule), label actors selecting the kinds
  // `resolve` names. The label actors form one clause (same key OR, different keys AND), ORed
  // with every other actor; excluded actors remove what they match.
  bool Matches(Obj o, const std::vector<Actor>& actors, const Resolve& resolve) const {
    const bool kind_ok = o.vs ? resolve.virtual_services : resolve.workloads;
    std::map<std::string, bool> clause;  // key -> satisfied
    bool any = false;
    for (const Actor& a : actors) {
      if (a.exclusion) {
        const bool hit = (a.kind == ActorKind::kLabel && Has(o, a.ref)) ||
                         (a.kind == ActorKind::kLabelGroup && HasAny(o, GroupLabels(a.ref)));
        if (hit) return false;
        continue;
      }
      switch (a.kind) {
        case ActorKind::kAms:
          any |= kind_ok;
          break;
        case ActorKind::kLabel: {
          bool& sat = clause[p_.labels[p_.label_index.at(a.ref)].key];
          sat = sat || Has(o, a.ref);
          break;
        }
        case ActorKind::kLabelGroup:
          any |= kind_ok && HasAny(o, GroupLabels(a.ref));
          break;
        case ActorKind::kWorkload:
          any |= !o.vs && p_.workload_index.at(a.ref) == o.index;
          break;
        case ActorKind::kVirtualService:
          any |= o.vs && p_.vs_index.at(a.ref) == o.index;
          break;
        case ActorKind::kIpList:
          break;
      }
    }
    if (!any && kind_ok && !clause.empty()) {
      any = std::all_of(clause.begin(), clause.end(), [](const auto& kv) { return kv.second; });
    }
    return any;
  }

  // Candidates for a side: every object a non-excluded actor could select (a superset).
  std::vector<Obj> Candidates(const std::vector<Actor>& actors, const Resolve& resolve) const {
    std::vector<Obj> out;
    bool all = false;
    for (const Actor& a : actors) {
      if (a.exclusion) continue;
      switch (a.kind) {
        case ActorKind::kAms:
          all = true;
          break;
        case ActorKind::kLabel:
          Append(a.ref, out);
          break;
        case ActorKind::kLabelGroup:
          for (const auto& l : GroupLabels(a.ref)) Append(l, out);
          break;
        case ActorKind::kWorkload:
          out.push_back({false, p_.workload_index.at(a.ref)});
          break;
        case ActorKind::kVirtualService:
          out.push_back({true, p_.vs_index.at(a.ref)});
          break;
        case ActorKind::kIpList:
          break;
      }
    }
    if (all) {
      out.clear();
      if (resolve.workloads) {
        for (size_t i = 0; i < p_.workloads.size(); ++i) out.push_back({false, i});
      }
      if (resolve.virtual_services) {
        for (size_t i = 0; i < p_.virtual_services.size(); ++i) out.push_back({true, i});
      }
    }
    std::sort(out.begin(), out.end(), [](Obj a, Obj b) { return std::tie(a.vs, a.index) < std::tie(b.vs, b.index); });
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  // A workload's interface addresses; a virtual service's: its bound workloads'.
  net::AddressSet Addresses(Obj o) const {
    if (!o.vs) return p_.workloads[o.index].addresses;
    net::AddressSet out;
    for (size_t w : Bound(o.index)) out.Add(p_.workloads[w].addresses);
    return out;
  }
  const std::vector<size_t>& Bound(size_t vs) const {
    static const std::vector<size_t> kNone;
    auto it = bound_.find(vs);
    return it == bound_.end() ? kNone : it->second;
  }
  bool IsBound(size_t workload) const { return is_bound_.contains(workload); }

 private:
  void Index(Obj o, const std::vector<std::string>& labels) {
    for (const auto& l : labels) by_label_[l].push_back(o);
  }
  void Append(const std::string& label, std::vector<Obj>& out) const {
    auto it = by_label_.find(label);
    if (it != by_label_.end()) out.insert(out.end(), it->second.begin(), it->second.end());
  }

  const Policy& p_;
  std::unordered_map<std::string, std::vector<Obj>> by_label_;
  std::unordered_map<size_t, std::vector<size_t>> bound_;
  std::unordered_set<size_t> is_bound_;
  mutable std::unordered_map<std::string, std::set<std::string>> groups_;
};

// One rule's contribution to a target, before segments are formed.
struct Contribution {
  const Rule* rule;
  PortSpec ports;
  net::AddressSet sources;
};

class Compiler {
 public:
  explicit Compiler(const Policy& p) : p_(p), m_(p) {}

  Compiled Run() {
    Compiled out;
    for (const Obj& o : Providers()) out.targets.push_back(BuildTarget(o));
    std::sort(out.targets.begin(), out.targets.end(), [](const Target& a, const Target& b) { return a.name < b.name; });
    out.warnings = std::move(warnings_);
    return out;
  }

 private:
  void Warn(std::string w) {
    if (std::find(warnings_.begin(), warnings_.end(), w) == warnings_.end()) warnings_.push_back(std::move(w));
  }

  // The scopes of `rs` that `o` satisfies, as a bit mask (bit i: scope i).
  uint64_t ScopesMatched(Obj o, const RuleSet& rs) const {
    uint64_t mask = 0;
    for (size_t i = 0; i < rs.scopes.size() && i < 64; ++i) {
      if (m_.InScope(o, rs.scopes[i])) mask |= uint64_t{1} << i;
    }
    return mask;
  }

  // Every virtual service, and every workload bound to none, that is a provider of an enabled
  // allow rule.
  std::vector<Obj> Providers() {
    std::vector<Obj> out;
    for (const RuleSet& rs : p_.rule_sets) {
      if (!rs.enabled) continue;
      for (const Rule& r : rs.rules) {
        if (!r.enabled || r.deny) continue;
        for (const Obj& o : m_.Candidates(r.providers, r.resolve_providers)) {
          if (!o.vs && m_.IsBound(o.index)) continue;
          if (ScopesMatched(o, rs) == 0 || !m_.Matches(o, r.providers, r.resolve_providers)) continue;
          if (std::find(out.begin(), out.end(), o) == out.end()) out.push_back(o);
        }
      }
    }
    return out;
  }

  // The source addresses a rule's consumers stand for; intra-scope consumers must satisfy one of
  // the scopes in `scopes` (those the provider matched).
  const net::AddressSet& Consumers(const RuleSet& rs, const Rule& r, uint64_t scopes) {
    const auto key = std::make_pair(&r, r.unscoped_consumers ? ~uint64_t{0} : scopes);
    if (auto it = consumers_.find(key); it != consumers_.end()) return it->second;
    net::AddressSet out;
    for (const Obj& o : m_.Candidates(r.consumers, r.resolve_consumers)) {
      if (!m_.Matches(o, r.consumers, r.resolve_consumers)) continue;
      if (!r.unscoped_consumers && (ScopesMatched(o, rs) & scopes) == 0) continue;
      out.Add(m_.Addresses(o));
    }
    for (const Actor& a : r.consumers) {
      if (a.kind != ActorKind::kIpList || a.exclusion) continue;
      const IpList& l = p_.ip_lists[p_.ip_list_index.at(a.ref)];
      out.Add(l.addresses);
      for (const auto& f : l.fqdns) Warn("ip list " + l.name + ": fqdn " + f + " cannot be expressed as a CIDR");
    }
    if (out.empty() && !r.deny) Warn("rule " + r.href + ": consumers resolve to no address");
    return consumers_.emplace(key, std::move(out)).first->second;
  }

  // The ports a rule opens on `o`: its ingress services, else the virtual service's ports with
  // the bindings' port overrides applied.
  std::vector<PortSpec> Ports(Obj o, const Rule& r) {
    if (!r.ports.empty()) return r.ports;
    if (!o.vs) {
      Warn("rule " + r.href + ": no ingress services for a workload provider; it opens nothing");
      return {};
    }
    std::vector<PortSpec> out;
    const VirtualService& vs = p_.virtual_services[o.index];
    for (const PortSpec& s : vs.ports) {
      bool overridden = false;
      for (const ServiceBinding& b : p_.service_bindings) {
        if (p_.vs_index.at(b.virtual_service) != o.index) continue;
        for (const PortOverride& po : b.overrides) {
          if (po.protocol == s.protocol && po.port == s.ports.from) {
            out.push_back({s.protocol, po.to});
            overridden = true;
          }
        }
      }
      if (!overridden) out.push_back(s);
    }
    return out;
  }

  Target BuildTarget(Obj o) {
    Target t;
    if (o.vs) {
      const VirtualService& vs = p_.virtual_services[o.index];
      t.name = vs.name;
      for (const ServiceAddress& a : vs.addresses) {
        if (t.fqdn.empty() && !a.fqdn.empty()) t.fqdn = a.fqdn;
      }
    } else {
      t.name = p_.workloads[o.index].name;
      t.fqdn = p_.workloads[o.index].hostname;
    }
    t.addresses = m_.Addresses(o);
    std::vector<Contribution> allows, overrides;
    for (const RuleSet& rs : p_.rule_sets) {
      if (!rs.enabled) continue;
      const uint64_t scopes = ScopesMatched(o, rs);
      if (scopes == 0) continue;
      for (const Rule& r : rs.rules) {
        if (!r.enabled || !m_.Matches(o, r.providers, r.resolve_providers)) continue;
        const net::AddressSet& sources = Consumers(rs, r, scopes);
        for (const PortSpec& ps : Ports(o, r)) {
          if (!r.deny) {
            allows.push_back({&r, ps, sources});
          } else if (r.override) {
            overrides.push_back({&r, ps, sources});
            t.override_denied.push_back({r.href, ps.protocol, ps.ports, sources});
          } else {
            denies_.push_back({&r, ps, sources});
          }
        }
      }
    }
    t.allow = Segments(allows, overrides);
    ReportDenies(t);
    return t;
  }

  static bool Covers(const PortSpec& s, int protocol, net::PortRange range) {
    return (s.protocol == protocol || s.protocol == kAllProtocols) && s.ports.from <= range.from &&
           range.to <= s.ports.to;
  }

  // Cuts the contributions into disjoint port ranges per protocol, each with the union of the
  // sources that reach it, minus what override-deny rules remove there.
  static std::vector<AllowEntry> Segments(const std::vector<Contribution>& allows,
                                          const std::vector<Contribution>& overrides) {
    std::map<int, std::set<uint32_t>> cuts;  // protocol -> range starts (and ends + 1)
    for (const auto& c : allows) {
      cuts[c.ports.protocol].insert(c.ports.ports.from);
      cuts[c.ports.protocol].insert(uint32_t{c.ports.ports.to} + 1);
    }
    // Override-deny ranges cut too, so that each range is denied whole or not at all.
    for (const auto& d : overrides) {
      for (auto& [protocol, points] : cuts) {
        if (d.ports.protocol != protocol && d.ports.protocol != kAllProtocols) continue;
        points.insert(d.ports.ports.from);
        points.insert(uint32_t{d.ports.ports.to} + 1);
      }
    }
    std::vector<AllowEntry> out;
    for (const auto& [protocol, points] : cuts) {
      const std::vector<uint32_t> p(points.begin(), points.end());
      for (size_t i = 0; i + 1 < p.size(); ++i) {
        if (p[i] > 65535) break;
        const net::PortRange range{static_cast<uint16_t>(p[i]), static_cast<uint16_t>(p[i + 1] - 1)};
        AllowEntry e{protocol, range, {}, {}};
        net::AddressSet removed;
        for (const auto& d : overrides) {
          if (Covers(d.ports, protocol, range)) removed.Add(d.sources);
        }
        for (const auto& c : allows) {
          if (c.ports.protocol != protocol || !Covers(c.ports, protocol, range)) continue;
          net::AddressSet s = c.sources;
          s.Subtract(removed);
          if (s.empty()) continue;
          e.sources.Add(s);
          auto it = std::find_if(e.provenance.begin(), e.provenance.end(),
                                 [&](const Provenance& pv) { return pv.rule == c.rule->href; });
          if (it == e.provenance.end()) {
            e.provenance.push_back({c.rule->href, s});
          } else {
            it->sources.Add(s);
          }
        }
        if (e.sources.empty()) continue;
        // Adjacent ranges with the same sources and rules become one.
        if (!out.empty() && out.back().protocol == protocol && uint32_t{out.back().ports.to} + 1 == range.from &&
            SameProvenance(out.back(), e)) {
          out.back().ports.to = range.to;
        } else {
          out.push_back(std::move(e));
        }
      }
    }
    return out;
  }

  static bool SameProvenance(const AllowEntry& a, const AllowEntry& b) {
    if (!(a.sources == b.sources) || a.provenance.size() != b.provenance.size()) return false;
    for (size_t i = 0; i < a.provenance.size(); ++i) {
      if (a.provenance[i].rule != b.provenance[i].rule || !(a.provenance[i].sources == b.provenance[i].sources)) {
        return false;
      }
    }
    return true;
  }

  // Plain deny rules cannot take anything away from a security group: report where they overlap.
  void ReportDenies(const Target& t) {
    for (const auto& d : denies_) {
      for (const AllowEntry& e : t.allow) {
        const bool ports = (d.ports.protocol == e.protocol || d.ports.protocol == kAllProtocols) &&
                           d.ports.ports.from <= e.ports.to && e.ports.from <= d.ports.ports.to;
        if (ports && !d.sources.Intersect(e.sources).empty()) {
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
  std::vector<std::string> warnings_;
  std::vector<Contribution> denies_;
  std::map<std::pair<const Rule*, uint64_t>, net::AddressSet> consumers_;
};

}  // namespace

Compiled Compile(const policy::Policy& policy) { return Compiler(policy).Run(); }

Decision Decide(const Target& target, const net::Address& source, int protocol, uint16_t port) {
  Decision d;
  for (const AllowEntry& e : target.allow) {
    if ((e.protocol != protocol && e.protocol != policy::kAllProtocols) || port < e.ports.from || port > e.ports.to) {
      continue;
    }
    for (const Provenance& pv : e.provenance) {
      if (pv.sources.Contains(source)) d.rules.push_back(pv.rule);
    }
  }
  d.allowed = !d.rules.empty();
  if (!d.allowed) {
    for (const DenyEntry& od : target.override_denied) {
      if ((od.protocol == protocol || od.protocol == policy::kAllProtocols) && od.ports.from <= port &&
          port <= od.ports.to && od.sources.Contains(source)) {
        d.denied_by = od.rule;
        break;
      }
    }
  }
  return d;
}

const Target* FindTarget(const Compiled& compiled, const net::Address& address) {
  for (const Target& t : compiled.targets) {
    if (t.addresses.Contains(address)) return &t;
  }
  return nullptr;
}

}  // namespace moat::compile
