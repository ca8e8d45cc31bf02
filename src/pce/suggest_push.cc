#include "pce/suggest_push.h"

#include <algorithm>
#include <set>

namespace moat::pce {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kDataSet = "moat";
constexpr std::string_view kPrefix = "suggest:";

std::string Str(const Json& o, const char* key) {
  if (!o.is_object()) return "";
  const auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : "";
}

bool Flag(const Json& o, const char* key, bool fallback) {
  if (!o.is_object()) return fallback;
  const auto it = o.find(key);
  return it != o.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

Json Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// Comparable forms of what moat writes: the PCE may answer with more (names of labels, defaults,
// envelope fields) and in another order.
Json CanonActors(const Json& actors) {
  std::vector<std::string> out;
  if (!actors.is_array()) return out;
  for (const Json& a : actors) {
    std::string one;
    for (const char* kind : {"label", "label_group", "workload", "virtual_service", "virtual_server", "ip_list"}) {
      if (a.is_object() && a.contains(kind)) one = std::string(kind) + "=" + Str(a[kind], "href");
    }
    if (one.empty()) one = "actors=" + Str(a, "actors");
    if (Flag(a, "exclusion", false)) one = "!" + one;
    out.push_back(std::move(one));
  }
  return Sorted(std::move(out));
}

std::string Number(const Json& o, const char* key) {
  return o.is_object() && o.contains(key) && o[key].is_number_integer() ? std::to_string(o[key].get<int64_t>()) : "";
}

Json CanonServices(const Json& services) {
  std::vector<std::string> out;
  if (!services.is_array()) return out;
  for (const Json& s : services) {
    const std::string href = Str(s, "href");
    out.push_back(!href.empty() ? "href=" + href
                                : Number(s, "proto") + ":" + Number(s, "port") + "-" + Number(s, "to_port"));
  }
  return Sorted(std::move(out));
}

Json CanonStrings(const Json& list) {
  std::vector<std::string> out;
  if (list.is_array()) {
    for (const Json& s : list) out.push_back(s.is_string() ? s.get<std::string>() : s.dump());
  }
  return Sorted(std::move(out));
}

Json CanonRule(const Json& r) {
  const Json resolve = r.is_object() ? r.value("resolve_labels_as", Json::object()) : Json::object();
  return {{"enabled", Flag(r, "enabled", true)},
          {"description", Str(r, "description")},
          {"providers", CanonActors(r.value("providers", Json::array()))},
          {"consumers", CanonActors(r.value("consumers", Json::array()))},
          {"ingress_services", CanonServices(r.value("ingress_services", Json::array()))},
          {"resolve_providers", CanonStrings(resolve.value("providers", Json::array()))},
          {"resolve_consumers", CanonStrings(resolve.value("consumers", Json::array()))},
          {"unscoped_consumers", Flag(r, "unscoped_consumers", false)}};
}

Json CanonIpList(const Json& l) {
  std::vector<std::string> ranges, fqdns;
  for (const Json& r : l.value("ip_ranges", Json::array())) {
    ranges.push_back(Str(r, "from_ip") + "|" + Str(r, "to_ip") + "|" + (Flag(r, "exclusion", false) ? "x" : ""));
  }
  for (const Json& f : l.value("fqdns", Json::array())) fqdns.push_back(Str(f, "fqdn"));
  return {{"name", Str(l, "name")},
          {"description", Str(l, "description")},
          {"ip_ranges", Sorted(std::move(ranges))},
          {"fqdns", Sorted(std::move(fqdns))}};
}

Json CanonRuleSet(const Json& rs) {
  std::vector<std::string> scopes;
  for (const Json& s : rs.value("scopes", Json::array())) scopes.push_back(CanonActors(s).dump());
  return {{"name", Str(rs, "name")},
          {"description", Str(rs, "description")},
          {"enabled", Flag(rs, "enabled", true)},
          {"scopes", Sorted(std::move(scopes))}};
}

Json Without(Json body, std::initializer_list<const char*> keys) {
  for (const char* k : keys) body.erase(k);
  return body;
}

// The subject a reference names: "suggest:<subject>" or "suggest:<subject>:clients[-k]".
std::string SubjectOf(const std::string& reference, bool ip_list) {
  std::string s = reference.substr(kPrefix.size());
  if (ip_list) s = s.substr(0, s.rfind(":clients"));
  return s;
}

struct Found {
  const Json* ours = nullptr;
  std::vector<PushConflict> conflicts;
};

// moat's object of `reference` among `existing`, and the objects of `name` that are not it.
Found Find(const Json& existing, const std::string& kind, const std::string& name, const std::string& reference,
           const std::string& subject) {
  Found out;
  std::vector<const Json*> ours;
  for (const Json& o : existing) {
    if (Str(o, "update_type") == "delete") continue;  // on its way out of the draft
    if (Str(o, "external_data_set") == kDataSet && Str(o, "external_data_reference") == reference) ours.push_back(&o);
  }
  if (ours.size() > 1) {
    std::string hrefs;
    for (const Json* o : ours) hrefs += (hrefs.empty() ? "" : ", ") + Str(*o, "href");
    out.conflicts.push_back({subject, kind, name, Str(*ours[0], "href"),
                             "several draft objects carry moat's reference " + reference + ": " + hrefs});
    return out;
  }
  if (!ours.empty()) out.ours = ours[0];
  for (const Json& o : existing) {
    if (&o == out.ours || Str(o, "name") != name || Str(o, "update_type") == "delete") continue;
    const std::string set = Str(o, "external_data_set"), ref = Str(o, "external_data_reference");
    out.conflicts.push_back({subject, kind, name, Str(o, "href"),
                             "it is not moat's (external data: " +
                                 (set.empty() && ref.empty() ? std::string("none") : set + " " + ref) + ")"});
  }
  return out;
}

Result<Json> ParseArray(std::string_view text, const char* what) {
  Json doc = Json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_array()) return Fail(InvalidInput(std::string(what) + ": not a JSON array"));
  for (const Json& o : doc) {
    if (!o.is_object() || Str(o, "href").empty()) {
      return Fail(InvalidInput(std::string(what) + ": an object without an href: " + o.dump().substr(0, 80)));
    }
  }
  return doc;
}

// Checks a document object's external data; returns its reference.
Result<std::string> Reference(const Json& o, const char* kind) {
  const std::string ref = Str(o, "external_data_reference");
  if (Str(o, "name").empty() || Str(o, "external_data_set") != kDataSet || !ref.starts_with(kPrefix) ||
      ref.size() == kPrefix.size()) {
    return Fail(InvalidInput(std::string("the suggestion's ") + kind + " " + Str(o, "name") +
                             " lacks a name or moat's external data"));
  }
  return ref;
}

// The rule writes that turn `existing` into `desired`: equal rules stay, the others are updated in
// place in order, extra ones created or deleted.
std::vector<RulePush> PlanRules(const Json& desired, const Json& existing) {
  std::vector<RulePush> out(desired.size());
  std::vector<bool> used(existing.size());
  std::vector<bool> done(desired.size());
  for (size_t i = 0; i < desired.size(); ++i) {
    const Json want = CanonRule(desired[i]);
    for (size_t j = 0; j < existing.size(); ++j) {
      if (used[j] || CanonRule(existing[j]) != want) continue;
      out[i] = {RulePush::Op::kUnchanged, Str(existing[j], "href"), desired[i]};
      used[j] = done[i] = true;
      break;
    }
  }
  size_t j = 0;
  for (size_t i = 0; i < desired.size(); ++i) {
    if (done[i]) continue;
    while (j < existing.size() && used[j]) ++j;
    if (j < existing.size()) {
      out[i] = {RulePush::Op::kUpdate, Str(existing[j], "href"), desired[i]};
      used[j] = true;
    } else {
      out[i] = {RulePush::Op::kCreate, "", desired[i]};
    }
  }
  for (size_t k = 0; k < existing.size(); ++k) {
    if (!used[k]) out.push_back({RulePush::Op::kDelete, Str(existing[k], "href"), nullptr});
  }
  return out;
}

}  // namespace

