// Writes the traffic map page (RenderMapHtml) of a fixed sample map, for the browser test
// (map_browser_test.py) and for looking at: 3 databases, 7 consumer groups of every kind, 13 edges
// with all four decisions, two of them new, and labels with characters HTML and DOT care about.
// Usage: map_render_sample OUT.html [OUT.svg]
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <tuple>

#include "map/traffic_map.h"

namespace {

using moat::map::Decision;
using moat::map::MapEdge;
using moat::map::MapNode;
using moat::map::NodeKind;
using moat::map::TrafficMap;

constexpr int64_t kStart = 1714521600;  // 2024-05-01T00:00:00Z

MapNode Consumer(std::string id, NodeKind kind, std::string label, const std::string& prefix, int count) {
  MapNode n = moat::map::Node(std::move(id), kind, std::move(label), {}, static_cast<uint64_t>(count));
  for (int i = 0; i < count && i < 50; ++i) n.members.push_back(prefix + std::to_string(10 + i));
  std::sort(n.members.begin(), n.members.end());
  return n;
}

MapEdge Edge(std::string from, std::string to, uint16_t port, Decision d, uint64_t flows, uint64_t records,
             bool is_new = false) {
  MapEdge e{std::move(from), std::move(to),      6, port, d,      flows, records,
            records * 14,    records * 14 * 900, 0, 0,    is_new, {}};
  e.first = kStart + static_cast<int64_t>(records % 3600);
  e.last = kStart + 86400 - static_cast<int64_t>(flows * 60);
  if (d == Decision::kAllowed) e.rules = {"/orgs/1/sec_policy/active/rule_sets/7/sec_rules/" + std::to_string(port)};
  return e;
}

TrafficMap SampleMap() {
  TrafficMap m;
  m.title = "moat traffic map \xe2\x80\x94 sample";
  m.since = kStart;
  m.until = kStart + 86400;
  m.generated = kStart + 86400 + 120;
  m.notes = {"Sample data: 3 databases, 7 consumer groups.",
             "Would-cut edges are flows the current plan's rules would no longer admit."};
  m.nodes = {
      moat::map::Node("db:billing-aurora", NodeKind::kDatabase, "billing-aurora", {"10.0.3.10", "10.0.3.11"}, 2),
      moat::map::Node("db:inventory-db", NodeKind::kDatabase, "inventory-db", {"10.0.2.46"}, 1),
      moat::map::Node("db:orders-db", NodeKind::kDatabase, "orders-db", {"10.0.2.45"}, 1),
      Consumer("iplist:Corp VPN (EU)", NodeKind::kIpList, "Corp VPN (EU)", "172.16.8.", 5),
      Consumer("labels:role=admin,app=ops,env=prod", NodeKind::kLabels, "admin | ops <prod> & \"tools\"", "10.0.5.", 2),
      Consumer("labels:role=api,app=orders,env=prod", NodeKind::kLabels, "api | orders | prod | aws", "10.0.1.", 8),
      Consumer("labels:role=batch,app=billing,env=prod", NodeKind::kLabels, "batch | billing | prod | aws", "10.0.4.",
               3),
      Consumer("labels:role=web,app=shop,env=prod", NodeKind::kLabels, "web | shop | prod | aws", "10.0.0.", 64),
      Consumer("subnet:10.9.1.0/24", NodeKind::kSubnet, "10.9.1.0/24", "10.9.1.", 1),
      Consumer("subnet:2001:db8:0:42::/64", NodeKind::kSubnet, "2001:db8:0:42::/64", "2001:db8:0:42::", 2),
  };
  const std::string vpn = "iplist:Corp VPN (EU)", admin = "labels:role=admin,app=ops,env=prod",
                    api = "labels:role=api,app=orders,env=prod", batch = "labels:role=batch,app=billing,env=prod",
                    web = "labels:role=web,app=shop,env=prod", net4 = "subnet:10.9.1.0/24",
                    net6 = "subnet:2001:db8:0:42::/64";
  m.edges = {
      Edge(web, "db:orders-db", 5432, Decision::kAllowed, 64, 182000),
      Edge(api, "db:orders-db", 5432, Decision::kAllowed, 8, 40210),
      Edge(admin, "db:orders-db", 5432, Decision::kWouldCut, 2, 37, true),
      Edge(vpn, "db:orders-db", 5432, Decision::kNotAllowed, 3, 211),
      Edge(net4, "db:orders-db", 5432, Decision::kRejected, 1, 9),
      Edge(api, "db:inventory-db", 5432, Decision::kAllowed, 8, 9120),
      Edge(web, "db:inventory-db", 5432, Decision::kNotAllowed, 12, 804, true),
      Edge(net6, "db:inventory-db", 5432, Decision::kRejected, 2, 14),
      Edge(batch, "db:billing-aurora", 3306, Decision::kAllowed, 3, 5600),
      Edge(api, "db:billing-aurora", 3306, Decision::kAllowed, 4, 2480),
      Edge(admin, "db:billing-aurora", 3306, Decision::kWouldCut, 1, 12),
      Edge(vpn, "db:billing-aurora", 3306, Decision::kNotAllowed, 2, 66),
      Edge(vpn, "db:billing-aurora", 22, Decision::kRejected, 1, 3),
  };
  std::sort(m.edges.begin(), m.edges.end(), [](const MapEdge& a, const MapEdge& b) {
    return std::tie(a.to, a.from, a.protocol, a.port, a.decision) <
           std::tie(b.to, b.from, b.protocol, b.port, b.decision);
  });
  return m;
}

bool Write(const char* path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) std::fprintf(stderr, "map_render_sample: cannot write %s\n", path);
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: map_render_sample OUT.html [OUT.svg]\n");
    return 2;
  }
  const TrafficMap map = SampleMap();
  const moat::Result<std::string> html = moat::map::RenderMapHtml(map);
  if (!html) {
    std::fprintf(stderr, "map_render_sample: %s\n", html.error().message.c_str());
    return 1;
  }
  if (!Write(argv[1], *html)) return 1;
  if (argc == 3) {
    const moat::Result<std::string> svg = moat::map::RenderMapSvg(map);
    if (!svg) {
      std::fprintf(stderr, "map_render_sample: %s\n", svg.error().message.c_str());
      return 1;
    }
    if (!Write(argv[2], *svg)) return 1;
  }
  return 0;
}
