#include "compile/suggest.h"

#include <algorithm>
#include <compare>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "base/strings.h"
#include "compile/suggest_cover.h"
#include "net/address_set.h"
#include "net/protocol.h"

namespace moat::compile {
namespace {

using Json = nlohmann::json;

bool HasPorts(int protocol) { return protocol == 6 || protocol == 17; }

struct PortKey {
  int protocol = 6;
  uint16_t port = 0;  // 0 for protocols without ports
  friend auto operator<=>(const PortKey&, const PortKey&) = default;
};

std::string PortName(PortKey k) {
  const std::string name = net::ProtocolName(k.protocol);
  return HasPorts(k.protocol) ? name + "/" + std::to_string(k.port) : name;
}

// A draft rule set refers to draft objects.
std::string DraftHref(const std::string& href) { return policy::HrefAtVersion(href, "draft"); }

// The org number of "/orgs/<n>/...", or 0.
int OrgOf(std::string_view href) {
  if (!StartsWith(href, "/orgs/")) return 0;
  int n = 0;
  for (char c : href.substr(6)) {
    if (c < '0' || c > '9') break;
    n = n * 10 + (c - '0');
  }
  return n;
}

std::string NameOf(const policy::Workload& w) {
  return !w.name.empty() ? w.name : !w.hostname.empty() ? w.hostname : w.href;
}

// One observed flow, merged by (source, protocol, port), with what the current policy says of it.
struct Flow {
  net::Address source;
  PortKey key;
  uint64_t records = 0;
  int64_t last = 0;
  std::vector<size_t> owners;  // workloads with this interface address; none for IP-only sources
  Decision decision;
};

enum class Kind { kLabels, kWorkloads, kIpLists };

// A rule's consumers: label hrefs in canonical order, or sorted workload or IP list hrefs.
struct Consumers {
  Kind kind = Kind::kLabels;
  std::vector<std::string> refs;
  friend auto operator<=>(const Consumers&, const Consumers&) = default;
};

struct RuleDraft {
  std::set<PortKey> ports;
  std::vector<size_t> flows;   // indexes into the flows
  std::set<size_t> workloads;  // the observed workloads it was chosen for
};

class Suggester {
 public:
  Suggester(const policy::Policy& p, const Target& t, int first_ip_list)
      : p_(p), t_(t), ix_(p), first_ip_list_(first_ip_list) {}

  Suggestion Run(const std::vector<ObservedFlow>& observed) {
    Suggestion out;
    out.coverage = Json::array();
    Json providers = Providers();
    Normalize(observed);
    if (!t_.error.empty()) {
      notes_.insert("the policy cannot be compiled exactly for it (" + t_.error +
                    "): which observed flows it already admits is not known; every flow is counted as not admitted");
    }
    if (providers.is_null()) {
      notes_.insert("no virtual service or workload named " + Quote(t_.name, 200) +
                    " in the policy: nothing to suggest");
    } else if (flows_.empty()) {
      notes_.insert("no flows observed to " + t_.name + ": nothing to suggest");
    } else {
      for (const auto& [key, indexes] : by_port_) PlanPort(key, indexes);
      Emit(providers, out);
      NoteDecisions();
    }
    out.notes.assign(notes_.begin(), notes_.end());
    return out;
  }

 private:
  // The provider side: the target's virtual service, or else the target workload.
  Json Providers() {
    std::vector<const policy::VirtualService*> vs;
    for (const auto& v : p_.virtual_services) {
      if (v.name == t_.name) vs.push_back(&v);
    }
    if (!vs.empty()) {
      if (vs.size() > 1) notes_.insert("several virtual services are named " + t_.name + "; the first one is used");
      org_ = OrgOf(vs[0]->href);
      resolve_providers_ = "virtual_services";
      return Json::array({{{"virtual_service", {{"href", DraftHref(vs[0]->href)}}}}});
    }
    const policy::Workload* found = nullptr;
    for (const auto& w : p_.workloads) {
      if (w.name != t_.name) continue;
      if (found == nullptr || (w.addresses == t_.addresses && !(found->addresses == t_.addresses))) found = &w;
    }
    if (found == nullptr) return nullptr;
    org_ = OrgOf(found->href);
    resolve_providers_ = "workloads";
    return Json::array({{{"workload", {{"href", found->href}}}}});
  }

