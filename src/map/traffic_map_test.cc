#include "map/traffic_map.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

namespace moat::map {
namespace {

// A hostile label value: quotes, backslashes, markup, a script end tag and a newline.
constexpr std::string_view kHostile = "x\"y\\z <script>alert(1)</script>\nline2\\";

TrafficMap Sample() {
  TrafficMap m;
  m.title = "moat traffic map";
  m.since = 1714521600;
  m.until = 1714608000;
  m.generated = 1714608100;
  m.notes = {"no plan at hand: nothing is marked would-cut"};
  m.nodes = {
      Node("db:orders-db", NodeKind::kDatabase, "orders-db", {"10.0.2.45"}, 1),
      Node("labels:role=web,env=prod", NodeKind::kLabels, "web | prod", {"10.0.1.20", "10.0.1.21"}, 2),
      Node("iplist:partners", NodeKind::kIpList, "partners", {"192.0.2.7"}, 1),
      Node("subnet:10.9.1.0/24", NodeKind::kSubnet, "10.9.1.0/24", {"10.9.1.3"}, 60),
  };
  m.edges = {
      {"labels:role=web,env=prod",
       "db:orders-db",
       6,
       5432,
       Decision::kAllowed,
       2,
       12,
       340,
       51000,
       1714521600,
       1714525200,
       false,
       {"/orgs/1/sec_policy/active/rule_sets/1/sec_rules/2"}},
      {"iplist:partners",
       "db:orders-db",
       6,
       5432,
       Decision::kNotAllowed,
       1,
       3,
       9,
       900,
       1714521700,
       1714521800,
       true,
       {}},
      {"subnet:10.9.1.0/24", "db:orders-db", 6, 5432, Decision::kRejected, 1, 1, 1, 60, 0, 0, false, {}},
      {"labels:role=web,env=prod",
       "db:orders-db",
       6,
       6432,
       Decision::kWouldCut,
       1,
       2,
       4,
       400,
       1714522000,
       1714523000,
       false,
       {}},
  };
  return m;
}

TrafficMap Hostile() {
  TrafficMap m = Sample();
  m.title = std::string(kHostile);
  m.notes = {std::string(kHostile)};
  m.nodes[1].label = std::string(kHostile);
  m.nodes[1].members = {std::string(kHostile)};
  m.edges[0].rules = {"</script><script>alert(2)</script>"};
  return m;
}

size_t Count(std::string_view haystack, std::string_view needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string_view::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

TEST(MapTest, NamesDecisionsAndKinds) {
  EXPECT_EQ(DecisionName(Decision::kAllowed), "allowed");
  EXPECT_EQ(DecisionName(Decision::kNotAllowed), "not-allowed");
  EXPECT_EQ(DecisionName(Decision::kRejected), "rejected");
  EXPECT_EQ(DecisionName(Decision::kWouldCut), "would-cut");
  EXPECT_EQ(NodeKindName(NodeKind::kDatabase), "database");
  EXPECT_EQ(NodeKindName(NodeKind::kLabels), "labels");
  EXPECT_EQ(NodeKindName(NodeKind::kIpList), "ip-list");
  EXPECT_EQ(NodeKindName(NodeKind::kSubnet), "subnet");
  EXPECT_EQ(NodeKindName(NodeKind::kOthers), "others");
  EXPECT_EQ(ProtectionName(Protection::kProtected), "protected");
  EXPECT_EQ(ProtectionName(Protection::kNoRules), "no-rules");
  EXPECT_EQ(ProtectionName(Protection::kUnprotected), "unprotected");
  EXPECT_EQ(ProtectionName(Protection::kUncompiled), "error");
}

TEST(MapTest, SpanSaysWhatTheDataSays) {
  EXPECT_EQ(FormatSpan(1714521600, 1714568700), "2024-05-01 00:00 to 13:05 UTC");
  EXPECT_EQ(FormatSpan(1714521600, 1714741500), "2024-05-01 00:00 to 2024-05-03 13:05 UTC");
  EXPECT_EQ(FormatSpan(0, 0), "no flow times");
}

TEST(MapTest, DomIdPercentEncodesAllButASafeSet) {
  EXPECT_EQ(MapNodeDomId("db:orders-db"), "node-db:orders-db");
  EXPECT_EQ(MapNodeDomId("labels:role=web,env=prod"), "node-labels:role=web,env=prod");
  EXPECT_EQ(MapNodeDomId("subnet:2001:db8::/64"), "node-subnet:2001:db8::/64");
  EXPECT_EQ(MapNodeDomId("a b\"<>\\%&'"), "node-a%20b%22%3C%3E%5C%25%26%27");
  EXPECT_EQ(MapNodeDomId("caf\xc3\xa9\n"), "node-caf%C3%A9%0A");
}

TEST(MapTest, JsonHasTheContractKeysAndValues) {
  const auto j = nlohmann::json::parse(RenderMapJson(Sample()));
  EXPECT_EQ(j["title"], "moat traffic map");
  EXPECT_EQ(j["since"], 1714521600);
  EXPECT_EQ(j["until"], 1714608000);
  EXPECT_EQ(j["generated"], 1714608100);
  EXPECT_EQ(j["notes"], nlohmann::json({"no plan at hand: nothing is marked would-cut"}));
  ASSERT_EQ(j["nodes"].size(), 4u);
  const auto& n = j["nodes"][1];
  EXPECT_EQ(n.size(), 7u);
  EXPECT_EQ(n["id"], "labels:role=web,env=prod");
  EXPECT_EQ(n["addresses"], nlohmann::json::array());
  EXPECT_EQ(n["labels"], nlohmann::json::array());
  const auto& db = j["nodes"][0];
  EXPECT_EQ(db.size(), 7u);
  EXPECT_EQ(db["protection"], "protected");
  EXPECT_EQ(db["detail"], "");
  EXPECT_EQ(j["nodes"][2].size(), 6u);  // no labels
  EXPECT_EQ(n["kind"], "labels");
  EXPECT_EQ(n["label"], "web | prod");
  EXPECT_EQ(n["members"], nlohmann::json({"10.0.1.20", "10.0.1.21"}));
  EXPECT_EQ(n["member_count"], 2);
  EXPECT_EQ(j["nodes"][2]["kind"], "ip-list");
  EXPECT_EQ(j["nodes"][3]["member_count"], 60);
  ASSERT_EQ(j["edges"].size(), 4u);
  const auto& e = j["edges"][0];
  EXPECT_EQ(e.size(), 13u);
  EXPECT_EQ(e["from"], "labels:role=web,env=prod");
  EXPECT_EQ(e["to"], "db:orders-db");
  EXPECT_EQ(e["protocol"], 6);
  EXPECT_EQ(e["port"], 5432);
  EXPECT_EQ(e["decision"], "allowed");
  EXPECT_EQ(e["flows"], 2);
  EXPECT_EQ(e["records"], 12);
  EXPECT_EQ(e["packets"], 340);
  EXPECT_EQ(e["bytes"], 51000);
  EXPECT_EQ(e["first"], 1714521600);
  EXPECT_EQ(e["last"], 1714525200);
  EXPECT_EQ(e["new"], false);
  EXPECT_EQ(e["rules"], nlohmann::json({"/orgs/1/sec_policy/active/rule_sets/1/sec_rules/2"}));
  EXPECT_EQ(j["edges"][1]["decision"], "not-allowed");
  EXPECT_EQ(j["edges"][1]["new"], true);
  EXPECT_EQ(j["edges"][2]["decision"], "rejected");
  EXPECT_EQ(j["edges"][3]["decision"], "would-cut");
}

TEST(MapTest, JsonReplacesBytesThatAreNotUtf8) {
  TrafficMap m = Sample();
  m.nodes[0].label = "bad\xff";
  const auto j = nlohmann::json::parse(RenderMapJson(m));
  EXPECT_EQ(j["nodes"][0]["label"], "bad\xef\xbf\xbd");
}

TEST(MapTest, DotStylesEachDecisionAndKind) {
  const std::string dot = RenderMapDot(Sample());
  EXPECT_NE(dot.find("rankdir=LR"), std::string::npos);
  EXPECT_NE(dot.find("\"node-db:orders-db\" [id=\"node-db:orders-db\", class=\"moat-node moat-database\", "
                     "shape=cylinder"),
            std::string::npos)
      << dot;
  EXPECT_NE(dot.find("class=\"moat-edge moat-allowed\", color=\"#16a34a\", fontcolor=\"#16a34a\", style=solid"),
            std::string::npos);
  EXPECT_NE(dot.find("class=\"moat-edge moat-not-allowed moat-new\", color=\"#ea580c\", fontcolor=\"#ea580c\", "
                     "style=dashed, dir=both, arrowtail=dot, label=\"NEW tcp/5432\\n3 rec\"];"),
            std::string::npos);
  EXPECT_NE(dot.find("class=\"moat-edge moat-rejected\", color=\"#6b7280\", fontcolor=\"#6b7280\", style=dotted"),
            std::string::npos);
  EXPECT_NE(dot.find("class=\"moat-edge moat-would-cut\", color=\"#dc2626\", fontcolor=\"#dc2626\", style=bold"),
            std::string::npos);
  EXPECT_NE(dot.find("\"node-subnet:10.9.1.0/24\" -> \"node-db:orders-db\" [id=\"edge-2\""), std::string::npos);
  EXPECT_NE(dot.find("label=\"10.9.1.0/24\\n60 members\""), std::string::npos);
}

TEST(MapTest, DotLabelsTheEdgesOfSmallMapsOnly) {
  TrafficMap m = Sample();
  EXPECT_NE(RenderMapDot(m).find("label=\"tcp/5432\\n12 rec\""), std::string::npos);
  while (m.edges.size() <= 50) m.edges.push_back(m.edges[1]);
  const std::string dot = RenderMapDot(m);
  EXPECT_EQ(dot.find(" rec\""), std::string::npos);
  EXPECT_NE(dot.find("class=\"moat-edge moat-not-allowed moat-new\", color=\"#ea580c\", fontcolor=\"#ea580c\", "
                     "style=dashed, dir=both, arrowtail=dot];"),
            std::string::npos);
}

TEST(MapTest, DotEscapesHostileLabels) {
  const std::string dot = RenderMapDot(Hostile());
  EXPECT_NE(dot.find("label=\"x&quot;y&#92;&#92;z &lt;script&gt;alert(1)&lt;/script&gt;\\nline2&#92;&#92;\\n2 "
                     "members\""),
            std::string::npos)
      << dot;
  EXPECT_EQ(dot.find("<script"), std::string::npos);
  EXPECT_EQ(dot.find('\\' + std::string("\"")), std::string::npos);  // no \" that could end a string early
  for (size_t at = dot.find('\n'); at + 1 < dot.size(); at = dot.find('\n', at + 1)) {
    EXPECT_EQ(Count(dot.substr(at + 1, dot.find('\n', at + 1) - at - 1), "\"") % 2, 0u);  // quotes pair per line
  }
}

TEST(MapTest, SvgHasEveryNodeAndEdgeId) {
  const Result<std::string> svg = RenderMapSvg(Sample());
  ASSERT_TRUE(svg) << svg.error().message;
  EXPECT_TRUE(svg->starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n<svg"));
  EXPECT_EQ(svg->find("<!DOCTYPE"), std::string::npos);
  EXPECT_EQ(svg->find("<!--"), std::string::npos);
  for (const MapNode& n : Sample().nodes) {
    EXPECT_EQ(Count(*svg, "id=\"" + MapNodeDomId(n.id) + "\" class=\"node moat-node moat-" +
                              std::string(NodeKindName(n.kind)) + "\""),
              1u)
        << n.id;
  }
  EXPECT_NE(svg->find("id=\"edge-0\" class=\"edge moat-edge moat-allowed\""), std::string::npos);
  EXPECT_NE(svg->find("id=\"edge-1\" class=\"edge moat-edge moat-not-allowed moat-new\""), std::string::npos);
  EXPECT_NE(svg->find("id=\"edge-3\" class=\"edge moat-edge moat-would-cut\""), std::string::npos);
  EXPECT_NE(svg->find(">orders-db</text>"), std::string::npos);
}

TEST(MapTest, SvgShowsHostileLabelsAsText) {
  const Result<std::string> svg = RenderMapSvg(Hostile());
  ASSERT_TRUE(svg) << svg.error().message;
  EXPECT_NE(svg->find(">x&quot;y\\z &lt;script&gt;alert(1)&lt;/script&gt;</text>"), std::string::npos) << *svg;
  EXPECT_NE(svg->find(">line2\\</text>"), std::string::npos);
  EXPECT_EQ(svg->find("<script"), std::string::npos);
}

TEST(MapTest, SvgOfAnEmptyMapIsAnSvg) {
  const Result<std::string> svg = RenderMapSvg(TrafficMap{});
  ASSERT_TRUE(svg) << svg.error().message;
  EXPECT_NE(svg->find("<svg"), std::string::npos);
  EXPECT_NE(svg->find("</svg>"), std::string::npos);
}

TEST(MapTest, SvgRenderersMayRunOnSeveralThreads) {
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (size_t t = 0; t < ok.size(); ++t) {
    threads.emplace_back([&ok, t] {
      const Result<std::string> svg = RenderMapSvg(Sample());
      ok[t] = svg && svg->find(MapNodeDomId("iplist:partners")) != std::string::npos;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok, std::vector<int>(4, 1));
}

// What the page's header says of the data: a map of the sample's nodes and edges with a span,
// window counts, two notes and a database without flows.
TrafficMap PageSample() {
  TrafficMap m = Sample();
  m.first = 1714521600;
  m.last = 1714568700;
  m.recorded_flows = 140;
  m.window_flows = 112;
  m.top = 20;
  m.notes.push_back("the flow history ends before the window does");
  m.nodes.insert(m.nodes.begin() + 1, Node("db:reports-db", NodeKind::kDatabase, "reports <db>", {}, 0));
  m.nodes[1].protection = Protection::kUnprotected;
  m.no_flows = {"db:reports-db"};
  return m;
}

std::string DataBlock(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"moat-data\">";
  const size_t begin = html.find(open);
  if (begin == std::string::npos) return "";
  const size_t end = html.find("</script>", begin);
  return html.substr(begin + open.size(), end - begin - open.size());
}

// The page fetches nothing: the only URL is the SVG namespace name the script creates elements in.
TEST(MapTest, HtmlReferencesNoUrl) {
  const Result<std::string> html = RenderMapHtml(PageSample());
  ASSERT_TRUE(html) << html.error().message;
  EXPECT_TRUE(html->starts_with("<!DOCTYPE html>\n"));
  for (std::string_view scheme : {"http://", "https://", "//cdn", "data:text"}) {
    for (size_t at = html->find(scheme); at != std::string::npos; at = html->find(scheme, at + 1)) {
      EXPECT_TRUE(std::string_view(*html).substr(at).starts_with("http://www.w3.org/2000/svg'"))
          << std::string_view(*html).substr(at, 60);
    }
  }
  for (std::string_view fetch : {"<link", "<img", "<iframe", "src=", "url(", "@import", "@font-face", "fetch(",
                                 "XMLHttpRequest", "import(", "innerHTML", "outerHTML", "insertAdjacentHTML"}) {
    EXPECT_EQ(html->find(fetch), std::string::npos) << fetch;
  }
  EXPECT_NE(html->find("Content-Security-Policy\" content=\"default-src 'none';"), std::string::npos);
}

// The script draws the graph: the page holds no Graphviz SVG, only the containers, the controls
// and the data.
TEST(MapTest, HtmlHasTheControlsContainersAndData) {
  const TrafficMap map = PageSample();
  const Result<std::string> html = RenderMapHtml(map);
  ASSERT_TRUE(html) << html.error().message;
  EXPECT_EQ(html->find("<g id=\"node-"), std::string::npos);
  EXPECT_EQ(html->find("class=\"node\""), std::string::npos);
  EXPECT_NE(html->find("<div id=\"moat-graph\" class=\"graph\"></div>"), std::string::npos);
  EXPECT_NE(html->find("<div id=\"moat-cards\" class=\"cards\"></div>"), std::string::npos);
  EXPECT_NE(html->find("<select id=\"moat-db\">"), std::string::npos);
  EXPECT_NE(html->find("<input type=\"search\" id=\"moat-search\""), std::string::npos);
  EXPECT_NE(html->find("<ul id=\"moat-results\""), std::string::npos);
  EXPECT_NE(html->find("<select id=\"filter-port\">"), std::string::npos);
  EXPECT_NE(html->find("<input type=\"datetime-local\" id=\"filter-from\""), std::string::npos);
  EXPECT_NE(html->find("<input type=\"datetime-local\" id=\"filter-to\""), std::string::npos);
  EXPECT_NE(html->find("overlaps this range (UTC)"), std::string::npos);
  for (std::string_view d : {"allowed", "not-allowed", "rejected", "would-cut"}) {
    EXPECT_NE(html->find("data-decision=\"" + std::string(d) + "\" id=\"filter-" + std::string(d) + "\""),
              std::string::npos)
        << d;
  }
  EXPECT_NE(html->find("<table id=\"moat-edges\">"), std::string::npos);
  EXPECT_NE(html->find("<aside id=\"moat-details\""), std::string::npos);
  EXPECT_NE(html->find("document.body.dataset.rendered = 'true'"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(DataBlock(*html)), nlohmann::json::parse(RenderMapJson(map)));
}

TEST(MapTest, HtmlHeaderSaysWhatTheDataSpans) {
  const Result<std::string> html = RenderMapHtml(PageSample());
  ASSERT_TRUE(html) << html.error().message;
  EXPECT_NE(html->find("<p class=\"meta\">Flows 2024-05-01 00:00 to 13:05 UTC &middot; 112 of 140 recorded flows in "
                       "the window &middot; generated 2024-05-02T00:01:40Z &middot; 2 databases, 3 consumer groups, "
                       "4 edges</p>"),
            std::string::npos);

  TrafficMap none = PageSample();
  none.first = none.last = 0;
  const Result<std::string> untimed = RenderMapHtml(none);
  ASSERT_TRUE(untimed) << untimed.error().message;
  EXPECT_NE(untimed->find("<p class=\"meta\">Flows no flow times &middot;"), std::string::npos);
}

// However many notes and databases without flows, the header stays a few lines: each list is a
// closed <details> with a count.
TEST(MapTest, HtmlCollapsesNotesAndDatabasesWithoutFlows) {
  const Result<std::string> html = RenderMapHtml(PageSample());
  ASSERT_TRUE(html) << html.error().message;
  EXPECT_NE(html->find("<details id=\"moat-notes\"><summary>2 notes</summary>\n<ul>\n<li>no plan at hand: nothing "
                       "is marked would-cut</li>\n<li>the flow history ends before the window does</li>\n</ul>\n"
                       "</details>"),
            std::string::npos);
  EXPECT_NE(html->find("<details id=\"moat-no-flows\"><summary>1 database with no flows in the window</summary>\n"
                       "<ul>\n<li title=\"db:reports-db\">reports &lt;db&gt;</li>\n</ul>\n</details>"),
            std::string::npos);
  EXPECT_EQ(html->find("<details open"), std::string::npos);

  const Result<std::string> quiet = RenderMapHtml(Sample());
  ASSERT_TRUE(quiet) << quiet.error().message;
  EXPECT_EQ(quiet->find("id=\"moat-no-flows\""), std::string::npos);
}

TEST(MapTest, HtmlEscapesHostileLabelsEverywhere) {
  TrafficMap hostile = Hostile();
  hostile.nodes[0].label = std::string(kHostile);
  hostile.no_flows = {hostile.nodes[0].id};
  const Result<std::string> html = RenderMapHtml(hostile);
  ASSERT_TRUE(html) << html.error().message;
  EXPECT_EQ(Count(*html, "<script"), 2u);  // the data block and the page script
  EXPECT_EQ(Count(*html, "</script"), 2u);
  EXPECT_EQ(html->find("alert(1)</"), std::string::npos);
  EXPECT_NE(html->find("<title>x&quot;y\\z &lt;script&gt;alert(1)&lt;/script&gt;\nline2\\</title>"), std::string::npos);
  EXPECT_NE(html->find("<li>x&quot;y\\z &lt;script&gt;alert(1)&lt;/script&gt;\nline2\\</li>"), std::string::npos);
  EXPECT_NE(html->find("<li title=\"db:orders-db\">x&quot;y\\z &lt;script&gt;alert(1)&lt;/script&gt;\nline2\\</li>"),
            std::string::npos);

  const auto j = nlohmann::json::parse(DataBlock(*html));
  EXPECT_EQ(j["nodes"][1]["label"], kHostile);
  EXPECT_EQ(j["edges"][0]["rules"][0], "</script><script>alert(2)</script>");
}

}  // namespace
}  // namespace moat::map
