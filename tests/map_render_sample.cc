// Writes the traffic map page (RenderMapHtml) of a fixed sample map, for the browser test
// (map_browser_test.py) and for looking at: 5 databases (every protection, one with no flows), 7
// consumer groups of every kind and one "others" group, 15 edges with all four decisions, two of
// them new, and labels with characters HTML and DOT care about. With --fleet N, a deterministic
// map of N databases as a fleet has them (19 consumer groups and an "others" each, ~50 edges per
// database, one in 50 without flows), for the page's timing test.
// Usage: map_render_sample OUT.html [OUT.svg] | map_render_sample --fleet N OUT.html
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <string_view>
#include <tuple>

#include "map/traffic_map.h"

namespace {

using moat::map::Decision;
using moat::map::MapEdge;
using moat::map::MapNode;
using moat::map::NodeKind;
using moat::map::Protection;
using moat::map::TrafficMap;

constexpr int64_t kStart = 1714521600;  // 2024-05-01T00:00:00Z

// A consumer group of `count` addresses prefix+10, prefix+11, ...: all of them searchable, the
// first 50 (in order) its members.
MapNode Consumer(std::string id, NodeKind kind, std::string label, const std::string& prefix, int count) {
  MapNode n = moat::map::Node(std::move(id), kind, std::move(label), {}, static_cast<uint64_t>(count));
  for (int i = 0; i < count; ++i) n.addresses.push_back(prefix + std::to_string(10 + i));
  std::sort(n.addresses.begin(), n.addresses.end());
  n.members.assign(n.addresses.begin(), n.addresses.begin() + std::min<size_t>(50, n.addresses.size()));
  if (kind == NodeKind::kLabels) {
    const std::string_view list = std::string_view(n.id).substr(n.id.find(':') + 1);
    for (size_t at = 0; at <= list.size();) {
      const size_t comma = std::min(list.find(',', at), list.size());
      n.labels.emplace_back(list.substr(at, comma - at));
      at = comma + 1;
    }
  }
  return n;
}

MapNode Database(const std::string& name, Protection p, std::string detail, std::vector<std::string> addresses) {
  const uint64_t count = addresses.size();
  MapNode n = moat::map::Node("db:" + name, NodeKind::kDatabase, name, std::move(addresses), count);
  n.protection = p;
  n.detail = std::move(detail);
  return n;
}

MapEdge Edge(std::string from, std::string to, uint16_t port, Decision d, uint64_t flows, uint64_t records,
             bool is_new = false, int64_t first = kStart, int64_t last = kStart + 86400) {
  MapEdge e{std::move(from), std::move(to),      6,     port, d,      flows, records,
            records * 14,    records * 14 * 900, first, last, is_new, {}};
  if (d == Decision::kAllowed) e.rules = {"/orgs/1/sec_policy/active/rule_sets/7/sec_rules/" + std::to_string(port)};
  return e;
}

void SortEdges(TrafficMap& m) {
  std::sort(m.edges.begin(), m.edges.end(), [](const MapEdge& a, const MapEdge& b) {
    return std::tie(a.to, a.from, a.protocol, a.port, a.decision) <
           std::tie(b.to, b.from, b.protocol, b.port, b.decision);
  });
}

TrafficMap SampleMap() {
  TrafficMap m;
  m.title = "moat traffic map \xe2\x80\x94 sample";
  m.since = kStart;
  m.until = kStart + 86400;
  m.generated = kStart + 86400 + 120;
  m.first = kStart;
  m.last = kStart + 86400 - 60;
  m.recorded_flows = 140;
  m.window_flows = 112;
  m.top = 5;
  m.notes = {"Sample data: 5 databases, 7 consumer groups.",
             "Would-cut edges are flows the current plan's rules would no longer admit."};
  m.no_flows = {"db:reports-db"};
  const std::string vpn = "iplist:Corp VPN (EU)", admin = "labels:role=admin,app=ops,env=prod",
                    api = "labels:role=api,app=orders,env=prod", batch = "labels:role=batch,app=billing,env=prod",
                    web = "labels:role=web,app=shop,env=prod", net4 = "subnet:10.9.1.0/24",
                    net6 = "subnet:2001:db8:0:42::/64", others = "others:db:orders-db";
  m.nodes = {
      Database("billing-aurora", Protection::kProtected, "billing.cluster-abc.eu-west-1.rds.amazonaws.com:3306",
               {"10.0.3.10", "10.0.3.11"}),
      Database("inventory-db", Protection::kNoRules, "virtual service VS-RDS-inventory-db: no enabled rule reaches it",
               {"10.0.2.46"}),
      Database("legacy-db", Protection::kUncompiled, "the policy cannot be compiled exactly for it", {"10.0.2.47"}),
      Database("orders-db", Protection::kProtected, "orders-db.abc.eu-west-1.rds.amazonaws.com:5432", {"10.0.2.45"}),
      Database("reports-db", Protection::kUnprotected, "found in AWS; no object of the policy is it", {"10.0.2.48"}),
      Consumer(vpn, NodeKind::kIpList, "Corp VPN (EU)", "172.16.8.", 5),
      Consumer(admin, NodeKind::kLabels, "admin | ops <prod> & \"tools\"", "10.0.5.", 2),
      Consumer(api, NodeKind::kLabels, "api | orders | prod | aws", "10.0.1.", 8),
      Consumer(batch, NodeKind::kLabels, "batch | billing | prod | aws", "10.0.4.", 3),
      Consumer(web, NodeKind::kLabels, "web | shop | prod | aws", "10.0.0.", 64),
      Consumer(others, NodeKind::kOthers, "3 other groups", "10.7.7.", 3),
      Consumer(net4, NodeKind::kSubnet, "10.9.1.0/24", "10.9.1.", 1),
      Consumer(net6, NodeKind::kSubnet, "2001:db8:0:42::/64", "2001:db8:0:42::", 2),
  };
  m.edges = {
      Edge(web, "db:orders-db", 5432, Decision::kAllowed, 64, 182000),
      Edge(api, "db:orders-db", 5432, Decision::kAllowed, 8, 40210),
      Edge(admin, "db:orders-db", 5432, Decision::kWouldCut, 2, 37, true, kStart + 3600, kStart + 7200),
      Edge(vpn, "db:orders-db", 5432, Decision::kNotAllowed, 3, 211, false, kStart + 36000, kStart + 43200),
      Edge(net4, "db:orders-db", 5432, Decision::kRejected, 1, 9, false, kStart + 80000, kStart + 86000),
      Edge(others, "db:orders-db", 5432, Decision::kAllowed, 3, 120),
      Edge(api, "db:inventory-db", 5432, Decision::kAllowed, 8, 9120),
      Edge(web, "db:inventory-db", 5432, Decision::kNotAllowed, 12, 804, true),
      Edge(net6, "db:inventory-db", 5432, Decision::kRejected, 2, 14, false, kStart + 600, kStart + 1200),
      Edge(batch, "db:billing-aurora", 3306, Decision::kAllowed, 3, 5600),
      Edge(api, "db:billing-aurora", 3306, Decision::kAllowed, 4, 2480),
      Edge(admin, "db:billing-aurora", 3306, Decision::kWouldCut, 1, 12),
      Edge(vpn, "db:billing-aurora", 3306, Decision::kNotAllowed, 2, 66),
      Edge(vpn, "db:billing-aurora", 22, Decision::kRejected, 1, 3, false, kStart + 50000, kStart + 50100),
      Edge(net4, "db:legacy-db", 1521, Decision::kNotAllowed, 1, 40),
  };
  SortEdges(m);
  return m;
}

uint32_t Mix(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  return x ^ (x >> 16);
}

std::string Dotted(uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." + std::to_string((a >> 8) & 255) + "." +
         std::to_string(a & 255);
}

std::string Padded(int i) {
  std::string s = std::to_string(i);
  return std::string(s.size() < 4 ? 4 - s.size() : 0, '0') + s;
}

// A consumer group of the fleet: labels (4 in 10), IP lists (2 in 10) or /24 subnets, 4 addresses.
MapNode FleetConsumer(int j) {
  const uint32_t base = (100U << 24 | 64U << 16) + static_cast<uint32_t>(j) * 4;
  const int kind = j % 10;
  MapNode n;
  if (kind < 4) {
    const std::string role = "role=svc" + std::to_string(j % 40), app = "app=app" + std::to_string(j);
    n = Consumer("labels:" + role + "," + app + ",env=prod", NodeKind::kLabels,
                 "svc" + std::to_string(j % 40) + " | app" + std::to_string(j) + " | prod | aws", "", 0);
    n.labels = {role, app, "env=prod"};
  } else if (kind < 6) {
    n = Consumer("iplist:partners-" + std::to_string(j), NodeKind::kIpList, "partners " + std::to_string(j), "", 0);
  } else {
    const std::string net = "10." + std::to_string(j / 256 % 256) + "." + std::to_string(j % 256) + ".0/24";
    n = Consumer("subnet:" + net, NodeKind::kSubnet, net, "", 0);
  }
  for (uint32_t k = 0; k < 4; ++k) {
    n.addresses.push_back(kind < 6 ? Dotted(base + k)
                                   : "10." + std::to_string(j / 256 % 256) + "." + std::to_string(j % 256) + "." +
                                         std::to_string(10 + k));
  }
  std::sort(n.addresses.begin(), n.addresses.end());
  n.members = n.addresses;
  n.member_count = n.addresses.size();
  return n;
}

TrafficMap FleetMap(int databases) {
  constexpr int kGroups = 19;
  constexpr Decision kDecisions[] = {Decision::kAllowed, Decision::kAllowed,  Decision::kNotAllowed,
                                     Decision::kAllowed, Decision::kRejected, Decision::kWouldCut};
  constexpr uint16_t kPorts[] = {5432, 3306, 6432, 1521};
  constexpr Protection kProtections[] = {Protection::kUnprotected, Protection::kNoRules, Protection::kUncompiled};
  TrafficMap m;
  m.title = "moat traffic map \xe2\x80\x94 fleet sample";
  m.since = kStart;
  m.until = kStart + 7 * 86400;
  m.generated = m.until + 60;
  m.first = kStart + 30;
  m.last = m.until - 30;
  m.top = kGroups;
  m.notes = {"Fleet sample: generated, deterministic.", "no plan: flows the policy does not admit are not-allowed"};
  const int pool = databases * kGroups;
  for (int i = 0; i < databases; ++i) {
    const std::string name = "fleet-" + Padded(i);
    const Protection p = i % 7 < 3 ? kProtections[i % 7] : Protection::kProtected;
    m.nodes.push_back(Database(name, p, name + ".abc.eu-west-1.rds.amazonaws.com", {Dotted(0x0a640000U + i)}));
  }
  for (int j = 0; j < pool; ++j) m.nodes.push_back(FleetConsumer(j));
  for (int i = 0; i < databases; ++i) {
    const std::string db = "db:fleet-" + Padded(i);
    if (i % 50 == 49) {
      m.no_flows.push_back(db);
      continue;
    }
    MapNode others = Consumer("others:" + db, NodeKind::kOthers, "12 other groups", Dotted(0x0b000000U + i * 256), 0);
    others.addresses = {Dotted(0x0b000000U + i * 256 + 1), Dotted(0x0b000000U + i * 256 + 2)};
    others.members = others.addresses;
    others.member_count = 12;
    m.nodes.push_back(others);
    std::set<int> consumers = {(i % 50) * 10};  // a labels group many databases share
    for (int k = 0; consumers.size() < static_cast<size_t>(kGroups); ++k)
      consumers.insert((i * kGroups + k * 7) % pool);
    for (int j : consumers) {
      const uint32_t h = Mix(static_cast<uint32_t>(i * 7919 + j));
      const int edges = 1 + static_cast<int>(h % 4);
      for (int t = 0; t < edges; ++t) {
        const uint32_t x = (h >> 8) + static_cast<uint32_t>(t) * 5;
        const int64_t first = m.first + static_cast<int64_t>(Mix(x) % (6 * 86400));
        m.edges.push_back(Edge(m.nodes[static_cast<size_t>(databases) + static_cast<size_t>(j)].id, db,
                               kPorts[(t + (h >> 4)) % 4], kDecisions[x % 6], 1 + h % 9, 1 + Mix(x) % 50000,
                               x % 23 == 0, first, std::min<int64_t>(m.last, first + static_cast<int64_t>(h % 86400))));
      }
    }
    m.edges.push_back(Edge("others:" + db, db, 5432, Decision::kAllowed, 12, 40, false));
  }
  std::sort(m.nodes.begin() + databases, m.nodes.end(), [](const MapNode& a, const MapNode& b) { return a.id < b.id; });
  SortEdges(m);
  m.edges.erase(std::unique(m.edges.begin(), m.edges.end(),
                            [](const MapEdge& a, const MapEdge& b) {
                              return std::tie(a.to, a.from, a.protocol, a.port, a.decision) ==
                                     std::tie(b.to, b.from, b.protocol, b.port, b.decision);
                            }),
                m.edges.end());
  m.recorded_flows = m.window_flows = m.edges.size() * 3;
  m.recorded_flows += 1000;
  return m;
}

bool Write(const char* path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) std::fprintf(stderr, "map_render_sample: cannot write %s\n", path);
  return static_cast<bool>(out);
}