  // Merges repeats, finds each source's workloads, and decides each flow against the policy.
  void Normalize(const std::vector<ObservedFlow>& observed) {
    std::map<std::pair<net::Address, PortKey>, Flow> merged;
    for (const ObservedFlow& f : observed) {
      if (!f.source.valid()) continue;
      const PortKey key{f.protocol, HasPorts(f.protocol) ? f.port : uint16_t{0}};
      Flow& m = merged[{f.source, key}];
      m.source = f.source;
      m.key = key;
      m.records += f.records;
      m.last = std::max(m.last, f.last);
    }
    std::vector<net::Address> sources;
    sources.reserve(merged.size());
    for (const auto& [k, f] : merged) sources.push_back(f.source);
    sources.erase(std::unique(sources.begin(), sources.end()), sources.end());
    const std::vector<std::vector<size_t>> owners = Owners(sources);
    for (auto& [k, f] : merged) {
      f.owners =
          owners[static_cast<size_t>(std::lower_bound(sources.begin(), sources.end(), f.source) - sources.begin())];
      f.decision = Decide(t_, f.source, f.key.protocol, f.key.port);
      by_port_[f.key].push_back(flows_.size());
      flows_.push_back(std::move(f));
    }
  }

  // For each of the sorted `sources`, the workloads with that interface address, ascending: each
  // workload's prefixes looked up among the sources, not each source among the workloads.
  std::vector<std::vector<size_t>> Owners(const std::vector<net::Address>& sources) const {
    std::vector<std::vector<size_t>> out(sources.size());
    for (size_t w = 0; w < p_.workloads.size(); ++w) {
      for (const net::Prefix& prefix : p_.workloads[w].addresses.ToPrefixes()) {
        auto it = std::lower_bound(sources.begin(), sources.end(), prefix.base);
        for (const net::Address last = net::LastAddress(prefix); it != sources.end() && *it <= last; ++it) {
          out[static_cast<size_t>(it - sources.begin())].push_back(w);
        }
      }
    }
    return out;
  }

  // The rules for one (protocol, port): label sets and workload hrefs for workload sources, IP lists
  // for the others.
  void PlanPort(PortKey key, const std::vector<size_t>& indexes) {
    WorkloadBits observed(p_.workloads.size());
    net::AddressSet ip_only, sources;
    for (size_t i : indexes) {
      sources.Add(flows_[i].source);
      if (flows_[i].owners.empty()) ip_only.Add(flows_[i].source);
      for (size_t w : flows_[i].owners) observed.Set(w);
    }
    if (!observed.Empty()) PlanWorkloads(key, indexes, observed);
    if (!ip_only.empty()) {
      Consumers c{Kind::kIpLists, IpLists(key, ip_only, sources)};
      std::sort(c.refs.begin(), c.refs.end());
      RuleDraft& r = rules_[c];
      r.ports.insert(key);
      for (size_t i : indexes) {
        if (flows_[i].owners.empty()) r.flows.push_back(i);
      }
    }
  }

  void PlanWorkloads(PortKey key, const std::vector<size_t>& indexes, const WorkloadBits& observed) {
    if (observed.Count() == p_.workloads.size()) {
      notes_.insert("every workload of the policy was observed on " + PortName(key) +
                    ": All Workloads would admit them, and any workload added later; label sets are proposed instead");
    }
    const LabelCover cover = CoverWithLabels(ix_, observed);
    std::map<size_t, Consumers> chosen;  // workload -> the consumers chosen for it
    for (const LabelCover::Set& s : cover.sets) {
      Consumers c{Kind::kLabels, {}};
      for (size_t l : s.labels) c.refs.push_back(p_.labels[l].href);
      for (size_t w : s.workloads) chosen[w] = c;
    }
    if (!cover.by_href.empty()) {
      Consumers c{Kind::kWorkloads, {}};
      for (size_t w : cover.by_href) {
        c.refs.push_back(p_.workloads[w].href);
        NoteHref(w, key, observed);
      }
      std::sort(c.refs.begin(), c.refs.end());
      for (size_t w : cover.by_href) chosen[w] = c;
    }
    for (const auto& [w, c] : chosen) {
      RuleDraft& r = rules_[c];
      r.ports.insert(key);
      r.workloads.insert(w);
    }
    for (size_t i : indexes) {
      if (!flows_[i].owners.empty()) rules_[chosen.at(flows_[i].owners.front())].flows.push_back(i);
    }
  }