bool PushPlan::HasChanges() const {
  return std::any_of(ip_lists.begin(), ip_lists.end(),
                     [](const IpListPush& l) { return l.action != PushAction::kUnchanged; }) ||
         std::any_of(rule_sets.begin(), rule_sets.end(),
                     [](const RuleSetPush& r) { return r.action != PushAction::kUnchanged; });
}

Json ReplaceHrefs(const Json& body, const std::map<std::string, std::string>& hrefs) {
  if (body.is_string()) {
    auto it = hrefs.find(body.get<std::string>());
    return it == hrefs.end() ? body : Json(it->second);
  }
  if (!body.is_structured()) return body;
  Json out = body;
  for (auto& [key, value] : out.items()) value = ReplaceHrefs(value, hrefs);
  return out;
}

Result<PushPlan> PlanPush(const Json& document, std::string_view ip_lists_text, std::string_view rule_sets_text) {
  if (!document.is_object() || !document.value("ip_lists", Json()).is_array() ||
      !document.value("rule_sets", Json()).is_array()) {
    return Fail(InvalidInput("the suggestion is not a document of rule_sets and ip_lists"));
  }
  auto existing_lists = ParseArray(ip_lists_text, "the draft IP lists");
  if (!existing_lists) return Fail(std::move(existing_lists).error());
  auto existing_sets = ParseArray(rule_sets_text, "the draft rule sets");
  if (!existing_sets) return Fail(std::move(existing_sets).error());

  PushPlan plan;
  std::map<std::string, std::string> known;  // placeholder -> the PCE's href of an existing list
  for (const Json& l : document["ip_lists"]) {
    auto ref = Reference(l, "IP list");
    if (!ref) return Fail(std::move(ref).error());
    IpListPush p;
    p.reference = *ref;
    p.subject = SubjectOf(*ref, true);
    p.name = Str(l, "name");
    p.placeholder = Str(l, "href");
    p.body = Without(l, {"href"});
    Found f = Find(*existing_lists, "IP list", p.name, p.reference, p.subject);
    plan.conflicts.insert(plan.conflicts.end(), f.conflicts.begin(), f.conflicts.end());
    if (f.ours != nullptr) {
      p.href = Str(*f.ours, "href");
      p.action = CanonIpList(p.body) == CanonIpList(*f.ours) ? PushAction::kUnchanged : PushAction::kUpdate;
      if (p.action == PushAction::kUpdate && !f.ours->value("fqdns", Json::array()).empty()) {
        p.body["fqdns"] = Json::array();
      }
      if (!p.placeholder.empty()) known[p.placeholder] = p.href;
    }
    plan.ip_lists.push_back(std::move(p));
  }
  for (const Json& rs : document["rule_sets"]) {
    auto ref = Reference(rs, "rule set");
    if (!ref) return Fail(std::move(ref).error());
    RuleSetPush p;
    p.reference = *ref;
    p.subject = SubjectOf(*ref, false);
    p.name = Str(rs, "name");
    const Json desired = ReplaceHrefs(rs, known);
    Found f = Find(*existing_sets, "rule set", p.name, p.reference, p.subject);
    plan.conflicts.insert(plan.conflicts.end(), f.conflicts.begin(), f.conflicts.end());
    if (f.ours == nullptr) {
      p.body = Without(desired, {"href"});
    } else {
      p.href = Str(*f.ours, "href");
      if (CanonRuleSet(desired) != CanonRuleSet(*f.ours)) p.body = Without(desired, {"href", "rules"});
      p.rules = PlanRules(desired.value("rules", Json::array()), f.ours->value("rules", Json::array()));
      const bool rules_equal = std::all_of(p.rules.begin(), p.rules.end(),
                                           [](const RulePush& r) { return r.op == RulePush::Op::kUnchanged; });
      p.action = p.body.is_null() && rules_equal ? PushAction::kUnchanged : PushAction::kUpdate;
    }
    plan.rule_sets.push_back(std::move(p));
  }
  // A subject with a conflict is left alone entirely: its rules would refer to its IP lists.
  std::set<std::string> blocked;
  for (const PushConflict& c : plan.conflicts) blocked.insert(c.subject);
  std::erase_if(plan.ip_lists, [&](const IpListPush& p) { return blocked.contains(p.subject); });
  std::erase_if(plan.rule_sets, [&](const RuleSetPush& p) { return blocked.contains(p.subject); });
  return plan;
}

