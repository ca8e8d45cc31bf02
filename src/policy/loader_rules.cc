// Rule sets and rules, and Build()'s resolution of every reference. What a rule says that a
// security group cannot express is kept as a qualifier; what cannot be compiled exactly is the
// rule's problem, naming the field — and the rule set is still read, so that the other rules, and
// the targets the rule does not reach, are compiled as usual.
#include <algorithm>
#include <map>

#include "base/strings.h"
#include "policy/loader_state.h"

namespace moat::policy {
namespace {

using J = JsonPath;

std::string Indexed(std::string_view side, size_t i) { return std::string(side) + "[" + std::to_string(i) + "]"; }

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

constexpr std::string_view kKindNames[] = {"label", "label group", "workload", "virtual service", "IP list", "service"};

// The problem of the object of `kind` at index `i`.
const std::string& ObjectProblem(const Policy& p, RefKind kind, size_t i) {
  switch (kind) {
    case RefKind::kLabel:
      return p.labels[i].problem;
    case RefKind::kGroup:
      return p.label_groups[i].problem;
    case RefKind::kWorkload:
      return p.workloads[i].problem;
    case RefKind::kVirtualService:
      return p.virtual_services[i].problem;
    case RefKind::kIpList:
      return p.ip_lists[i].problem;
    case RefKind::kService:
      break;
  }
  return p.services[i].problem;  // kService
}

}  // namespace

void PolicyBuilder::State::ParseActors(const J& rule, std::string_view side, std::vector<Actor>& out, size_t set,
                                       size_t index) {
  const bool providers = side == "providers";
  Rule& r = policy.rule_sets[set].rules[index];
  const auto actors = rule.ArrOr(side);
  for (size_t i = 0; i < actors.size(); ++i) {
    const J& a = actors[i];
    const std::string path = Indexed(side, i);
    CheckProperties("actor", a);
    Actor x;
    x.exclusion = a.BoolOr("exclusion", false);
    const auto need = [&](RefKind kind, std::string_view key) {
      return Need(kind, a.At(key).At("href"), {Owner::kRule, set, index}, path + "." + std::string(key),
                  providers ? 0 : 1, out.size());
    };
    if (auto all = a.Find("actors")) {
      const std::string v = all->Str();
      x.kind = v == "ams" ? ActorKind::kAms : ActorKind::kUnknown;
      x.note = path + ": actors " + Quote(v) + ": moat cannot tell which addresses it stands for";
    } else if (a.Find("label")) {
      x.kind = ActorKind::kLabel;
      x.ref = need(RefKind::kLabel, "label");
    } else if (a.Find("label_group")) {
      x.kind = ActorKind::kLabelGroup;
      x.ref = need(RefKind::kGroup, "label_group");
    } else if (auto w = a.Find("workload")) {
      if (w->BoolOr("deleted", false)) {
        x.kind = ActorKind::kNothing;
        x.ref = w->At("href").Str();
        x.note = path + ": workload " + x.ref + " is deleted: it resolves to nothing";
      } else {
        x.kind = ActorKind::kWorkload;
        x.ref = need(RefKind::kWorkload, "workload");
      }
    } else if (a.Find("virtual_service")) {
      x.kind = ActorKind::kVirtualService;
      x.ref = need(RefKind::kVirtualService, "virtual_service");
    } else if (a.Find("ip_list")) {
      x.kind = ActorKind::kIpList;
      x.ref = need(RefKind::kIpList, "ip_list");
    } else if (auto vsrv = a.Find("virtual_server")) {
      x.kind = ActorKind::kVirtualServer;
      x.ref = vsrv->At("href").Str();
      x.note =
          path + ": virtual_server " + x.ref + ": a load balancer's virtual server, whose addresses moat does not know";
    } else if (auto dim = a.Find("label_dimension")) {
      x.kind = ActorKind::kUnknown;
      x.note = path + ": label_dimension " + Quote(dim->Str()) + ": moat cannot tell which workloads it stands for";
    } else {
      std::string keys;
      for (const auto& [key, value] : a.Obj()) keys += (keys.empty() ? "" : ", ") + key;
      x.kind = ActorKind::kUnknown;
      x.note = path + ": an actor moat does not know (" + keys + ")";
    }
    // A virtual server is never a database, so as a provider it reaches none; elsewhere what the
    // actor stands for is not known, and the rule cannot be compiled exactly.
    const bool unknown = x.kind == ActorKind::kUnknown || (x.kind == ActorKind::kVirtualServer && !providers);
    if (unknown && !x.exclusion && r.problem.empty()) {
      r.problem = x.note;
      r.providers_unknown = providers;
    }
    out.push_back(std::move(x));
  }
}

void PolicyBuilder::State::ParseIngress(const J& j, Rule& r, size_t set, size_t index) {
  const auto services = j.ArrOr("ingress_services");
  for (size_t i = 0; i < services.size(); ++i) {
    const J& s = services[i];
    const std::string path = Indexed("ingress_services", i);
    CheckProperties("ingress_service", s);
    if (auto href = s.Find("href")) {
      rule_services.push_back({set, index, HrefId(href->Str()), href->Str(), path});
    } else if (s.Find("service_ports") || s.Find("windows_services") || s.Find("windows_egress_services")) {
      Service inline_service;  // a service object written into the rule (PCE 25.2 and later)
      ParseServiceBody(s, inline_service, "the inline service");
      r.ports.insert(r.ports.end(), inline_service.ports.begin(), inline_service.ports.end());
      for (const std::string& q : inline_service.qualifiers) r.qualifiers.push_back(path + ": " + q);
    } else if (s.Find("proto")) {
      r.ports.push_back(ParsePortSpec(s));
    } else {
      s.Fail("expected a service href, an inline port and protocol, or an inline service");
    }
  }
}

void PolicyBuilder::State::ParseQualifiers(const J& j, Rule& r) {
  if (size_t n = j.ArrOr("consuming_security_principals").size(); n > 0) {
    r.qualifiers.push_back("consuming_security_principals: limited to the users of " + std::to_string(n) +
                           " security principal(s)");
  }
  if (j.BoolOr("machine_auth", false)) r.qualifiers.emplace_back("machine_auth: machine authentication");
  if (j.BoolOr("sec_connect", false)) r.qualifiers.emplace_back("sec_connect: SecureConnect (IPsec) encryption");
  if (j.BoolOr("stateless", false)) r.qualifiers.emplace_back("stateless: stateless packet filtering");
  // The default, brn, is the networks a data centre's workloads are on; anything else names a
  // distinction a security group does not make.
  if (auto nt = j.Find("network_type"); nt && nt->Str() != "brn") {
    r.qualifiers.push_back("network_type " + Quote(nt->Str()) + ": a type of network");
  }
  if (size_t n = j.ArrOr("egress_services").size(); n > 0) {
    r.qualifiers.push_back("egress_services: limited to the consumers' processes of " + std::to_string(n) +
                           " service(s)");
  }
}

void PolicyBuilder::State::ParseRule(const J& j, Rule& r, size_t set, size_t index) {
  CheckProperties(r.deny ? "deny_rule" : "rule", j);
  const std::string base = j.path();
  r.enabled = j.BoolOr("enabled", true);
  r.override = r.deny && j.BoolOr("override", false);
  // Providers first: when they cannot be read, which objects the rule reaches is not known.
  if (!Try(r.problem, base, [&] {
        ParseActors(j, "providers", r.providers, set, index);
        r.resolve_providers = ParseResolve(j, "providers");
        r.all_ips_except_providers = j.BoolOr("all_ips_except_for_in_providers", false);
      })) {
    r.providers_unknown = true;
  }
  Try(r.problem, base, [&] {
    ParseActors(j, "consumers", r.consumers, set, index);
    r.resolve_consumers = ParseResolve(j, "consumers");
    r.unscoped_consumers = j.BoolOr("unscoped_consumers", false);
    r.all_ips_except_consumers = j.BoolOr("all_ips_except_for_in_consumers", false);
    for (const J& side : j.ArrOr("use_workload_subnets")) {
      const std::string v = side.Str();
      if (v == "providers") {
        r.subnets_providers = true;
      } else if (v == "consumers") {
        r.subnets_consumers = true;
      } else {
        side.Fail("expected \"providers\" or \"consumers\", got " + Quote(v));
      }
    }
  });
  Try(r.problem, base, [&] { ParseIngress(j, r, set, index); });
  Try(r.problem, base, [&] { ParseQualifiers(j, r); });
}

void PolicyBuilder::State::AddRuleSet(const J& j) {
  if (!Selected(j)) return;
  CheckProperties("rule_set", j);
  const size_t index = policy.rule_sets.size();
  policy.rule_sets.emplace_back();
  RuleSet& rs = policy.rule_sets.back();
  rs.href = j.Href();
  Try(rs.problem, j.path(), [&] {
    rs.name = j.StrOr("name");
    rs.enabled = j.BoolOr("enabled", true);
  });
  Try(rs.problem, j.path(), [&] {
    const auto scopes = j.ArrOr("scopes");
    for (size_t s = 0; s < scopes.size(); ++s) {
      Scope scope;
      const auto items = scopes[s].Arr();
      for (size_t i = 0; i < items.size(); ++i) {
        const J& item = items[i];
        CheckProperties("scope_item", item);
        const std::string path = "scopes[" + std::to_string(s) + "][" + std::to_string(i) + "]";
        ScopeItem si;
        si.exclusion = item.BoolOr("exclusion", false);
        if (auto l = item.Find("label")) {
          si.ref = Need(RefKind::kLabel, l->At("href"), {Owner::kRuleSet, index}, path + ".label");
        } else if (auto g = item.Find("label_group")) {
          si.group = true;
          si.ref = Need(RefKind::kGroup, g->At("href"), {Owner::kRuleSet, index}, path + ".label_group");
        } else {
          item.Fail("expected a label or a label_group");
        }
        scope.push_back(std::move(si));
      }
      rs.scopes.push_back(std::move(scope));
    }
  });
  if (rs.scopes.empty()) rs.scopes.emplace_back();  // no scopes: everything
  for (const bool deny : {false, true}) {
    const std::string_view key = deny ? "deny_rules" : "rules";
    std::vector<J> rules;
    if (!Try(rs.problem, j.path(), [&] { rules = j.ArrOr(key); })) continue;
    for (const J& rj : rules) {
      // The rule is reached through its index: the vector grows as rules are added.
      auto& list = policy.rule_sets[index].rules;
      const size_t k = list.size();
      list.emplace_back();
      list.back().deny = deny;
      list.back().href = rj.path();
      Try(list.back().problem, rj.path(), [&] {
        if (auto h = rj.Find("href")) policy.rule_sets[index].rules[k].href = h->Str();
      });
      Rule& r = policy.rule_sets[index].rules[k];
      if (!Try(r.problem, rj.path(), [&] { ParseRule(rj, r, index, k); })) r.providers_unknown = true;
    }
  }
}

std::string* PolicyBuilder::State::ProblemOf(const Owner& o) {
  switch (o.kind) {
    case Owner::kRule:
      return &policy.rule_sets[o.a].rules[o.b].problem;
    case Owner::kRuleSet:
      return &policy.rule_sets[o.a].problem;
    case Owner::kLabelGroup:
      return &policy.label_groups[o.a].problem;
    case Owner::kVirtualService:
      return &policy.virtual_services[o.a].problem;
    case Owner::kBinding:
      return &policy.service_bindings[o.a].problem;
  }
  return nullptr;
}

Status PolicyBuilder::State::Resolve() {
  IndexObjects();
  // Label groups first, so that rules see their groups' problems. A problem of a nested group is
  // found where the group is expanded (compile/matcher.cc).
  for (const Ref& r : refs) {
    if (r.owner.kind != Owner::kLabelGroup) continue;
    std::string& problem = policy.label_groups[r.owner.a].problem;
    if (const std::string why = Failure(r.kind, r.id, r.href); !why.empty() && problem.empty()) {
      problem = r.path + ": " + why;
    }
  }
  ResolveRefs();
  AddServicePorts();
  return {};
}

void PolicyBuilder::State::IndexObjects() {
  Policy& p = policy;
  // Indexes, and the ids that two objects share: references to those are problems, never
  // resolved by order.
  auto index = [&](RefKind kind, std::string_view collection, auto& objects, auto& map, auto id_of) {
    for (size_t i = 0; i < objects.size(); ++i) {
      const std::string id = id_of(objects[i]);
      if (map.emplace(id, i).second) continue;
      if (shared_ids[kind].insert(id).second) {
        p.warnings.push_back(std::string(collection) + ": two objects have the href " + objects[i].href +
                             "; the rules that use it fail the targets they reach");
      }
    }
  };
  index(RefKind::kLabel, "labels", p.labels, p.label_index, [](const Label& l) { return l.href; });
  index(RefKind::kGroup, "label_groups", p.label_groups, p.group_index,
        [](const LabelGroup& g) { return HrefId(g.href); });
  index(RefKind::kWorkload, "workloads", p.workloads, p.workload_index, [](const Workload& w) { return w.href; });
  index(RefKind::kVirtualService, "virtual_services", p.virtual_services, p.vs_index,
        [](const VirtualService& v) { return HrefId(v.href); });
  index(RefKind::kIpList, "ip_lists", p.ip_lists, p.ip_list_index, [](const IpList& l) { return HrefId(l.href); });
  index(RefKind::kService, "services", p.services, p.service_index, [](const Service& s) { return HrefId(s.href); });
}

std::string PolicyBuilder::State::Failure(RefKind kind, const std::string& id, const std::string& shown) const {
  const Policy& p = policy;
  const std::unordered_map<std::string, size_t>* maps[] = {&p.label_index, &p.group_index,   &p.workload_index,
                                                           &p.vs_index,    &p.ip_list_index, &p.service_index};
  const std::string what = std::string(kKindNames[static_cast<int>(kind)]) + " " + (shown.empty() ? id : shown);
  const auto& map = *maps[static_cast<int>(kind)];
  auto it = map.find(id);
  if (it == map.end()) return what + " does not exist in the " + p.version + " policy";
  if (auto shared = shared_ids.find(kind); shared != shared_ids.end() && shared->second.contains(id)) {
    return what + ": two objects have this href, and moat does not pick one";
  }
  const std::string& problem = ObjectProblem(p, kind, it->second);
  return problem.empty() ? std::string() : what + ": " + problem;
}

void PolicyBuilder::State::ResolveRefs() {
  Policy& p = policy;
  std::vector<bool> unbound(p.service_bindings.size());
  for (const Ref& r : refs) {
    if (r.owner.kind == Owner::kLabelGroup) continue;
    if (r.kind == RefKind::kWorkload && deleted_workloads.contains(r.id)) {
      DeletedWorkloadRef(r, unbound);
      continue;
    }
    // An object's labels and a group's members only need their hrefs to match, so they are not
    // references here. A virtual service's problem matters only where it is a target, so rules
    // and bindings do not inherit it.
    // A binding of a virtual service that no rule can name here (gone from this version) binds
    // nothing that matters.
    if ((r.owner.kind == Owner::kRule || r.owner.kind == Owner::kBinding) && r.kind == RefKind::kVirtualService &&
        p.vs_index.contains(r.id) && !shared_ids[r.kind].contains(r.id)) {
      continue;
    }
    const std::string why = Failure(r.kind, r.id, r.href);
    if (why.empty()) continue;
    const std::string message = r.path + ": " + why;
    if (r.owner.kind == Owner::kBinding && r.kind == RefKind::kVirtualService) {
      unbound[r.owner.a] = true;  // binds a virtual service that no rule can name here
      continue;
    }
    std::string* problem = ProblemOf(r.owner);
    if (problem->empty()) *problem = message;
    if (r.owner.kind == Owner::kRule && r.side >= 0) {
      Rule& rule = p.rule_sets[r.owner.a].rules[r.owner.b];
      Actor& a = (r.side == 0 ? rule.providers : rule.consumers)[r.actor];
      a.kind = ActorKind::kUnknown;
      a.note = message;
      if (r.side == 0 && !a.exclusion) rule.providers_unknown = true;
    }
  }
  for (size_t i = p.service_bindings.size(); i-- > 0;) {
    if (unbound[i]) p.service_bindings.erase(p.service_bindings.begin() + static_cast<long>(i));
  }
}

void PolicyBuilder::State::DeletedWorkloadRef(const Ref& r, std::vector<bool>& unbound) {
  Policy& p = policy;
  if (r.owner.kind == Owner::kBinding) {
    unbound[r.owner.a] = true;
    p.warnings.push_back("service binding " + p.service_bindings[r.owner.a].href + ": workload " + r.id +
                         " is deleted; the binding binds nothing");
  } else if (r.owner.kind == Owner::kRule && r.side >= 0) {
    Rule& rule = p.rule_sets[r.owner.a].rules[r.owner.b];
    Actor& a = (r.side == 0 ? rule.providers : rule.consumers)[r.actor];
    a.kind = ActorKind::kNothing;
    a.note = r.path + ": workload " + r.id + " is deleted: it resolves to nothing";
  }
}

void PolicyBuilder::State::AddServicePorts() {
  Policy& p = policy;
  for (const auto& [vs, service] : vs_services) {
    if (!Failure(RefKind::kService, service).empty()) continue;  // the virtual service's problem already
    const Service& s = p.services[p.service_index.at(service)];
    p.virtual_services[vs].ports.insert(p.virtual_services[vs].ports.end(), s.ports.begin(), s.ports.end());
  }
  for (const RuleService& rs : rule_services) {
    Rule& rule = p.rule_sets[rs.set].rules[rs.rule];
    if (const std::string why = Failure(RefKind::kService, rs.id, rs.href); !why.empty()) {
      if (rule.problem.empty()) rule.problem = rs.path + ": " + why;
      continue;
    }
    const Service& s = p.services[p.service_index.at(rs.id)];
    rule.ports.insert(rule.ports.end(), s.ports.begin(), s.ports.end());
    for (const std::string& q : s.qualifiers) {
      rule.qualifiers.push_back(rs.path + ": service " + (s.name.empty() ? s.href : s.name) + ": " + q);
    }
  }
}

}  // namespace moat::policy
