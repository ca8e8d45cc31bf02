// The traffic map: databases, the consumers that talk to them (grouped so that the picture stays
// readable), and one edge per (consumer group, database, protocol, port, decision) with its
// counts. Built by the app layer (app/map.h) from the flow history and the policy; rendered here
// as JSON, Graphviz DOT, SVG (laid out by Graphviz) or one self-contained HTML page. Values and
// pure functions, but for the Graphviz layout.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace moat::map {

// What the policy and the logs say about an edge's flows.
enum class Decision {
  kAllowed,     // accepted in the logs, and the policy admits it
  kNotAllowed,  // accepted in the logs, the policy does not admit it, and no plan is at hand
  kRejected,    // rejected in the logs
  kWouldCut,    // accepted in the logs, and the rules the current plan writes do not admit it
};
std::string_view DecisionName(Decision d);  // "allowed", "not-allowed", "rejected", "would-cut"

enum class NodeKind {
  kDatabase,  // a target: an RDS instance or Aurora cluster (or a policy target without AWS)
  kLabels,    // workloads of the policy with the same role/app/env/loc labels
  kIpList,    // addresses of no workload, inside one of the policy's IP lists
  kSubnet,    // addresses of no workload and no IP list: their /24 (IPv4) or /64 (IPv6)
  kOthers,    // one per database: the consumer groups past its top N, folded together
};
std::string_view NodeKindName(NodeKind k);  // "database", "labels", "ip-list", "subnet", "others"

// What the policy makes of a database (database nodes only).
enum class Protection {
  kProtected,    // the policy has rules for it
  kNoRules,      // the policy models it (a virtual service) but no enabled rule reaches it yet
  kUnprotected,  // found in AWS, and no object of the policy is it
  kUncompiled,   // the policy cannot be compiled exactly for it: what it admits is not known
};
std::string_view ProtectionName(Protection p);  // "protected", "no-rules", "unprotected", "error"

struct MapNode {
  std::string id;  // unique, stable across runs: "db:orders-db", "labels:role=web,env=prod", ...
  NodeKind kind = NodeKind::kLabels;
  std::string label;                 // what the picture shows: "orders-db", "web | orders | prod | aws", "10.9.1.0/24"
  std::vector<std::string> members;  // addresses (or workload names), sorted; at most 50 kept
  uint64_t member_count = 0;         // all of them
  // Databases: what the policy makes of it, and what the reader should know of it (its endpoint,
  // why it is not protected, the policy's name for it).
  Protection protection = Protection::kProtected;
  std::string detail;
  // Consumers: every distinct address folded into the node (what the page's search finds), sorted;
  // empty once the map's address budget (MapInput::max_search_addresses) is spent.
  std::vector<std::string> addresses;
  std::vector<std::string> labels;  // labels nodes: "role=web", "app=shop", ...
};
MapNode Node(std::string id, NodeKind kind, std::string label, std::vector<std::string> members, uint64_t member_count);

struct MapEdge {
  std::string from, to;  // node ids: consumer group -> database
  uint8_t protocol = 6;
  uint16_t port = 0;
  Decision decision = Decision::kAllowed;
  uint64_t flows = 0;  // distinct (initiator, responder) pairs folded into the edge
  uint64_t records = 0, packets = 0, bytes = 0;
  int64_t first = 0, last = 0;     // unix seconds; 0 when the logs had no times
  bool is_new = false;             // some of its flows are new since the last run (app/map.h)
  std::vector<std::string> rules;  // the policy rules (hrefs) that admit it, when allowed
};

struct TrafficMap {
  std::string title;             // "moat traffic map"
  int64_t since = 0, until = 0;  // the window asked for (unix seconds; since 0: everything recorded)
  int64_t generated = 0;
  // What the data says: the earliest first-seen and latest last-seen of the flows drawn (0: no
  // times), the flows the history holds, and the ones in the window.
  int64_t first = 0, last = 0;
  uint64_t recorded_flows = 0, window_flows = 0;
  size_t top = 0;                     // consumer groups drawn per database; the rest in its "others"
  std::vector<MapNode> nodes;         // databases first, then consumers; sorted by id within each
  std::vector<MapEdge> edges;         // sorted by (to, from, protocol, port, decision)
  std::vector<std::string> notes;     // what the reader should know (no policy, no plan, ...)
  std::vector<std::string> no_flows;  // database node ids no flow of the window reached
};

// "2024-05-01 00:00 to 13:05 UTC" (the same day), "2024-05-01 00:00 to 2024-05-03 13:05 UTC",
// "no flow times" when both are 0.
std::string FormatSpan(int64_t first, int64_t last);

std::string RenderMapJson(const TrafficMap& map);
// DOT: left-to-right, consumers on the left, databases on the right; an edge's colour and style
// are its decision's, its label the port and the records (on maps of at most 50 edges: past that,
// the labels crowd out the graph), and a new edge has a dot at its tail.
std::string RenderMapDot(const TrafficMap& map);
// SVG laid out by Graphviz (dot) in this process. An Internal error, with Graphviz's messages,
// when Graphviz fails (e.g. its plugins are not installed); Graphviz never prints to stderr.
Result<std::string> RenderMapSvg(const TrafficMap& map);
// One HTML page that opens without a network: the map JSON and a script that draws it — an
// overview of every database, and the graph of one database at a time laid out in the browser —
// with search, filters by decision, port and time, and the table of edges. No Graphviz; no error
// today (the Result leaves room for one).
Result<std::string> RenderMapHtml(const TrafficMap& map);
// The SVG of RenderMapSvg, and the graph the page draws, name their elements so that pages and
// tests find them: a node's group has id MapNodeDomId(node.id) and class "moat-node moat-<kind>";
// edge i's group has id "edge-<i>" and class "moat-edge moat-<decision>" (plus "moat-new" when
// new). Graphviz keeps global state: the SVG renderer serializes on one process-wide mutex.

// "node-" + `id` with each byte outside [A-Za-z0-9_.~:=,/@+-] written as %XX (upper-case hex):
// safe in DOT, XML and HTML unquoted, and the same as Python's urllib.parse.quote(id, ":=,/@+").
std::string MapNodeDomId(std::string_view id);

}  // namespace moat::map
