// The traffic map as one self-contained HTML page: the SVG inline, the map JSON in a data block,
// and the stylesheet and script of map_page.cc. No URL is fetched: a Content-Security-Policy
// forbids any, and the page is built from the JSON with textContent, never innerHTML.
#include <fmt/format.h>

#include <iterator>

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
std::string ScriptSafeJson(const TrafficMap& map) {
  const std::string json = internal::MapJson(map, -1);
  std::string out;
  out.reserve(json.size() + 64);
  for (char c : json) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Window(const TrafficMap& map) {
  if (map.since == 0 && map.until == 0) return "Flows of the whole history";
  const std::string since = map.since == 0 ? "the beginning" : FormatUtc(map.since);
  const std::string until = map.until == 0 ? "now" : FormatUtc(map.until);
  return "Flows from " + since + " to " + until;
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

// The legend doubles as the decision filter: one checkbox per decision, with its line style.
void AppendControls(std::string& out) {
  out +=
      "<section class=\"controls\" aria-label=\"Filters\">\n<div class=\"legend\" role=\"group\" "
      "aria-label=\"Decisions\"><strong>Decisions</strong>\n";
  for (const DecisionEntry& d : kDecisions) {
    const std::string_view name = DecisionName(d.decision);
    fmt::format_to(std::back_inserter(out),
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
      "</div>\n<label class=\"db\">Database <select id=\"filter-db\"><option value=\"\">All "
      "databases</option></select></label>\n"
      "<span class=\"kinds\" role=\"group\" aria-label=\"Node kinds\"><strong>Nodes</strong><span "
      "class=\"kind database\">database</span><span "
      "class=\"kind labels\">workloads by labels</span><span class=\"kind ip-list\">IP list</span><span "
      "class=\"kind subnet\">other addresses</span></span>\n"
      "<span class=\"zoom\"><button type=\"button\" id=\"zoom-out\" title=\"Zoom out\">&#8722;</button><button "
      "type=\"button\" id=\"zoom-fit\" title=\"Fit to width\">Fit</button><button type=\"button\" id=\"zoom-in\" "
      "title=\"Zoom in\">+</button></span>\n</section>\n";
}

constexpr std::string_view kTableHead =
    "<section class=\"edges\">\n<h2>Edges <span id=\"moat-shown\"></span></h2>\n"
    "<table id=\"moat-edges\">\n<thead><tr>"
    "<th data-key=\"from\">From</th><th data-key=\"to\">To</th><th data-key=\"port\">Port</th>"
    "<th data-key=\"decision\">Decision</th><th data-key=\"flows\" class=\"num\">Flows</th>"
    "<th data-key=\"records\" class=\"num\">Records</th><th data-key=\"bytes\" class=\"num\">Bytes</th>"
    "<th data-key=\"first\">First seen (UTC)</th><th data-key=\"last\">Last seen (UTC)</th>"
    "<th data-key=\"new\">New</th></tr></thead>\n<tbody></tbody>\n</table>\n</section>\n";

}  // namespace

Result<std::string> RenderMapHtml(const TrafficMap& map) {
  Result<std::string> svg = internal::RenderSvgElement(map);
  if (!svg) return svg;
  const std::string title = HtmlEscape(map.title.empty() ? "moat traffic map" : map.title);
  std::string out;
  out.reserve(svg->size() + map.edges.size() * 400 + 32 * 1024);
  auto it = std::back_inserter(out);
  fmt::format_to(it,
                 "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                 "<title>{}</title>\n<style>\n{}</style>\n</head>\n<body>\n",
                 kCsp, title, internal::kPageCss);
  fmt::format_to(it, "<header>\n<h1>{}</h1>\n<p class=\"meta\">{}", title, HtmlEscape(Window(map)));
  if (map.generated != 0) fmt::format_to(it, " &middot; generated {}", FormatUtc(map.generated));
  fmt::format_to(it, " &middot; {} nodes, {} edges</p>\n", map.nodes.size(), map.edges.size());
  if (!map.notes.empty()) {
    out += "<ul class=\"notes\">\n";
    for (const std::string& note : map.notes) fmt::format_to(it, "<li>{}</li>\n", HtmlEscape(note));
    out += "</ul>\n";
  }
  out += "</header>\n";
  AppendControls(out);
  out += "<main>\n<div id=\"moat-graph\" class=\"graph\">\n";
  out += *svg;
  out +=
      "</div>\n<aside id=\"moat-details\" class=\"details\" aria-live=\"polite\"><p class=\"hint\">Hover over or "
      "click a node or an edge for its details.</p></aside>\n</main>\n";
  out += kTableHead;
  out += "<script type=\"application/json\" id=\"moat-data\">";
  out += ScriptSafeJson(map);
  out += "</script>\n<script>\n";
  out += internal::kPageJs;
  out += "</script>\n</body>\n</html>\n";
  return out;
}

}  // namespace moat::map
