#include "compile/compile.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace moat::compile {
namespace {

using namespace policy;  // NOLINT: the model's names read better unqualified here

// What a rule side can select: a workload or a virtual service.
struct Obj {
  bool vs = false;
  size_t index = 0;
};

// A rule side or a scope with its references turned into label numbers (indexes into
// Policy::labels) and object numbers: matching compares integers, not hrefs.
struct Side {
  std::map<int, std::vector<int>> clause;  // label key -> labels (same key OR, keys AND)
  std::vector<int> groups;                 // label groups (index)
  std::vector<uint32_t> direct;            // workloads and virtual services named directly
  bool ams = false;
  std::vector<int> excluded_labels, excluded_groups;
};
struct ScopeItemIds {
  bool group;
  int id;
  bool exclusion;
};

// Label lookups over a policy with integer ids. Objects are numbered workloads first, then
// virtual services. An inverted index (label -> objects) finds candidates without scans.
class Matcher {
 public:
  explicit Matcher(const Policy& p) : p_(p), workloads_(static_cast<uint32_t>(p.workloads.size())) {
    std::unordered_map<std::string, int> keys;
    for (const Label& l : p.labels) key_of_.push_back(keys.emplace(l.key, static_cast<int>(keys.size())).first->second);
    by_label_.resize(p.labels.size());
    const uint32_t n = workloads_ + static_cast<uint32_t>(p.virtual_services.size());
    labels_.resize(n);
    for (uint32_t o = 0; o < n; ++o) {
      const auto& hrefs = o < workloads_ ? p.workloads[o].labels : p.virtual_services[o - workloads_].labels;
      for (const auto& h : hrefs) labels_[o].push_back(static_cast<int>(p.label_index.at(h)));
      std::sort(labels_[o].begin(), labels_[o].end());
      for (int l : labels_[o]) by_label_[static_cast<size_t>(l)].push_back(o);
    }
    marks_.assign(n, 0);
    for (const ServiceBinding& b : p.service_bindings) {
      bound_[p.vs_index.at(b.virtual_service)].push_back(p.workload_index.at(b.workload));
      is_bound_.insert(p.workload_index.at(b.workload));
    }
    group_labels_.resize(p.label_groups.size());
    for (size_t g = 0; g < p.label_groups.size(); ++g) ExpandGroup(g);
  }

  uint32_t size() const { return static_cast<uint32_t>(labels_.size()); }
  Obj ObjOf(uint32_t id) const { return id < workloads_ ? Obj{false, id} : Obj{true, id - workloads_}; }

  bool Has(uint32_t o, int label) const { return std::binary_search(labels_[o].begin(), labels_[o].end(), label); }
  bool HasGroup(uint32_t o, int group) const {
    const auto& g = group_labels_[static_cast<size_t>(group)];
    for (int l : labels_[o]) {
      if (std::binary_search(g.begin(), g.end(), l)) return true;
    }
    return false;
  }

  Side Resolve(const std::vector<Actor>& actors) const {
    Side s;
    for (const Actor& a : actors) {
      switch (a.kind) {
        case ActorKind::kAms:
          s.ams = s.ams || !a.exclusion;
          break;
        case ActorKind::kLabel: {
          const int l = static_cast<int>(p_.label_index.at(a.ref));
          if (a.exclusion) {
            s.excluded_labels.push_back(l);
          } else {
            s.clause[key_of_[static_cast<size_t>(l)]].push_back(l);
          }
          break;
        }
        case ActorKind::kLabelGroup: {
          const int g = static_cast<int>(p_.group_index.at(a.ref));
          (a.exclusion ? s.excluded_groups : s.groups).push_back(g);
          break;
        }
        case ActorKind::kWorkload:
          if (!a.exclusion) s.direct.push_back(static_cast<uint32_t>(p_.workload_index.at(a.ref)));
          break;
        case ActorKind::kVirtualService:
          if (!a.exclusion) s.direct.push_back(workloads_ + static_cast<uint32_t>(p_.vs_index.at(a.ref)));
          break;
        case ActorKind::kIpList:
          break;
      }
    }
    return s;
  }

  std::vector<ScopeItemIds> Resolve(const Scope& scope) const {
    std::vector<ScopeItemIds> out;
    for (const ScopeItem& i : scope) {
      out.push_back(
          {i.group, static_cast<int>(i.group ? p_.group_index.at(i.ref) : p_.label_index.at(i.ref)), i.exclusion});
    }
    return out;
  }

