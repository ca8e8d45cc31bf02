// `moat map`: who talks to each database, and what the policy (and the plan) make of it.
// BuildMap is pure: the databases (the plan's, or the policy's targets), the observed flows to
// them, the consumers grouped so that the picture stays readable — workloads by their role /
// app / env / loc labels, other addresses by the most specific IP list holding them, else by
// their /24 (IPv4) or /64 (IPv6) — and one edge per (group, database, protocol, port, decision).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "app/enforce.h"
#include "app/observed.h"
#include "compile/compile.h"
#include "policy/model.h"
#include "traffic/flow.h"
#include "traffic/map.h"

namespace moat::app {

struct MapInput {
  const policy::Policy* policy = nullptr;
  const compile::Compiled* compiled = nullptr;
  const EnforceReport* plan = nullptr;  // with it, the databases are AWS's and cut flows are marked
  const std::vector<traffic::Flow>* flows = nullptr;
  const std::vector<bool>* is_new = nullptr;  // parallel to flows; may be null
  int64_t since = 0, until = 0, generated = 0;
  size_t max_consumer_nodes = 300;  // coarser label grouping beyond this
};

traffic::TrafficMap BuildMap(const MapInput& input);

struct MapRequest {
  std::string out;  // .html, .svg, .dot or .json
  std::string policy;
  std::string version = "active";
  ObservedRequest observed;
  bool with_plan = false;  // read AWS and plan (never writes): marks what the plan would cut
  EnforceRequest enforce;  // for with_plan
};

struct MapReport {
  traffic::TrafficMap map;
  Observed observed;  // without its flows
  size_t bytes = 0;   // written
};

// Renders by the extension of `out` and writes the file. Errors name the file or the input.
Result<MapReport> RunMap(const MapRequest& request, const PolicyDeps& policy, const FlowsDeps& flows,
                         const EnforceDeps* enforce, int64_t now);

}  // namespace moat::app