  // Why workload `w` could not be given by labels.
  void NoteHref(size_t w, PortKey key, const WorkloadBits& observed) {
    const policy::Workload& wl = p_.workloads[w];
    if (ix_.LabelsOf(w).empty()) {
      notes_.insert(NameOf(wl) + " (" + wl.href + ") has no labels: proposed by its href on " + PortName(key));
      return;
    }
    WorkloadBits others = ix_.Select(ix_.LabelsOf(w));
    others.AndNot(observed);
    std::string labels;
    for (size_t l : ix_.LabelsOf(w)) {
      labels += (labels.empty() ? "" : ", ") + p_.labels[l].key + "=" + p_.labels[l].value;
    }
    const std::vector<size_t> unobserved = others.Members();
    if (unobserved.empty()) {  // two labels of one key: no label set the PCE can express selects it alone
      notes_.insert(NameOf(wl) + " (" + wl.href + ") proposed by its href on " + PortName(key) + ": its labels " +
                    labels + " cannot be one rule's label set");
      return;
    }
    notes_.insert(NameOf(wl) + " (" + wl.href + ") proposed by its href on " + PortName(key) + ": its labels " +
                  labels + " also select " + NameOf(p_.workloads[unobserved.front()]) +
                  (unobserved.size() > 1 ? " and " + std::to_string(unobserved.size() - 1) + " more" : "") +
                  ", not observed there");
  }

  // The IP lists that admit exactly `ip_only` on `key`: existing lists whose every address was
  // observed there, and a new list for the rest.
  std::vector<std::string> IpLists(PortKey key, const net::AddressSet& ip_only, const net::AddressSet& sources) {
    std::vector<std::string> refs;
    net::AddressSet rest = ip_only;
    for (const policy::IpList& l : p_.ip_lists) {
      if (l.addresses.Intersect(ip_only).empty()) continue;
      net::AddressSet unobserved = l.addresses;
      unobserved.Subtract(sources);
      if (unobserved.empty() && l.fqdns.empty()) {
        refs.push_back(DraftHref(l.href));
        rest.Subtract(l.addresses);
        notes_.insert("IP list " + l.name + " is reused on " + PortName(key) + ": every address of it was observed");
      } else {
        notes_.insert("IP list " + l.name + " holds sources observed on " + PortName(key) + " but is not reused: " +
                      (unobserved.empty() ? "it has FQDN entries"
                                          : WithThousands(unobserved.Count()) + " of its addresses were not observed"));
      }
    }
    if (rest.empty()) return refs;
    auto it = std::find(new_lists_.begin(), new_lists_.end(), rest);
    if (it == new_lists_.end()) {
      new_lists_.push_back(rest);
      new_list_ports_.emplace_back();
      it = new_lists_.end() - 1;
    }
    const size_t n = static_cast<size_t>(it - new_lists_.begin());
    new_list_ports_[n].insert(key);
    refs.push_back(Placeholder(n));
    return refs;
  }

  std::string Placeholder(size_t n) const {
    return "/orgs/" + std::to_string(org()) + "/sec_policy/draft/ip_lists/moat-suggested-" +
           std::to_string(static_cast<size_t>(first_ip_list_) + n);
  }

  int org() const {
    if (org_ > 0) return org_;
    for (const auto& l : p_.labels) {
      if (int n = OrgOf(l.href); n > 0) return n;
    }
    return 1;
  }

  void Emit(const Json& providers, Suggestion& out);
  Json EmitRule(const Json& providers, const Consumers& c, const RuleDraft& r) const;
  Json EmitCoverage(const std::string& rule_set, size_t rule, const RuleDraft& r) const;
  Json EmitIpList(size_t n) const;
  void NoteDecisions();