  bool InScope(uint32_t o, const std::vector<ScopeItemIds>& scope) const {
    for (const ScopeItemIds& item : scope) {
      const bool has = item.group ? HasGroup(o, item.id) : Has(o, item.id);
      if (has == item.exclusion) return false;
    }
    return true;
  }

  // Whether object `o` is selected by side `s`, label actors selecting the kinds `resolve` names.
  // The label actors form one clause (same key OR, different keys AND), ORed with every other
  // actor; excluded actors remove what they match.
  bool Matches(uint32_t o, const Side& s, const policy::Resolve& resolve) const {
    for (int l : s.excluded_labels) {
      if (Has(o, l)) return false;
    }
    for (int g : s.excluded_groups) {
      if (HasGroup(o, g)) return false;
    }
    if (std::find(s.direct.begin(), s.direct.end(), o) != s.direct.end()) return true;
    const bool kind_ok = o >= workloads_ ? resolve.virtual_services : resolve.workloads;
    if (!kind_ok) return false;
    if (s.ams) return true;
    for (int g : s.groups) {
      if (HasGroup(o, g)) return true;
    }
    if (s.clause.empty()) return false;
    for (const auto& [key, labels] : s.clause) {
      if (std::none_of(labels.begin(), labels.end(), [&](int l) { return Has(o, l); })) return false;
    }
    return true;
  }

  // Every object a side could select (a superset), each once.
  std::vector<uint32_t> Candidates(const Side& s, const policy::Resolve& resolve) {
    std::vector<uint32_t> out;
    if (s.ams) {
      const uint32_t from = resolve.workloads ? 0 : workloads_, to = resolve.virtual_services ? size() : workloads_;
      for (uint32_t o = from; o < to; ++o) out.push_back(o);
      out.insert(out.end(), s.direct.begin(), s.direct.end());
      return Unique(std::move(out));
    }
    out = s.direct;
    if (!s.clause.empty()) {
      // The key with the fewest objects bounds the clause.
      const std::vector<int>* best = nullptr;
      size_t best_n = SIZE_MAX;
      for (const auto& [key, labels] : s.clause) {
        size_t n = 0;
        for (int l : labels) n += by_label_[static_cast<size_t>(l)].size();
        if (n < best_n) best_n = n, best = &labels;
      }
      if (best != nullptr) {
        for (int l : *best) Append(l, out);
      }
    }
    for (int g : s.groups) {
      for (int l : group_labels_[static_cast<size_t>(g)]) Append(l, out);
    }
    return Unique(std::move(out));
  }

  // Every object in a scope.
  std::vector<uint32_t> Members(const std::vector<ScopeItemIds>& scope) {
    std::vector<uint32_t> out;
    const ScopeItemIds* first = nullptr;
    for (const auto& i : scope) {
      if (!i.exclusion) {
        first = &i;
        break;
      }
    }
    if (first == nullptr) {
      for (uint32_t o = 0; o < size(); ++o) out.push_back(o);
    } else if (first->group) {
      for (int l : group_labels_[static_cast<size_t>(first->id)]) Append(l, out);
    } else {
      Append(first->id, out);
    }
    out = Unique(std::move(out));
    std::erase_if(out, [&](uint32_t o) { return !InScope(o, scope); });
    return out;
  }

  // A workload's interface addresses; a virtual service's: its bound workloads'.
  net::AddressSet Addresses(uint32_t o) const {
    if (o < workloads_) return p_.workloads[o].addresses;
    net::AddressSet out;
    for (size_t w : Bound(o - workloads_)) out.Add(p_.workloads[w].addresses);
    return out;
  }
  const std::vector<size_t>& Bound(size_t vs) const {
    static const std::vector<size_t> kNone;
    auto it = bound_.find(vs);
    return it == bound_.end() ? kNone : it->second;
  }
  bool IsBound(size_t workload) const { return is_bound_.contains(workload); }