int Render(const TrafficMap& map, const char* html_path, const char* svg_path) {
  const moat::Result<std::string> html = moat::map::RenderMapHtml(map);
  if (!html) {
    std::fprintf(stderr, "map_render_sample: %s\n", html.error().message.c_str());
    return 1;
  }
  if (!Write(html_path, *html)) return 1;
  if (svg_path != nullptr) {
    const moat::Result<std::string> svg = moat::map::RenderMapSvg(map);
    if (!svg) {
      std::fprintf(stderr, "map_render_sample: %s\n", svg.error().message.c_str());
      return 1;
    }
    if (!Write(svg_path, *svg)) return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string_view(argv[1]) == "--fleet") {
    const std::string_view n = argv[2];
    int databases = 0;
    if (std::from_chars(n.data(), n.data() + n.size(), databases).ec != std::errc() || databases < 1 ||
        databases > 100000) {
      std::fprintf(stderr, "map_render_sample: --fleet: not a number of databases (1 to 100000): %s\n", argv[2]);
      return 2;
    }
    return Render(FleetMap(databases), argv[3], nullptr);
  }
  if (argc < 2 || argc > 3 || argv[1][0] == '-') {
    std::fprintf(stderr, "usage: map_render_sample OUT.html [OUT.svg] | map_render_sample --fleet N OUT.html\n");
    return 2;
  }
  return Render(SampleMap(), argv[1], argc == 3 ? argv[2] : nullptr);
}
