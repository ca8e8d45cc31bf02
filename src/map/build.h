// BuildMap (pure): who talks to each database, and what the policy (and the plan) make of it —
// the databases (with a plan: every RDS instance and Aurora cluster it read, protected or not;
// without: the policy's targets, and its virtual services no rule reaches yet), the observed
// flows to them, the consumers grouped so that the picture stays readable — workloads by their
// role / app / env / loc labels, other addresses by the most specific IP list holding them, else
// by their /24 (IPv4) or /64 (IPv6) — and one edge per (group, database, protocol, port,
// decision). Per database, the `top` busiest groups (by records) are drawn and the rest fold into
// one "others" node of that database. Rendered by map/traffic_map.h.
#pragma once

#include <cstdint>
#include <functional>
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
  // Parallel to flows: where each was logged; may be null (no place known). A flow is drawn to a
  // database at its responder address that is in the same place (TargetReport::place; a database
  // of no place takes flows of any). A flow of no place, or logged in a place with no database at
  // its address, goes to the one database at its address; when databases of several places share
  // it, to none, and a note counts those.
  const traffic::FlowPlaces* places = nullptr;
  int64_t since = 0, until = 0, generated = 0;
  uint64_t recorded_flows = 0;    // the flow history's, whatever the window (0: not known)
  size_t top = 15;                // consumer groups drawn per database; the rest fold into its "others"
  size_t max_consumer_nodes = 0;  // coarser label grouping beyond this many groups; 0: never
  // Consumer addresses the map lists for search (MapNode::addresses), over all nodes; past it the
  // nodes list none and a note says so.
  size_t max_search_addresses = 500000;
  // Called now and then with the flows done, for a progress bar; may be empty.
  std::function<void(size_t done, size_t total)> progress;
};

TrafficMap BuildMap(const MapInput& input);

}  // namespace moat::map
