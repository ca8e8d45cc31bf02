// `moat suggest`: from the flows observed to each database the policy knows (the flow history
// of the window), label-based rules that admit what was seen and no unobserved workload, as a
// document of PCE draft objects to review and import (compile/suggest.h). The subjects are every
// virtual service (a database modelled in the PCE, with rules or not yet) and every provider
// workload. With `push`, the document is written to the PCE's draft policy (pce/suggest_push.h):
// IP lists first, then rule sets with the IP lists' real hrefs; never provisioned.
#pragma once

#include <string>
#include <vector>

#include "app/observed.h"
#include "app/pce.h"
#include "app/policy.h"
#include "base/result.h"

namespace moat::app {

struct SuggestRunRequest {
  std::string policy;
  std::string version = "active";
  std::vector<std::string> targets;  // names, FQDNs or RDS identifiers; empty: every target with flows
  ObservedRequest observed;
  bool push = false;       // write the suggestions to the PCE's draft policy
  bool push_plan = false;  // with push: only say what it would write
};

// What a push did, or (push_plan) would do.
struct SuggestPushReport {
  std::vector<std::string> lines;  // one per object: created, updated, unchanged, conflict
  size_t created = 0, updated = 0, unchanged = 0, conflicts = 0;
  int pce_writes = 0;  // write requests sent (retries included)
  // A failed write, naming it; `lines` say what was written before it. The run exits 1.
  std::string error;
};

struct SuggestReport {
  std::string document;  // JSON
  size_t rule_sets = 0, rules = 0, ip_lists = 0, flows = 0;
  Observed observed;          // without its flows
  uint64_t window_flows = 0;  // the flows of the window (to any address)
  SuggestPushReport push;
};

// `pce` is needed for push (the PCE the ILLUMIO_* environment names); nullptr refuses it.
Result<SuggestReport> RunSuggest(const SuggestRunRequest& request, const PolicyDeps& policy, const FlowsDeps& flows,
                                 int64_t now, const PceDeps* pce = nullptr);

}  // namespace moat::app
