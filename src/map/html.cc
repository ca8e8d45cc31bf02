// The traffic map as one self-contained HTML page: a header saying what the data spans, the
// controls, empty containers, the map JSON in a data block, and the stylesheet and script of
// page_*.cc, which draw the overview and each database's graph in the browser. No URL is fetched:
// a Content-Security-Policy forbids any, and the script writes map text with textContent only.
#include <fmt/format.h>

#include <iterator>
#include <unordered_map>

#include "base/strings.h"
#include "map/internal.h"
#include "map/traffic_map.h"

namespace moat::map {
namespace {

// Escapes text for HTML element content and quoted attribute values.
std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
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
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// JSON inside <script type="application/json">: every "<" as \u003c (JSON has "<" only inside
// strings), so neither "</script" nor "<!--" can end or change the block.
void AppendScriptSafeJson(std::string& out, const TrafficMap& map) {
  const std::string json = internal::MapJson(map, -1);
  out.reserve(out.size() + json.size() + 64);
  for (char c : json) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
}

constexpr std::string_view kCsp =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

struct DecisionEntry {
  Decision decision;
  std::string_view text;
};
constexpr DecisionEntry kDecisions[] = {
    {Decision::kAllowed, "Allowed: seen, and the policy admits it"},
    {Decision::kNotAllowed, "Not allowed: seen, and the policy does not admit it"},
    {Decision::kRejected, "Rejected: refused by the network"},
    {Decision::kWouldCut, "Would cut: seen, and the planned rules do not admit it"},
};

std::string Plural(size_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", WithThousands(n), n == 1 ? one : many);
}

// Title, what the data spans, how much of the history the window holds, and what the map has;
// the notes and the databases without flows folded into <details> so the map stays above the fold.
void AppendHeader(std::string& out, const TrafficMap& map, const std::string& title) {
  auto it = std::back_inserter(out);
  size_t databases = 0;
  std::unordered_map<std::string_view, std::string_view> labels;
  for (const MapNode& n : map.nodes) {
    if (n.kind != NodeKind::kDatabase) continue;
    ++databases;
    labels.emplace(n.id, n.label);
  }
  fmt::format_to(it, "<header>\n<h1>{}</h1>\n<p class=\"meta\">Flows {} &middot; {} of {} recorded flows in the window",
                 title, HtmlEscape(FormatSpan(map.first, map.last)), WithThousands(map.window_flows),
                 WithThousands(map.recorded_flows));
  if (map.generated != 0) fmt::format_to(it, " &middot; generated {}", FormatUtc(map.generated));
  fmt::format_to(it, " &middot; {}, {}, {}</p>\n", Plural(databases, "database", "databases"),
                 Plural(map.nodes.size() - databases, "consumer group", "consumer groups"),
                 Plural(map.edges.size(), "edge", "edges"));
  if (!map.notes.empty()) {
    fmt::format_to(it, "<details id=\"moat-notes\"><summary>{}</summary>\n<ul>\n",
                   Plural(map.notes.size(), "note", "notes"));
    for (const std::string& note : map.notes) fmt::format_to(it, "<li>{}</li>\n", HtmlEscape(note));
    out += "</ul>\n</details>\n";
  }
  if (!map.no_flows.empty()) {
    fmt::format_to(it, "<details id=\"moat-no-flows\"><summary>{} with no flows in the window</summary>\n<ul>\n",
                   Plural(map.no_flows.size(), "database", "databases"));
    for (const std::string& id : map.no_flows) {
      auto found = labels.find(id);
      fmt::format_to(it, "<li title=\"{}\">{}</li>\n", HtmlEscape(id),
                     HtmlEscape(found == labels.end() ? std::string_view(id) : found->second));
    }
    out += "</ul>\n</details>\n";
  }
  out += "</header>\n";
}

// The sticky controls: the database picker and the search, the legend that doubles as the
// decision filter, the port and the time range. The script fills the lists and the counts.
void AppendControls(std::string& out) {
  out +=
      "<section class=\"controls\" aria-label=\"Controls\">\n"
      "<div class=\"row\">\n<label class=\"db\">Database <select id=\"moat-db\"><option value=\"\">All databases "
      "(overview)</option></select></label>\n"
      "<span class=\"search\"><input type=\"search\" id=\"moat-search\" autocomplete=\"off\" spellcheck=\"false\" "
      "placeholder=\"Search: database, address, subnet, label (role=web), port (tcp/5432)\" aria-label=\"Search\" "
      "aria-controls=\"moat-results\"><ul id=\"moat-results\" class=\"results\" hidden></ul></span>\n"
      "<label>Port <select id=\"filter-port\"><option value=\"\">all</option></select></label>\n"
      "<span class=\"time\" title=\"Edges whose first to last seen overlaps this range (UTC); edges without times are "
      "kept\">Seen <input type=\"datetime-local\" id=\"filter-from\" step=\"60\" aria-label=\"From (UTC)\"> to "
      "<input type=\"datetime-local\" id=\"filter-to\" step=\"60\" aria-label=\"To (UTC)\"> UTC</span>\n"
      "<button type=\"button\" id=\"filter-reset\" title=\"Show every decision, port and time\">Reset "
      "filters</button>\n</div>\n"
      "<div class=\"legend\" role=\"group\" aria-label=\"Decisions\"><strong>Decisions</strong>\n";
  auto it = std::back_inserter(out);
  for (const DecisionEntry& d : kDecisions) {
    const std::string_view name = DecisionName(d.decision);
    fmt::format_to(it,
                   "<label class=\"decision moat-{0}\" title=\"{1}\"><input type=\"checkbox\" checked "
                   "data-decision=\"{0}\" id=\"filter-{0}\"><svg class=\"swatch\" width=\"34\" height=\"10\" "
                   "aria-hidden=\"true\"><line x1=\"1\" y1=\"5\" x2=\"33\" y2=\"5\"/></svg><span>{0}</span> "
                   "<span class=\"count\" id=\"count-{0}\"></span></label>\n",
                   name, HtmlEscape(d.text));
  }
  out +=
      "<span class=\"newmark\" title=\"Some of its flows are new since the last run\"><svg class=\"swatch\" "
      "width=\"34\" height=\"10\" aria-hidden=\"true\"><circle cx=\"5\" cy=\"5\" r=\"3.5\"/><line x1=\"5\" "
      "y1=\"5\" x2=\"33\" y2=\"5\"/></svg>new</span>\n"
      "<span class=\"kinds\" role=\"group\" aria-label=\"Node kinds\"><strong>Nodes</strong>"
      "<span class=\"kind database\">database</span><span class=\"kind labels\">workloads by labels</span>"
      "<span class=\"kind ip-list\">IP list</span><span class=\"kind subnet\">other addresses</span>"
      "<span class=\"kind others\">others</span></span>\n</div>\n</section>\n";
}

constexpr std::string_view kMain =
    "<main>\n<div class=\"view\">\n"
    "<section id=\"moat-overview\" class=\"overview\" aria-label=\"Databases\">\n<div class=\"bar\"><h2>Databases "
    "<span id=\"moat-db-count\" class=\"count\"></span></h2><label>Sort by <select id=\"moat-sort\">"
    "<option value=\"records\">traffic</option><option value=\"attention\">not allowed, would cut</option>"
    "<option value=\"protection\">protection</option><option value=\"name\">name</option></select></label></div>\n"
    "<div id=\"moat-cards\" class=\"cards\"></div>\n</section>\n"
    "<section id=\"moat-database\" class=\"database\" hidden>\n<div class=\"bar\"><button type=\"button\" "
    "id=\"moat-back\">&#8592; All databases</button><h2 id=\"moat-db-title\"></h2></div>\n"
    "<div id=\"moat-graph\" class=\"graph\"></div>\n</section>\n</div>\n"
    "<aside id=\"moat-details\" class=\"details\" aria-live=\"polite\"><p class=\"hint\">Choose a database; click "
    "a node or an edge for its details.</p></aside>\n</main>\n";

constexpr std::string_view kTable =
    "<section class=\"edges\">\n<h2>Edges <span id=\"moat-shown\"></span></h2>\n"
    "<table id=\"moat-edges\">\n<thead><tr>"
    "<th data-key=\"from\">From</th><th data-key=\"to\">To</th><th data-key=\"port\">Port</th>"
    "<th data-key=\"decision\">Decision</th><th data-key=\"flows\" class=\"num\">Flows</th>"
    "<th data-key=\"records\" class=\"num\">Records</th><th data-key=\"bytes\" class=\"num\">Bytes</th>"
    "<th data-key=\"first\">First seen (UTC)</th><th data-key=\"last\">Last seen (UTC)</th>"
    "<th data-key=\"new\">New</th></tr></thead>\n<tbody></tbody>\n</table>\n</section>\n";

}  // namespace

Result<std::string> RenderMapHtml(const TrafficMap& map) {
  const std::string title = HtmlEscape(map.title.empty() ? "moat traffic map" : map.title);
  std::string out;
  out.reserve(map.edges.size() * 300 + map.nodes.size() * 200 + 96 * 1024);
  fmt::format_to(std::back_inserter(out),
                 "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                 "<title>{}</title>\n<style>\n{}</style>\n</head>\n<body>\n",
                 kCsp, title, internal::kPageCss);
  AppendHeader(out, map, title);
  AppendControls(out);
  out += kMain;
  out += kTable;
  out += "<script type=\"application/json\" id=\"moat-data\">";
  AppendScriptSafeJson(out, map);
  out += "</script>\n<script>\n(function () {\n'use strict';\n";
  for (std::string_view part : {internal::kPageSearchJs, internal::kPageGraphJs, internal::kPageMainJs}) out += part;
  out += "})();\n</script>\n</body>\n</html>\n";
  return out;
}

}  // namespace moat::map
