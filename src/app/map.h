// `moat map`: reads the policy and the flow history (and with --plan, plans), builds the map
// (map/build.h) and writes it as a page, SVG, DOT or JSON (map/traffic_map.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "app/enforce.h"
#include "app/fleet.h"
#include "app/observed.h"
#include "map/traffic_map.h"

namespace moat::app {

struct MapRequest {
  std::string out;  // .html, .svg, .dot or .json
  std::string policy;
  std::string version = "active";
  ObservedRequest observed;
  bool with_plan = false;  // read AWS and plan (never writes): marks what the plan would cut
  EnforceRequest enforce;  // for with_plan; its `targets` choose the databases in either case
  size_t top = 15;         // consumer groups drawn per database (map/build.h)
  bool progress = false;   // progress bars on the terminal while it maps and renders
  // With with_plan, over several accounts and regions (app/fleet.h): every place planned, each
  // database named "<account>/<region>/<id>"; the places that could not be read are notes.
  std::vector<Place> places;
};

struct MapReport {
  map::TrafficMap map;
  Observed observed;          // without its flows
  uint64_t window_flows = 0;  // the flows of the window (to any address)
  size_t bytes = 0;           // written
};

// Renders by the extension of `out` and writes the file. Errors name the file or the input. The
// databases are the plan's (with_plan: every RDS instance and Aurora cluster, protected or not)
// or the policy's targets and virtual services; `--target` chooses among them, and one that names
// none is an error.
Result<MapReport> RunMap(const MapRequest& request, const PolicyDeps& policy, const FlowsDeps& flows,
                         const EnforceDeps* enforce, int64_t now);

}  // namespace moat::app