  const policy::Policy& p_;
  const Target& t_;
  LabelIndex ix_;
  int first_ip_list_;
  int org_ = 0;
  std::string resolve_providers_;
  std::vector<Flow> flows_;  // by (source, protocol, port)
  std::map<PortKey, std::vector<size_t>> by_port_;
  std::map<Consumers, RuleDraft> rules_;
  std::vector<net::AddressSet> new_lists_;  // the new IP lists' addresses, in the order made
  std::vector<std::set<PortKey>> new_list_ports_;
  std::set<std::string> notes_;
};

std::string ListName(const std::string& target, size_t n, size_t count) {
  return "moat-suggested-" + target + "-clients" + (count > 1 ? "-" + std::to_string(n + 1) : "");
}

std::string Ports(const std::set<PortKey>& ports) {
  std::string out;
  for (PortKey k : ports) out += (out.empty() ? "" : ", ") + PortName(k);
  return out;
}

Json Suggester::EmitIpList(size_t n) const {
  Json ranges = Json::array();
  for (const net::Prefix& prefix : new_lists_[n].ToPrefixes()) {
    const bool host = prefix.length == (prefix.base.is_v4() ? 32 : 128);
    ranges.push_back({{"from_ip", host ? net::ToString(prefix.base) : net::ToString(prefix)}});
  }
  return {{"href", Placeholder(n)},
          {"name", ListName(t_.name, n, new_lists_.size())},
          {"description", "moat: sources observed to " + t_.name + " on " + Ports(new_list_ports_[n]) +
                              " that are no workload's interface address"},
          {"ip_ranges", ranges},
          {"external_data_set", kSuggestDataSet},
          {"external_data_reference", SuggestReference(t_.name, n, new_lists_.size())}};
}

Json Suggester::EmitRule(const Json& providers, const Consumers& c, const RuleDraft& r) const {
  static constexpr const char* kActor[] = {"label", "workload", "ip_list"};
  Json consumers = Json::array(), services = Json::array();
  for (const std::string& ref : c.refs) consumers.push_back({{kActor[static_cast<int>(c.kind)], {{"href", ref}}}});
  for (PortKey k : r.ports) {
    services.push_back(HasPorts(k.protocol) ? Json{{"port", k.port}, {"proto", k.protocol}}
                                            : Json{{"proto", k.protocol}});
  }
  std::set<net::Address> sources;
  int64_t last = 0;
  for (size_t i : r.flows) {
    sources.insert(flows_[i].source);
    last = std::max(last, flows_[i].last);
  }
  std::string description =
      "moat: covers " + std::to_string(r.flows.size()) + " flows from " + std::to_string(sources.size()) + " sources";
  if (last > 0) description += ", last seen " + FormatUtc(last);
  return {{"enabled", true},
          {"description", description},
          {"providers", providers},
          {"consumers", consumers},
          {"ingress_services", services},
          {"resolve_labels_as", {{"providers", {resolve_providers_}}, {"consumers", {"workloads"}}}}};
}

void Suggester::Emit(const Json& providers, Suggestion& out) {
  using Entry = std::pair<const Consumers*, const RuleDraft*>;
  std::vector<Entry> order;
  for (const auto& [c, r] : rules_) order.emplace_back(&c, &r);
  std::sort(order.begin(), order.end(), [](const Entry& a, const Entry& b) {
    const size_t an = a.first->refs.size(), bn = b.first->refs.size();
    return std::tie(a.second->ports, a.first->kind, an, a.first->refs) <
           std::tie(b.second->ports, b.first->kind, bn, b.first->refs);
  });
  const std::string name = "moat-suggested-" + t_.name;
  Json rules = Json::array();
  for (const auto& [c, r] : order) {
    out.coverage.push_back(EmitCoverage(name, rules.size(), *r));
    rules.push_back(EmitRule(providers, *c, *r));
  }
  out.rule_set = {{"name", name},
                  {"description", "moat: admits the " + std::to_string(flows_.size()) + " flows observed to " +
                                      t_.name + "; a draft to review before provisioning"},
                  {"enabled", true},
                  {"scopes", Json::array({Json::array()})},
                  {"rules", rules},
                  {"external_data_set", kSuggestDataSet},
                  {"external_data_reference", SuggestReference(t_.name)}};
  for (size_t n = 0; n < new_lists_.size(); ++n) out.ip_lists.push_back(EmitIpList(n));
  // The PCE wants unique names.
  for (const auto& rs : p_.rule_sets) {
    if (rs.name == name) notes_.insert("a rule set named " + name + " already exists: rename one before importing");
  }
  for (const Json& l : out.ip_lists) {
    for (const auto& existing : p_.ip_lists) {
      if (existing.name == l["name"]) {
        notes_.insert("an IP list named " + existing.name + " already exists: rename one before importing");
      }
    }
  }
}

Json Suggester::EmitCoverage(const std::string& rule_set, size_t rule, const RuleDraft& r) const {
  Json flows = Json::array(), workloads = Json::array();
  std::vector<size_t> indexes = r.flows;
  std::sort(indexes.begin(), indexes.end());
  for (size_t i : indexes) {
    const Flow& f = flows_[i];
    flows.push_back({{"source", net::ToString(f.source)},
                     {"protocol", f.key.protocol},
                     {"port", f.key.port},
                     {"records", f.records},
                     {"last", f.last > 0 ? Json(f.last) : Json(nullptr)},
                     {"already_allowed", f.decision.allowed}});
  }
  std::set<std::string> names;
  for (size_t w : r.workloads) names.insert(NameOf(p_.workloads[w]));
  for (const auto& n : names) workloads.push_back(n);
  return {{"rule_set", rule_set}, {"rule", rule}, {"flows", flows}, {"workloads", workloads}};
}

// What the current policy already says of the observed flows.
void Suggester::NoteDecisions() {
  size_t allowed = 0;
  std::map<std::string, std::pair<size_t, const Flow*>> denied;  // override-deny rule -> count, example
  for (const Flow& f : flows_) {
    if (f.decision.allowed) ++allowed;
    if (!f.decision.denied_by.empty()) {
      auto& d = denied[f.decision.denied_by];
      if (d.first++ == 0) d.second = &f;
    }
  }
  notes_.insert(std::to_string(allowed) + " of " + std::to_string(flows_.size()) +
                " observed flows are already allowed by the current policy");
  for (const auto& [rule, d] : denied) {
    notes_.insert("override-deny rule " + rule + " removes " + std::to_string(d.first) + " observed flows (e.g. " +
                  net::ToString(d.second->source) + " on " + PortName(d.second->key) +
                  "): no allow rule can admit them while it stands");
  }
}

}  // namespace

std::string SuggestReference(const std::string& target) { return "suggest:" + target; }

std::string SuggestReference(const std::string& target, size_t n, size_t count) {
  return "suggest:" + target + ":clients" + (count > 1 ? "-" + std::to_string(n + 1) : "");
}

Suggestion Suggest(const SuggestRequest& request) {
  return Suggester(*request.policy, *request.target, request.first_ip_list).Run(request.flows);
}

Json SuggestDocument(std::vector<SuggestRequest> requests) {
  std::stable_sort(requests.begin(), requests.end(),
                   [](const SuggestRequest& a, const SuggestRequest& b) { return a.target->name < b.target->name; });
  Json doc = {
      {"rule_sets", Json::array()}, {"ip_lists", Json::array()}, {"coverage", Json::array()}, {"notes", Json::array()}};
  int next = 1;
  for (SuggestRequest& r : requests) {
    r.first_ip_list = next;
    Suggestion s = Suggest(r);
    next += static_cast<int>(s.ip_lists.size());
    if (!s.rule_set.is_null()) doc["rule_sets"].push_back(std::move(s.rule_set));
    for (Json& l : s.ip_lists) doc["ip_lists"].push_back(std::move(l));
    for (Json& c : s.coverage) doc["coverage"].push_back(std::move(c));
    for (const std::string& n : s.notes) doc["notes"].push_back(r.target->name + ": " + n);
  }
  return doc;
}

}  // namespace moat::compile
