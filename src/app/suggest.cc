#include "app/suggest.h"

#include <map>
#include <unordered_map>

#include "compile/suggest.h"
#include "pce/suggest_push.h"

namespace moat::app {
namespace {

using Json = nlohmann::json;

// moat's draft objects and those of moat's names: the collection filtered by external data, and
// by name (a partial match), merged.
Result<std::string> ReadDraft(pce::Client& client, const std::string& collection) {
  const std::string path = "sec_policy/draft/" + collection;
  auto bodies = client.GetCollections({path + "?external_data_set=moat", path + "?name=moat-suggested-"});
  if (!bodies) return Fail(std::move(bodies).error());
  Json out = Json::array();
  std::map<std::string, bool> seen;
  for (const std::string& body : *bodies) {
    Json objects = Json::parse(body, nullptr, false);  // GetCollections checked it is an array
    if (!objects.is_array()) continue;
    for (Json& o : objects) {
      const std::string href = o.is_object() ? o.value("href", "") : "";
      if (href.empty() || !seen.emplace(href, true).second) continue;
      out.push_back(std::move(o));
    }
  }
  return out.dump();
}

class Pusher {
 public:
  Pusher(pce::Client& client, SuggestPushReport& report) : client_(client), report_(report) {}

  // Writes the plan; false (report_.error set) at the first failed write.
  bool Run(const pce::PushPlan& plan) {
    for (const pce::IpListPush& l : plan.ip_lists) {
      if (!IpList(l)) return false;
    }
    for (const pce::RuleSetPush& r : plan.rule_sets) {
      if (!RuleSet(r)) return false;
    }
    return true;
  }

 private:
  bool IpList(const pce::IpListPush& l) {
    const std::string what = "IP list " + l.name + " (" + l.subject + ")";
    std::string href = l.href;
    if (l.action == pce::PushAction::kCreate) {
      auto made = client_.Create("sec_policy/draft/ip_lists", l.body);
      if (!made) return Failed("creating " + what, made.error().message);
      href = *made;
    } else if (l.action == pce::PushAction::kUpdate) {
      if (auto st = client_.Update(href, l.body); !st) return Failed("updating " + what, st.error().message);
    }
    if (!l.placeholder.empty()) hrefs_[l.placeholder] = href;
    Done(l.action, what + " " + href);
    return true;
  }

  bool RuleSet(const pce::RuleSetPush& r) {
    const std::string what = "rule set " + r.name + " (" + r.subject + ")";
    if (r.action == pce::PushAction::kCreate) {
      auto made = client_.Create("sec_policy/draft/rule_sets", pce::ReplaceHrefs(r.body, hrefs_));
      if (!made) return Failed("creating " + what, made.error().message);
      Done(r.action,
           what + " " + *made + " with " + std::to_string(r.body.value("rules", Json::array()).size()) + " rule(s)");
      return true;
    }
    if (!r.body.is_null()) {
      if (auto st = client_.Update(r.href, pce::ReplaceHrefs(r.body, hrefs_)); !st) {
        return Failed("updating " + what, st.error().message);
      }
    }
    size_t n[4] = {0, 0, 0, 0};
    for (const pce::RulePush& rule : r.rules) {
      using Op = pce::RulePush::Op;
      Status st;
      if (rule.op == Op::kCreate) {
        auto made = client_.Create(r.href + "/sec_rules", pce::ReplaceHrefs(rule.body, hrefs_));
        if (!made) st = Fail(std::move(made).error());
      } else if (rule.op == Op::kUpdate) {
        st = client_.Update(rule.href, pce::ReplaceHrefs(rule.body, hrefs_));
      } else if (rule.op == Op::kDelete) {
        st = client_.Delete(rule.href);
      }
      if (!st) return Failed("updating the rules of " + what, st.error().message);
      ++n[static_cast<int>(rule.op)];
    }
    std::string line = what + " " + r.href;
    if (r.action == pce::PushAction::kUpdate) {
      line += ": rules " + std::to_string(n[0]) + " created, " + std::to_string(n[1]) + " updated, " +
              std::to_string(n[2]) + " deleted, " + std::to_string(n[3]) + " unchanged";
    }
    Done(r.action, line);
    return true;
  }

  void Done(pce::PushAction action, const std::string& what) {
    switch (action) {
      case pce::PushAction::kCreate:
        ++report_.created;
        report_.lines.push_back("created " + what);
        break;
      case pce::PushAction::kUpdate:
        ++report_.updated;
        report_.lines.push_back("updated " + what);
        break;
      case pce::PushAction::kUnchanged:
        ++report_.unchanged;
        report_.lines.push_back("unchanged " + what);
        break;
    }
  }

