#include "policy/loader.h"

#include <simdjson.h>

#include <charconv>

#include "base/strings.h"
#include "policy/json_path.h"

namespace moat::policy {
namespace {

using simdjson::dom::element;

using J = JsonPath;

// The version segment of a versioned href ("/orgs/1/sec_policy/active/..." -> "active").
std::string_view HrefVersion(std::string_view href) {
  constexpr std::string_view kMarker = "/sec_policy/";
  const size_t at = href.find(kMarker);
  if (at == std::string_view::npos) return {};
  const std::string_view rest = href.substr(at + kMarker.size());
  return rest.substr(0, rest.find('/'));
}

uint16_t Port(const J& j) {
  const int64_t v = j.Int();
  if (v < 0 || v > 65535) j.Fail("port out of range 0-65535: " + std::to_string(v));
  return static_cast<uint16_t>(v);
}

// {port?, to_port?, proto}: no port means every port of the protocol.
PortSpec ParsePortSpec(const J& j) {
  PortSpec s;
  const J proto = j.At("proto");
  const int64_t p = proto.Int();
  if (p < -1 || p > 255) proto.Fail("protocol out of range -1-255: " + std::to_string(p));
  s.protocol = static_cast<int>(p);
  if (auto port = j.Find("port"); port && port->Int() != -1 && s.protocol != kAllProtocols) {
    s.ports.from = s.ports.to = Port(*port);
    if (auto to = j.Find("to_port")) {
      s.ports.to = Port(*to);
      if (s.ports.to < s.ports.from) to->Fail("to_port is below port");
    }
  }
  return s;
}

net::Address ParseAddr(const J& j) {
  const std::string s = j.Str();
  auto a = net::ParseAddress(s);
  if (!a) j.Fail("not an IP address: " + Quote(s));
  return *a;
}

bool IsLoopbackOrLinkLocal(const net::Address& a) {
  if (a.is_v4()) return (a.lo >> 24) == 127;
  if (a.hi == 0 && a.lo == 1) return true;  // ::1
  return (a.hi >> 54) == (0xfe80ULL >> 6);  // fe80::/10
}

}  // namespace

std::string HrefId(std::string_view href) { return HrefAtVersion(href, "*"); }

std::string HrefAtVersion(std::string_view href, std::string_view version) {
  const std::string_view current = HrefVersion(href);
  if (current.empty()) return std::string(href);
  const size_t at = href.find("/sec_policy/") + 12;
  return std::string(href.substr(0, at)) + std::string(version) + std::string(href.substr(at + current.size()));
}

bool IsPolicyVersion(std::string_view v) {
  if (v == "active" || v == "draft") return true;
  if (v.empty() || v[0] == '0') return false;
  return std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A reference to check once everything is loaded.
struct Ref {
  enum Kind { kLabel, kGroup, kWorkload, kVirtualService, kIpList, kService } kind;
  std::string id, path, where;
};

struct PolicyBuilder::State {
  Policy policy;
  std::vector<Ref> refs;
  // Services named by virtual services: (vs index, service id), filled in at Build().
  std::vector<std::pair<size_t, std::string>> vs_services;
  // Rule ingress services by href: (rule set, rule, service id).
  std::vector<std::tuple<size_t, size_t, std::string>> rule_services;
  std::string where;

  std::string Need(Ref::Kind kind, const J& j) {
    std::string id = HrefId(j.Str());
    refs.push_back({kind, id, j.path(), where});
    return id;
  }

  // True when a versioned object belongs to the chosen version.
  bool Selected(const J& obj) const {
    const J href = obj.At("href");
    const std::string h = href.Str();
    const std::string_view v = HrefVersion(h);
    if (v.empty()) href.Fail("not a versioned href (/orgs/N/sec_policy/VERSION/...): " + Quote(h, 80));
    return v == policy.version;
  }

  std::vector<std::string> Labels(const J& obj) {
    std::vector<std::string> out;
    for (const J& l : obj.ArrOr("labels")) out.push_back(Need(Ref::kLabel, l.At("href")));
    return out;
  }

  void AddLabel(const J& j) {
    if (j.BoolOr("deleted", false)) return;
    policy.labels.push_back({j.Href(), j.At("key").Str(), j.At("value").Str()});
  }

  void AddLabelGroup(const J& j) {
    if (!Selected(j)) return;
    LabelGroup g{HrefId(j.Href()), j.StrOr("name"), j.StrOr("key"), Labels(j), {}};
    g.href = j.Href();
    for (const J& s : j.ArrOr("sub_groups")) g.sub_groups.push_back(HrefId(s.At("href").Str()));
    for (const J& s : j.ArrOr("sub_groups")) refs.push_back({Ref::kGroup, HrefId(s.At("href").Str()), s.path(), where});
    policy.label_groups.push_back(std::move(g));
  }

  void AddWorkload(const J& j) {
    if (j.BoolOr("deleted", false)) return;
    Workload w;
    w.href = j.Href();
    w.name = j.StrOr("name");
    w.hostname = j.StrOr("hostname");
    w.labels = Labels(j);
    w.managed = j.Find("ven").has_value() || j.Find("agent").has_value();
    for (const J& i : j.ArrOr("interfaces")) {
      if (i.BoolOr("loopback", false)) continue;
      auto addr = i.Find("address");
      if (!addr) continue;
      const net::Address a = ParseAddr(*addr);
      if (!IsLoopbackOrLinkLocal(a)) w.addresses.Add(a);
    }
    policy.workloads.push_back(std::move(w));
  }

  void AddVirtualService(const J& j) {
    if (!Selected(j)) return;
    VirtualService vs;
    vs.href = j.Href();
    vs.name = j.StrOr("name");
    vs.labels = Labels(j);
    for (const J& p : j.ArrOr("service_ports")) vs.ports.push_back(ParsePortSpec(p));
    if (auto s = j.Find("service"))
      vs_services.emplace_back(policy.virtual_services.size(), Need(Ref::kService, s->At("href")));
    for (const J& a : j.ArrOr("service_addresses")) {
      ServiceAddress sa;
      sa.fqdn = a.StrOr("fqdn");
      if (auto ip = a.Find("ip")) sa.ip = ParseAddr(*ip);
      vs.addresses.push_back(std::move(sa));
    }
    policy.virtual_services.push_back(std::move(vs));
  }

  void AddServiceBinding(const J& j) {
    ServiceBinding b;
    b.href = j.StrOr("href");
    b.virtual_service = Need(Ref::kVirtualService, j.At("virtual_service").At("href"));
    b.workload = Need(Ref::kWorkload, j.At("workload").At("href"));
    for (const J& o : j.ArrOr("port_overrides")) {
      PortOverride po;
      po.protocol = static_cast<int>(o.At("proto").Int());
      po.port = Port(o.At("port"));
      po.to.from = po.to.to = Port(o.At("new_port"));
      if (auto to = o.Find("new_to_port")) po.to.to = Port(*to);
      if (po.to.to < po.to.from) o.Fail("new_to_port is below new_port");
      b.overrides.push_back(po);
    }
    policy.service_bindings.push_back(std::move(b));
  }

  void AddIpList(const J& j) {
    if (!Selected(j)) return;
    IpList l;
    l.href = j.Href();
    l.name = j.StrOr("name");
    net::AddressSet excluded;
    for (const J& r : j.ArrOr("ip_ranges")) {
      const J from = r.At("from_ip");
      net::AddressSet range;
      if (auto to = r.Find("to_ip")) {
        const net::Address a = ParseAddr(from), b = ParseAddr(*to);
        if (a.family != b.family || b < a) to->Fail("to_ip is below from_ip or of another family");
        range.AddRange(a, b);
      } else {
        const std::string s = from.Str();
        auto p = net::ParsePrefix(s);
        if (!p) from.Fail("not an IP address or CIDR: " + Quote(s));
        range.Add(*p);
      }
      (r.BoolOr("exclusion", false) ? excluded : l.addresses).Add(range);
    }
    l.addresses.Subtract(excluded);
    for (const J& f : j.ArrOr("fqdns")) l.fqdns.push_back(f.At("fqdn").Str());
    policy.ip_lists.push_back(std::move(l));
  }

  void AddService(const J& j) {
    if (!Selected(j)) return;
    Service s;
    s.href = j.Href();
    s.name = j.StrOr("name");
    for (const J& p : j.ArrOr("service_ports")) s.ports.push_back(ParsePortSpec(p));
    for (const J& p : j.ArrOr("windows_services")) s.ports.push_back(ParsePortSpec(p));
    policy.services.push_back(std::move(s));
  }

  Actor ParseActor(const J& j) {
    Actor a;
    a.exclusion = j.BoolOr("exclusion", false);
    if (auto all = j.Find("actors")) {
      if (all->Str() != "ams") all->Fail("unsupported actor " + Quote(all->Str()) + " (only \"ams\" is)");
      a.kind = ActorKind::kAms;
      return a;
    }
    static constexpr std::pair<std::string_view, ActorKind> kKinds[] = {{"label", ActorKind::kLabel},
                                                                        {"label_group", ActorKind::kLabelGroup},
                                                                        {"workload", ActorKind::kWorkload},
                                                                        {"virtual_service", ActorKind::kVirtualService},
                                                                        {"ip_list", ActorKind::kIpList}};
    static constexpr Ref::Kind kRefs[] = {Ref::kLabel, Ref::kGroup, Ref::kWorkload, Ref::kVirtualService, Ref::kIpList};
    for (size_t i = 0; i < std::size(kKinds); ++i) {
      if (auto r = j.Find(kKinds[i].first)) {
        a.kind = kKinds[i].second;
        a.ref = Need(kRefs[i], r->At("href"));
        return a;
      }
    }
    j.Fail("unsupported actor: expected one of actors=ams, label, label_group, workload, virtual_service, ip_list");
  }

  Resolve ParseResolve(const J& rule, std::string_view side) {
    Resolve r;
    auto ras = rule.Find("resolve_labels_as");
    if (!ras) return r;
    auto list = ras->Find(side);
    if (!list) return r;
    r.workloads = false;
    for (const J& k : list->Arr()) {
      const std::string v = k.Str();
      if (v == "workloads") {
        r.workloads = true;
      } else if (v == "virtual_services") {
        r.virtual_services = true;
      } else {
        k.Fail("expected \"workloads\" or \"virtual_services\", got " + Quote(v));
      }
    }
    return r;
  }

  Rule ParseRule(const J& j, bool deny, size_t set_index, size_t rule_index) {
    Rule r;
    r.href = j.StrOr("href");
    r.enabled = j.BoolOr("enabled", true);
    r.deny = deny;
    r.override = deny && j.BoolOr("override", false);
    for (const J& a : j.ArrOr("providers")) r.providers.push_back(ParseActor(a));
    for (const J& a : j.ArrOr("consumers")) r.consumers.push_back(ParseActor(a));
    for (const J& s : j.ArrOr("ingress_services")) {
      if (s.Find("href")) {
        rule_services.emplace_back(set_index, rule_index, Need(Ref::kService, s.At("href")));
      } else {
        r.ports.push_back(ParsePortSpec(s));
      }
    }
    r.resolve_providers = ParseResolve(j, "providers");
    r.resolve_consumers = ParseResolve(j, "consumers");
    r.unscoped_consumers = j.BoolOr("unscoped_consumers", false);
    return r;
  }

  void AddRuleSet(const J& j) {
    if (!Selected(j)) return;
    const size_t index = policy.rule_sets.size();
    RuleSet rs;
    rs.href = j.Href();
    rs.name = j.StrOr("name");
    rs.enabled = j.BoolOr("enabled", true);
    for (const J& scope : j.ArrOr("scopes")) {
      Scope s;
      for (const J& item : scope.Arr()) {
        ScopeItem si;
        si.exclusion = item.BoolOr("exclusion", false);
        if (auto l = item.Find("label")) {
          si.ref = Need(Ref::kLabel, l->At("href"));
        } else if (auto g = item.Find("label_group")) {
          si.group = true;
          si.ref = Need(Ref::kGroup, g->At("href"));
        } else {
          item.Fail("expected a label or a label_group");
        }
        s.push_back(std::move(si));
      }
      rs.scopes.push_back(std::move(s));
    }
    if (j.ArrOr("scopes").empty()) rs.scopes.push_back({});  // no scopes: everything
    policy.rule_sets.push_back(std::move(rs));
    auto& rules = policy.rule_sets.back().rules;
    for (const J& r : j.ArrOr("rules")) rules.push_back(ParseRule(r, false, index, rules.size()));
    for (const J& r : j.ArrOr("deny_rules")) rules.push_back(ParseRule(r, true, index, rules.size()));
  }

  void Add(std::string_view collection, const J& obj) {
    if (collection == "labels") return AddLabel(obj);
    if (collection == "label_groups") return AddLabelGroup(obj);
    if (collection == "workloads") return AddWorkload(obj);
    if (collection == "virtual_services") return AddVirtualService(obj);
    if (collection == "service_bindings") return AddServiceBinding(obj);
    if (collection == "ip_lists") return AddIpList(obj);
    if (collection == "services") return AddService(obj);
    if (collection == "rule_sets") return AddRuleSet(obj);
  }
};

PolicyBuilder::PolicyBuilder(std::string version) : state_(std::make_unique<State>()) {
  state_->policy.version = std::move(version);
}
PolicyBuilder::~PolicyBuilder() = default;
PolicyBuilder::PolicyBuilder(PolicyBuilder&&) noexcept = default;

namespace {

Status AddArray(PolicyBuilder::State& st, std::string_view collection, element array, std::string path,
                std::string_view where) {
  st.where = std::string(where);
  try {
    for (const J& obj : J(array, std::move(path)).Arr()) st.Add(collection, obj);
  } catch (const JsonPathError& e) {
    return Fail(InvalidInput(std::string(where) + ": " + e.path + ": " + e.what));
  }
  return {};
}

}  // namespace

Status PolicyBuilder::AddCollection(std::string_view collection, std::string_view json, std::string_view where) {
  simdjson::dom::parser parser;
  element doc;
  if (auto err = parser.parse(simdjson::padded_string(json)).get(doc); err != simdjson::SUCCESS) {
    return Fail(InvalidInput(std::string(where) + ": not valid JSON: " + simdjson::error_message(err)));
  }
  return AddArray(*state_, collection, doc, std::string(collection), where);
}

Result<Policy> PolicyBuilder::Build() && {
  State& st = *state_;
  Policy& p = st.policy;
  auto index = [](auto& objects, auto& map, auto id_of) {
    for (size_t i = 0; i < objects.size(); ++i) map.emplace(id_of(objects[i]), i);
  };
  index(p.labels, p.label_index, [](const Label& l) { return l.href; });
  index(p.label_groups, p.group_index, [](const LabelGroup& g) { return HrefId(g.href); });
  index(p.workloads, p.workload_index, [](const Workload& w) { return w.href; });
  index(p.virtual_services, p.vs_index, [](const VirtualService& v) { return HrefId(v.href); });
  index(p.ip_lists, p.ip_list_index, [](const IpList& l) { return HrefId(l.href); });
  index(p.services, p.service_index, [](const Service& s) { return HrefId(s.href); });
  for (const Ref& r : st.refs) {
    const std::unordered_map<std::string, size_t>* maps[] = {&p.label_index, &p.group_index,   &p.workload_index,
                                                             &p.vs_index,    &p.ip_list_index, &p.service_index};
    static constexpr const char* kNames[] = {"label",           "label group", "workload",
                                             "virtual service", "IP list",     "service"};
    if (!maps[r.kind]->contains(r.id)) {
      return Fail(InvalidInput(r.where + ": " + r.path + ": " + kNames[r.kind] + " " + r.id +
                               " does not exist in the " + p.version + " policy"));
    }
  }
  for (const auto& [vs, service] : st.vs_services) {
    const Service& s = p.services[p.service_index.at(service)];
    p.virtual_services[vs].ports.insert(p.virtual_services[vs].ports.end(), s.ports.begin(), s.ports.end());
  }
  for (const auto& [set, rule, service] : st.rule_services) {
    const Service& s = p.services[p.service_index.at(service)];
    auto& ports = p.rule_sets[set].rules[rule].ports;
    ports.insert(ports.end(), s.ports.begin(), s.ports.end());
  }
  return std::move(p);
}

Result<Policy> LoadBundle(std::string_view json, std::string_view where, const std::string& version) {
  if (!IsPolicyVersion(version)) return Fail(InvalidInput("policy version must be active, draft or a number"));
  simdjson::dom::parser parser;
  element doc;
  if (auto err = parser.parse(simdjson::padded_string(json)).get(doc); err != simdjson::SUCCESS) {
    return Fail(InvalidInput(std::string(where) + ": not valid JSON: " + simdjson::error_message(err)));
  }
  simdjson::dom::object root;
  if (doc.get_object().get(root) != simdjson::SUCCESS) {
    return Fail(InvalidInput(std::string(where) + ": expected a policy bundle: an object of PCE collections"));
  }
  PolicyBuilder builder(version);
  for (std::string_view collection : kCollections) {
    element array;
    if (root.at_key(collection).get(array) != simdjson::SUCCESS || array.is_null()) continue;
    if (auto st = AddArray(*builder.state_, collection, array, std::string(collection), where); !st) {
      return Fail(std::move(st).error());
    }
  }
  return std::move(builder).Build();
}

}  // namespace moat::policy
