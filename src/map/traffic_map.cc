// The traffic map's names and its JSON form. DOT is in map_dot.cc, the Graphviz layout in
// map_svg.cc, the page in map_html.cc.
#include "map/traffic_map.h"

#include <nlohmann/json.hpp>

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
  }
  return "unknown";
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
    nodes.push_back({{"id", n.id},
                     {"kind", NodeKindName(n.kind)},
                     {"label", n.label},
                     {"members", n.members},
                     {"member_count", n.member_count}});
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
  const Json doc = {{"title", map.title},         {"since", map.since}, {"until", map.until},
                    {"generated", map.generated}, {"notes", map.notes}, {"nodes", std::move(nodes)},
                    {"edges", std::move(edges)}};
  return doc.dump(indent, ' ', false, Json::error_handler_t::replace);
}

std::string RenderMapJson(const TrafficMap& map) { return internal::MapJson(map, 1) + "\n"; }

}  // namespace moat::map