 private:
  void ExpandGroup(size_t g) {
    std::vector<int> out;
    std::vector<size_t> todo{g};
    std::vector<bool> seen(p_.label_groups.size());
    while (!todo.empty()) {
      const size_t x = todo.back();
      todo.pop_back();
      if (seen[x]) continue;  // a cycle, or a group reached twice
      seen[x] = true;
      const LabelGroup& lg = p_.label_groups[x];
      for (const auto& l : lg.labels) out.push_back(static_cast<int>(p_.label_index.at(l)));
      for (const auto& sub : lg.sub_groups) todo.push_back(p_.group_index.at(sub));
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    group_labels_[g] = std::move(out);
  }
  void Append(int label, std::vector<uint32_t>& out) const {
    const auto& v = by_label_[static_cast<size_t>(label)];
    out.insert(out.end(), v.begin(), v.end());
  }
  // Removes repeats, keeping the first of each (marks instead of a sort).
  std::vector<uint32_t> Unique(std::vector<uint32_t> v) {
    ++epoch_;
    std::erase_if(v, [&](uint32_t o) { return std::exchange(marks_[o], epoch_) == epoch_; });
    return v;
  }

  const Policy& p_;
  uint32_t workloads_;
  std::vector<int> key_of_;               // label -> key number
  std::vector<std::vector<int>> labels_;  // object -> sorted labels
  std::vector<std::vector<uint32_t>> by_label_;
  std::vector<std::vector<int>> group_labels_;  // group -> sorted labels, nested groups expanded
  std::unordered_map<size_t, std::vector<size_t>> bound_;
  std::unordered_set<size_t> is_bound_;
  std::vector<uint32_t> marks_;
  uint32_t epoch_ = 0;
};

// One rule's contribution to a target, before segments are formed.
struct Contribution {
  const Rule* rule;
  PortSpec ports;
  const net::AddressSet* sources;  // owned by the compiler's consumer cache
};

class Compiler {
 public:
  explicit Compiler(const Policy& p) : p_(p), m_(p) { Prepare(); }

  Compiled Run() {
    Compiled out;
    for (uint32_t o : Providers()) out.targets.push_back(BuildTarget(o));
    std::sort(out.targets.begin(), out.targets.end(), [](const Target& a, const Target& b) { return a.name < b.name; });
    out.warnings = std::move(warnings_);
    return out;
  }

 private:
  struct RuleIds {
    Side providers, consumers;
  };
  struct RuleSetIds {
    std::vector<std::vector<ScopeItemIds>> scopes;
    std::vector<std::vector<uint32_t>> members;  // per scope: the objects in it
    std::vector<RuleIds> rules;
  };
  static constexpr size_t kMaxScopes = 64;  // scopes past this many are ignored (never seen)

  void Warn(std::string w) {
    if (std::find(warnings_.begin(), warnings_.end(), w) == warnings_.end()) warnings_.push_back(std::move(w));
  }

  // Resolves every rule set once, and indexes which objects each scope holds.
  void Prepare() {
    scoped_.resize(m_.size());
    sets_.resize(p_.rule_sets.size());
    for (size_t i = 0; i < p_.rule_sets.size(); ++i) {
      const RuleSet& rs = p_.rule_sets[i];
      if (!rs.enabled) continue;
      RuleSetIds& ids = sets_[i];
      for (size_t j = 0; j < rs.scopes.size() && j < kMaxScopes; ++j) {
        ids.scopes.push_back(m_.Resolve(rs.scopes[j]));
        ids.members.push_back(m_.Members(ids.scopes.back()));
        for (uint32_t o : ids.members.back()) {
          auto& v = scoped_[o];
          if (v.empty() || v.back().first != i) v.emplace_back(static_cast<uint32_t>(i), 0);
          v.back().second |= uint64_t{1} << j;
        }
      }
      for (const Rule& r : rs.rules) ids.rules.push_back({m_.Resolve(r.providers), m_.Resolve(r.consumers)});
    }
  }

  // The scopes of rule set `rs` that object `o` is in, as a bit mask (bit j: scope j).
  uint64_t Mask(uint32_t o, size_t rs) const {
    for (const auto& [set, mask] : scoped_[o]) {
      if (set == rs) return mask;
    }
    return 0;
  }

