// `moat suggest`: from the flows observed to each database the policy knows (the flow history
// of the window), label-based rules that admit what was seen and no unobserved workload, as a
// document of PCE draft objects to review and import (compile/suggest.h).
#pragma once

#include <string>
#include <vector>

#include "app/observed.h"
#include "app/policy.h"
#include "base/result.h"

namespace moat::app {

struct SuggestRunRequest {
  std::string policy;
  std::string version = "active";
  std::vector<std::string> targets;  // names, FQDNs or RDS identifiers; empty: every target with flows
  ObservedRequest observed;
};

struct SuggestReport {
  std::string document;  // JSON
  size_t rule_sets = 0, rules = 0, ip_lists = 0, flows = 0;
  Observed observed;  // without its flows
};

Result<SuggestReport> RunSuggest(const SuggestRunRequest& request, const PolicyDeps& policy, const FlowsDeps& flows,
                                 int64_t now);

}  // namespace moat::app