std::vector<std::string> DescribePush(const PushPlan& plan) {
  std::vector<std::string> out;
  const auto head = [](PushAction a) {
    return a == PushAction::kCreate ? "+ create " : a == PushAction::kUpdate ? "~ update " : "= unchanged ";
  };
  for (const IpListPush& l : plan.ip_lists) {
    std::string line = head(l.action) + std::string("IP list ") + l.name + " (" + l.subject + ")";
    if (!l.href.empty()) line += " " + l.href;
    out.push_back(std::move(line));
  }
  for (const RuleSetPush& r : plan.rule_sets) {
    std::string line = head(r.action) + std::string("rule set ") + r.name + " (" + r.subject + ")";
    if (r.action == PushAction::kCreate) {
      line += " with " + std::to_string(r.body.value("rules", Json::array()).size()) + " rule(s)";
    } else {
      size_t n[4] = {0, 0, 0, 0};
      for (const RulePush& p : r.rules) ++n[static_cast<int>(p.op)];
      line += " " + r.href + ": ";
      if (r.action == PushAction::kUpdate) line += !r.body.is_null() ? "its fields, " : "";
      line += "rules " + std::to_string(n[0]) + " created, " + std::to_string(n[1]) + " updated, " +
              std::to_string(n[2]) + " deleted, " + std::to_string(n[3]) + " unchanged";
    }
    out.push_back(std::move(line));
  }
  for (const PushConflict& c : plan.conflicts) {
    out.push_back("! conflict " + c.subject + ": the draft " + c.kind + " " + c.name + " " + c.href + ": " + c.why +
                  "; nothing is written for " + c.subject);
  }
  return out;
}

}  // namespace moat::pce