  bool Failed(const std::string& what, const std::string& why) {
    report_.error = what + ": " + why + " (written before it: " + std::to_string(report_.created) + " created, " +
                    std::to_string(report_.updated) + " updated)";
    return false;
  }

  pce::Client& client_;
  SuggestPushReport& report_;
  std::map<std::string, std::string> hrefs_;  // placeholder -> the PCE's IP list href
};

// Plans the push of `document` against the PCE's draft, and unless `plan_only` writes it.
Status Push(const Json& document, bool plan_only, const PceDeps& deps, SuggestPushReport& report) {
  auto connection = ConnectPce(deps);
  if (!connection) return Fail(std::move(connection).error().Context("--push"));
  pce::Client& client = *connection->client;
  auto lists = ReadDraft(client, "ip_lists");
  if (!lists) return Fail(std::move(lists).error());
  auto sets = ReadDraft(client, "rule_sets");
  if (!sets) return Fail(std::move(sets).error());
  auto plan = pce::PlanPush(document, *lists, *sets);
  if (!plan) return Fail(std::move(plan).error());
  report.conflicts = plan->conflicts.size();
  if (plan_only) {
    report.lines = pce::DescribePush(*plan);
    return {};
  }
  Pusher(client, report).Run(*plan);
  for (const std::string& line : pce::DescribePush({{}, {}, plan->conflicts})) report.lines.push_back(line);
  report.pce_writes = client.writes();
  return {};
}

}  // namespace

Result<SuggestReport> RunSuggest(const SuggestRunRequest& req, const PolicyDeps& policy_deps,
                                 const FlowsDeps& flows_deps, int64_t now, const PceDeps* pce) {
  if (req.policy.empty()) return Fail(InvalidInput("no policy given: --policy pce, or --policy FILE"));
  if (req.push && pce == nullptr) return Fail(InvalidInput("--push: the PCE is not available here"));
  auto policy = LoadPolicy(req.policy, req.version, policy_deps);
  if (!policy) return Fail(std::move(policy).error());
  // Every virtual service is a subject: a database modelled in the PCE before any rule names it.
  auto chosen = ChooseTargets(compile::Compile(*policy, {.every_virtual_service = true}), req.targets,
                              "no virtual service or provider workload of the policy has that name, FQDN or RDS "
                              "identifier (a database the PCE does not model yet needs one: moat pce sync)");
  if (!chosen) return Fail(std::move(chosen).error());
  const compile::Compiled& compiled = *chosen;
  auto observed = LoadObserved(req.observed, flows_deps, now);
  if (!observed) return Fail(std::move(observed).error());

  // Accepted flows by responder.
  std::unordered_map<std::string, std::vector<const traffic::Flow*>> by_responder;
  for (const traffic::Flow& f : observed->flows) {
    if (f.key.action == flowlog::Action::kAccept) by_responder[net::ToString(f.key.responder)].push_back(&f);
  }
  SuggestReport report;
  std::vector<compile::SuggestRequest> requests;
  for (const compile::Target& t : compiled.targets) {
    compile::SuggestRequest s;
    s.policy = &*policy;
    s.target = &t;
    for (const net::Prefix& p : t.addresses.ToPrefixes()) {
      auto it = by_responder.find(net::ToString(p.base));
      if (it == by_responder.end()) continue;
      for (const traffic::Flow* f : it->second) {
        s.flows.push_back({f->key.initiator, f->key.protocol, f->key.port, f->counts.records,
                           f->counts.last == flowlog::kNoTime ? 0 : f->counts.last});
      }
    }
    // A subject without flows stays in: its suggestion is a note saying so.
    report.flows += s.flows.size();
    requests.push_back(std::move(s));
  }
  nlohmann::json doc = compile::SuggestDocument(std::move(requests));
  report.rule_sets = doc["rule_sets"].size();
  for (const auto& rs : doc["rule_sets"]) report.rules += rs["rules"].size();
  report.ip_lists = doc["ip_lists"].size();
  report.document = doc.dump(2) + "\n";
  report.window_flows = observed->flows.size();
  // A push over a window that holds none of the history would take moat's rules away in the draft
  // because of a mistyped --since: only a window chosen on purpose may.
  if (req.push && !req.push_plan && observed->EmptyWindow() && !req.observed.since_given) {
    return Fail(InvalidInput("the flow-history window (" + observed->window + ") holds none of its " +
                             std::to_string(observed->recorded) + " recorded flow(s) (" + observed->Span() +
                             "): nothing pushed; give --since explicitly to push from it"));
  }
  report.observed = WithoutFlows(std::move(*observed));
  if (req.push && report.observed.available) {  // without a flow history there is nothing to push
    if (auto st = Push(doc, req.push_plan, *pce, report.push); !st) return Fail(std::move(st).error());
  }
  return report;
}

}  // namespace moat::app
