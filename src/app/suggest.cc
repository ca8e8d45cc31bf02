#include "app/suggest.h"

#include <unordered_map>

#include "compile/suggest.h"

namespace moat::app {

Result<SuggestReport> RunSuggest(const SuggestRunRequest& req, const PolicyDeps& policy_deps,
                                 const FlowsDeps& flows_deps, int64_t now) {
  if (req.policy.empty()) return Fail(InvalidInput("no policy given: --policy pce, or --policy FILE"));
  auto policy = LoadPolicy(req.policy, req.version, policy_deps);
  if (!policy) return Fail(std::move(policy).error());
  const compile::Compiled compiled = compile::Compile(*policy);
  for (const std::string& id : req.targets) {
    if (std::none_of(compiled.targets.begin(), compiled.targets.end(),
                     [&](const compile::Target& t) { return TargetMatches(t, id); })) {
      return Fail(NotFound("--target " + id + ": no target of the policy has that name or FQDN"));
    }
  }
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
    if (!req.targets.empty() && std::none_of(req.targets.begin(), req.targets.end(),
                                             [&](const std::string& id) { return TargetMatches(t, id); })) {
      continue;
    }
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
    if (s.flows.empty()) continue;
    report.flows += s.flows.size();
    requests.push_back(std::move(s));
  }
  nlohmann::json doc = compile::SuggestDocument(std::move(requests));
  report.rule_sets = doc["rule_sets"].size();
  for (const auto& rs : doc["rule_sets"]) report.rules += rs["rules"].size();
  report.ip_lists = doc["ip_lists"].size();
  report.document = doc.dump(2) + "\n";
  report.observed = WithoutFlows(std::move(*observed));
  return report;
}

}  // namespace moat::app
