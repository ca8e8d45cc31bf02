// The traffic map as Graphviz DOT. Label values come from the policy and the logs, so nothing of
// them reaches the DOT text unescaped: node names are MapNodeDomId's percent-encoding, and labels
// use HTML entities for the characters DOT or Graphviz's escape sequences would interpret.
#include <fmt/format.h>

#include <cmath>
#include <iterator>

#include "base/strings.h"
#include "map/traffic_map.h"
#include "traffic/report.h"

namespace moat::map {
namespace {

constexpr std::string_view kFont = "Helvetica,Arial,sans-serif";

// The length of the valid UTF-8 sequence at s[i], or 0 when the bytes there are not one.
size_t Utf8Length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n = 0;
  uint32_t min = 0;
  if ((c & 0xe0) == 0xc0) {
    n = 2, min = 0x80;
  } else if ((c & 0xf0) == 0xe0) {
    n = 3, min = 0x800;
  } else if ((c & 0xf8) == 0xf0) {
    n = 4, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  uint32_t cp = c & (0x7f >> n);
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

// Appends `s` for the inside of a quoted DOT label: entities for & < > " and \ (Graphviz decodes
// them after its escape sequences, so "\N" in a value stays text), "\n" for a newline, a space for
// other control characters and U+FFFD for bytes that are not UTF-8.
void AppendLabelText(std::string& out, std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    const size_t n = Utf8Length(s, i);
    if (n == 0) {
      out += "\xef\xbf\xbd";
      ++i;
      continue;
    }
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\\':
        out += "&#92;&#92;";  // decoded to "\\", which Graphviz's escString turns into one "\"
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          out += ' ';
        } else {
          out.append(s.substr(i, n));
        }
    }
    i += n;
  }
}

struct DecisionStyle {
  std::string_view color, style;
};
DecisionStyle StyleOf(Decision d) {
  switch (d) {
    case Decision::kAllowed:
      return {"#16a34a", "solid"};
    case Decision::kNotAllowed:
      return {"#ea580c", "dashed"};
    case Decision::kRejected:
      return {"#6b7280", "dotted"};
    case Decision::kWouldCut:
      return {"#dc2626", "bold"};
  }
  return {"#000000", "solid"};
}

struct KindStyle {
  std::string_view shape, style, fill, border;
};
KindStyle StyleOf(NodeKind k) {
  switch (k) {
    case NodeKind::kDatabase:
      return {"cylinder", "filled", "#dbeafe", "#1d4ed8"};
    case NodeKind::kLabels:
      return {"box", "rounded,filled", "#f1f5f9", "#475569"};
    case NodeKind::kIpList:
      return {"note", "filled", "#fef3c7", "#b45309"};
    case NodeKind::kSubnet:
      return {"box", "dashed,filled", "#ffffff", "#64748b"};
    case NodeKind::kOthers:
      return {"box", "dotted,filled", "#f8fafc", "#94a3b8"};
  }
  return {"box", "filled", "#ffffff", "#000000"};
}

// 950 -> "950", 1234 -> "1.2k", 5600000 -> "5.6M".
std::string Short(uint64_t n) {
  if (n < 1000) return std::to_string(n);
  static constexpr const char* kUnits[] = {"k", "M", "G", "T", "P", "E"};
  double v = static_cast<double>(n);
  size_t u = 0;
  for (v /= 1000; v >= 999.95 && u + 1 < std::size(kUnits); v /= 1000) ++u;
  return v < 9.95 ? fmt::format("{:.1f}{}", v, kUnits[u]) : fmt::format("{:.0f}{}", v, kUnits[u]);
}

void AppendNode(std::string& out, const MapNode& n) {
  const std::string dom_id = MapNodeDomId(n.id);
  const KindStyle k = StyleOf(n.kind);
  fmt::format_to(std::back_inserter(out),
                 "  \"{}\" [id=\"{}\", class=\"moat-node moat-{}\", shape={}, style=\"{}\", fillcolor=\"{}\", "
                 "color=\"{}\", label=\"",
                 dom_id, dom_id, NodeKindName(n.kind), k.shape, k.style, k.fill, k.border);
  AppendLabelText(out, n.label);
  if (n.kind != NodeKind::kDatabase) {
    fmt::format_to(std::back_inserter(out), "\\n{} member{}", WithThousands(n.member_count),
                   n.member_count == 1 ? "" : "s");
  }
  out += "\"];\n";
}

// A new edge has a dot at its tail (the consumer's end), and "NEW" in its label when it has one.
void AppendEdge(std::string& out, const MapEdge& e, size_t index, bool labelled) {
  const DecisionStyle d = StyleOf(e.decision);
  auto it = std::back_inserter(out);
  fmt::format_to(it,
                 "  \"{}\" -> \"{}\" [id=\"edge-{}\", class=\"moat-edge moat-{}{}\", color=\"{}\", fontcolor=\"{}\", "
                 "style={}",
                 MapNodeDomId(e.from), MapNodeDomId(e.to), index, DecisionName(e.decision), e.is_new ? " moat-new" : "",
                 d.color, d.color, d.style);
  if (e.is_new) out += ", dir=both, arrowtail=dot";
  if (labelled) {
    fmt::format_to(it, ", label=\"{}{}/{}\\n{} rec\"", e.is_new ? "NEW " : "", traffic::ProtocolName(e.protocol),
                   e.port, Short(e.records));
  }
  out += "];\n";
}

}  // namespace

// Edge labels (port and records) are drawn on small maps only: dot gives each label a node of its
// own in a rank between consumers and databases, and past a few dozen edges that column of labels
// outgrows the graph (1,500 edges: 54,000 pt tall instead of 13,700) and drags the edges into
// long arcs. The page's table and details panel show the same numbers for every edge.
constexpr size_t kMaxLabelledEdges = 50;

std::string RenderMapDot(const TrafficMap& map) {
  const bool labelled = map.edges.size() <= kMaxLabelledEdges;
  std::string out;
  out.reserve(1024 + map.nodes.size() * 200 + map.edges.size() * 200);
  auto it = std::back_inserter(out);
  out += "digraph \"moat\" {\n";
  // dot's default effort: 0.2-0.4 s for 330 nodes and 1,500 edges (bench/map_bench.cc), so no
  // nslimit, mclimit or searchsize, which bought nothing measurable there.
  fmt::format_to(it,
                 "  graph [rankdir=LR, newrank=true, ranksep={}, nodesep=0.18, splines=true, bgcolor=\"transparent\", "
                 "fontname=\"{}\", pad=0.2];\n",
                 labelled ? "1.6" : "3", kFont);  // inches; labels take the middle rank when present
  fmt::format_to(it, "  node [fontname=\"{}\", fontsize=10, margin=\"0.12,0.06\", penwidth=1.2];\n", kFont);
  fmt::format_to(it, "  edge [fontname=\"{}\", fontsize=8, arrowsize=0.6];\n", kFont);
  // Databases share the last rank, so they line up on the right even with no edges.
  out += "  {\n  rank=sink;\n";
  for (const MapNode& n : map.nodes) {
    if (n.kind == NodeKind::kDatabase) AppendNode(out, n);
  }
  out += "  }\n";
  for (const MapNode& n : map.nodes) {
    if (n.kind != NodeKind::kDatabase) AppendNode(out, n);
  }
  for (size_t i = 0; i < map.edges.size(); ++i) AppendEdge(out, map.edges[i], i, labelled);
  out += "}\n";
  return out;
}

}  // namespace moat::map
