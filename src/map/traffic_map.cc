// The traffic map's names and its JSON form. DOT is in dot.cc, the Graphviz layout in svg.cc,
// the page in html.cc and page*.cc.
#include "map/traffic_map.h"

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "map/internal.h"

namespace moat::map {

std::string_view DecisionName(Decision d) {
  switch (d) {
    case Decision::kAllowed:
      return "allowed";
    case Decision::kNotAllowed:
      return "not-allowed";
    case Decision::kRejected:
      return "rejected";
    case Decision::kWouldCut:
      return "would-cut";
  }
  return "unknown";
}

std::string_view NodeKindName(NodeKind k) {
  switch (k) {
    case NodeKind::kDatabase:
      return "database";
    case NodeKind::kLabels:
      return "labels";
    case NodeKind::kIpList:
      return "ip-list";
    case NodeKind::kSubnet:
      return "subnet";
    case NodeKind::kOthers:
      return "others";
  }
  return "unknown";
}

MapNode Node(std::string id, NodeKind kind, std::string label, std::vector<std::string> members,
             uint64_t member_count) {
  MapNode n;
  n.id = std::move(id);
  n.kind = kind;
  n.label = std::move(label);
  n.members = std::move(members);
  n.member_count = member_count;
  return n;
}

std::string_view ProtectionName(Protection p) {
  switch (p) {
    case Protection::kProtected:
      return "protected";
    case Protection::kNoRules:
      return "no-rules";
    case Protection::kUnprotected:
      return "unprotected";
    case Protection::kUncompiled:
      return "error";
  }
  return "unknown";
}

std::string FormatSpan(int64_t first, int64_t last) {
  if (first == 0 && last == 0) return "no flow times";
  if (first == 0) first = last;
  if (last == 0) last = first;
  // "YYYY-MM-DDTHH:MM:SSZ" -> "YYYY-MM-DD HH:MM".
  auto minutes = [](int64_t t) {
    std::string s = FormatUtc(t);
    return s.substr(0, 10) + " " + s.substr(11, 5);
  };
  const std::string a = minutes(first), b = minutes(last);
  if (a.compare(0, 10, b, 0, 10) == 0) return a + " to " + b.substr(11) + " UTC";
  return a + " to " + b + " UTC";
}

std::string MapNodeDomId(std::string_view id) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  static constexpr std::string_view kSafe = "_.~:=,/@+-";
  std::string out = "node-";
  out.reserve(out.size() + id.size());
  for (unsigned char c : id) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (alnum || kSafe.find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

// An ordered document: the keys come out in the order of the contract, which reads better than
// sorted. Invalid UTF-8 in label values becomes U+FFFD rather than an exception.
std::string internal::MapJson(const TrafficMap& map, int indent) {
  using Json = nlohmann::ordered_json;
  Json nodes = Json::array();
  for (const MapNode& n : map.nodes) {
    Json node = {{"id", n.id},
                 {"kind", NodeKindName(n.kind)},
                 {"label", n.label},
                 {"members", n.members},
                 {"member_count", n.member_count}};
    if (n.kind == NodeKind::kDatabase) {
      node["protection"] = ProtectionName(n.protection);
      node["detail"] = n.detail;
    } else {
      node["addresses"] = n.addresses;
      if (n.kind == NodeKind::kLabels) node["labels"] = n.labels;
    }
    nodes.push_back(std::move(node));
  }
  Json edges = Json::array();
  for (const MapEdge& e : map.edges) {
    edges.push_back({{"from", e.from},
                     {"to", e.to},
                     {"protocol", e.protocol},
                     {"port", e.port},
                     {"decision", DecisionName(e.decision)},
                     {"flows", e.flows},
                     {"records", e.records},
                     {"packets", e.packets},
                     {"bytes", e.bytes},
                     {"first", e.first},
                     {"last", e.last},
                     {"new", e.is_new},
                     {"rules", e.rules}});
  }
  const Json doc = {{"title", map.title},
                    {"since", map.since},
                    {"until", map.until},
                    {"generated", map.generated},
                    {"first", map.first},
                    {"last", map.last},
                    {"recorded_flows", map.recorded_flows},
                    {"window_flows", map.window_flows},
                    {"top", map.top},
                    {"notes", map.notes},
                    {"no_flows", map.no_flows},
                    {"nodes", std::move(nodes)},
                    {"edges", std::move(edges)}};
  return doc.dump(indent, ' ', false, Json::error_handler_t::replace);
}

std::string RenderMapJson(const TrafficMap& map) { return internal::MapJson(map, 1) + "\n"; }

}  // namespace moat::map
