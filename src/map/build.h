// BuildMap (pure): who talks to each database, and what the policy (and the plan) make of it —
// the databases (the plan's, or the policy's targets), the observed flows to them, the consumers
// grouped so that the picture stays readable — workloads by their role / app / env / loc labels,
// other addresses by the most specific IP list holding them, else by their /24 (IPv4) or /64
// (IPv6) — and one edge per (group, database, protocol, port, decision). Rendered by
// map/traffic_map.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compile/compile.h"
#include "enforce/report.h"
#include "map/traffic_map.h"
#include "policy/model.h"
#include "traffic/flow.h"

namespace moat::map {

struct MapInput {
  const policy::Policy* policy = nullptr;
  const compile::Compiled* compiled = nullptr;
  const enforce::EnforceReport* plan = nullptr;  // with it, the databases are AWS's and cut flows are marked
  const std::vector<traffic::Flow>* flows = nullptr;
  const std::vector<bool>* is_new = nullptr;  // parallel to flows; may be null
  int64_t since = 0, until = 0, generated = 0;
  size_t max_consumer_nodes = 300;  // coarser label grouping beyond this
};

TrafficMap BuildMap(const MapInput& input);

}  // namespace moat::map
