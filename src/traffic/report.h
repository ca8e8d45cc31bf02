// The `moat flows` report: totals, skips with examples, and flows — rendered as JSON (the keys
// of DESIGN.md §4 are a contract) or as a human summary per responder. Pure functions.
#pragma once

#include <string>
#include <vector>

#include "flowlog/stats.h"
#include "traffic/flow.h"

namespace moat::traffic {

// What the objects of one account and region held, when objects name theirs (AWS's flow-log
// names: flowlog::PlaceOfObject); "" and "" for the objects whose name does not say.
struct PlaceFlows {
  std::string account, region;
  flowlog::Stats stats;
  std::vector<Flow> flows;  // in output order
  // When the reading kept interfaces: parallel to flows, each one's interface in `interfaces`
  // (0: its log had no interface-id); else empty.
  std::vector<uint32_t> interface_of;
  std::vector<std::string> interfaces{""};
};

struct FlowsReport {
  flowlog::Stats stats;
  std::vector<Flow> flows;             // in output order (FlowTable::Sorted)
  std::vector<uint32_t> interface_of;  // as in PlaceFlows
  std::vector<std::string> interfaces{""};
  // By account and region, in that order, when at least one object names its own; else empty.
  std::vector<PlaceFlows> places;
};

struct TextOptions {
  size_t max_responders = 20;  // responders shown, busiest first
  size_t max_initiators_per_responder = 5;
};

std::string RenderJson(const FlowsReport& report);
// One flow as the JSON object of `flows[]` (no newline).
void AppendFlowJson(std::string& out, const Flow& flow);
std::string RenderText(const FlowsReport& report, const TextOptions& options);

// "tcp", "udp", "icmp", "icmpv6", or the number.
std::string ProtocolName(uint8_t protocol);
std::string_view ActionName(flowlog::Action action);  // "ACCEPT", "REJECT", "-"

}  // namespace moat::traffic