  // The objects of `scopes` (a mask of rule set `rs`) that `side` selects.
  std::vector<uint32_t> Select(size_t rs, uint64_t scopes, const Side& side, const policy::Resolve& resolve) {
    const RuleSetIds& ids = sets_[rs];
    size_t in_scope = 0;
    for (size_t j = 0; j < ids.members.size(); ++j) {
      if (scopes >> j & 1) in_scope += ids.members[j].size();
    }
    std::vector<uint32_t> out;
    std::vector<uint32_t> candidates = m_.Candidates(side, resolve);
    if (in_scope < candidates.size()) {
      for (size_t j = 0; j < ids.members.size(); ++j) {
        if (!(scopes >> j & 1)) continue;
        for (uint32_t o : ids.members[j]) {
          if (m_.Matches(o, side, resolve)) out.push_back(o);
        }
      }
      std::sort(out.begin(), out.end());
      out.erase(std::unique(out.begin(), out.end()), out.end());
    } else {
      for (uint32_t o : candidates) {
        if ((Mask(o, rs) & scopes) != 0 && m_.Matches(o, side, resolve)) out.push_back(o);
      }
    }
    return out;
  }

  // Every virtual service, and every workload bound to none, that is a provider of an enabled
  // allow rule.
  std::vector<uint32_t> Providers() {
    std::vector<bool> seen(m_.size());
    std::vector<uint32_t> out;
    for (size_t i = 0; i < p_.rule_sets.size(); ++i) {
      const RuleSet& rs = p_.rule_sets[i];
      if (!rs.enabled) continue;
      const uint64_t all = sets_[i].scopes.size() >= 64 ? ~uint64_t{0} : (uint64_t{1} << sets_[i].scopes.size()) - 1;
      for (size_t k = 0; k < rs.rules.size(); ++k) {
        const Rule& r = rs.rules[k];
        if (!r.enabled || r.deny) continue;
        for (uint32_t o : Select(i, all, sets_[i].rules[k].providers, r.resolve_providers)) {
          const Obj obj = m_.ObjOf(o);
          if ((!obj.vs && m_.IsBound(obj.index)) || seen[o]) continue;
          seen[o] = true;
          out.push_back(o);
        }
      }
    }
    return out;
  }

  // The source addresses a rule's consumers stand for; intra-scope consumers must be in one of
  // `scopes` (those the provider matched).
  const net::AddressSet& Consumers(size_t rs, size_t k, uint64_t scopes) {
    const Rule& r = p_.rule_sets[rs].rules[k];
    const auto key = std::make_pair(&r, r.unscoped_consumers ? ~uint64_t{0} : scopes);
    if (auto it = consumers_.find(key); it != consumers_.end()) return it->second;
    const Side& side = sets_[rs].rules[k].consumers;
    net::AddressSet out;
    if (r.unscoped_consumers) {
      for (uint32_t o : m_.Candidates(side, r.resolve_consumers)) {
        if (m_.Matches(o, side, r.resolve_consumers)) out.Add(m_.Addresses(o));
      }
    } else {
      for (uint32_t o : Select(rs, scopes, side, r.resolve_consumers)) out.Add(m_.Addresses(o));
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

  Target BuildTarget(uint32_t id) {
    const Obj o = m_.ObjOf(id);
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
    t.addresses = m_.Addresses(id);
    std::vector<Contribution> allows, overrides;
    for (const auto& [set, scopes] : scoped_[id]) {  // the rule sets whose scope holds it, in order
      const RuleSet& rs = p_.rule_sets[set];
      for (size_t k = 0; k < rs.rules.size(); ++k) {
        const Rule& r = rs.rules[k];
        if (!r.enabled || !m_.Matches(id, sets_[set].rules[k].providers, r.resolve_providers)) continue;
        const net::AddressSet& sources = Consumers(set, k, scopes);
        for (const PortSpec& ps : Ports(o, r)) {
          if (!r.deny) {
            allows.push_back({&r, ps, &sources});
          } else if (r.override) {
            overrides.push_back({&r, ps, &sources});
            t.override_denied.push_back({r.href, ps.protocol, ps.ports, sources});
          } else {
            denies_.push_back({&r, ps, &sources});
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
          if (Covers(d.ports, protocol, range)) removed.Add(*d.sources);
        }
        for (const auto& c : allows) {
          if (c.ports.protocol != protocol || !Covers(c.ports, protocol, range)) continue;
          net::AddressSet s = *c.sources;
          if (!removed.empty()) s.Subtract(removed);
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
  std::vector<std::string> warnings_;
  std::vector<Contribution> denies_;
  std::map<std::pair<const Rule*, uint64_t>, net::AddressSet> consumers_;  // node-based: stable addresses
  std::vector<RuleSetIds> sets_;
  std::vector<std::vector<std::pair<uint32_t, uint64_t>>> scoped_;  // object -> (rule set, scope mask)
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

}  // namespace moat::compile
