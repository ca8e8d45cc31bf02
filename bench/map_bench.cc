// The traffic map benchmark: times RenderMapSvg (DOT, Graphviz dot layout, SVG) and RenderMapHtml
// (the same plus the page) on one core over a generated map, and prints the medians.
// The map is generated with a fixed seed (deterministic), shaped like a busy estate:
//   - `databases` databases; `consumers` consumer nodes holding 1,000 addresses in all: 4% IP
//     lists, 10% subnets, the rest label groups (241 + 11 + 28 for the default 280);
//   - about `edges` edges: each consumer group talks to the database of its app and to a few
//     others (a neighbourhood, as apps share databases), on 5432 or 3306 and now and then a second
//     port; 70% allowed, 12% not allowed, 10% rejected, 8% would-cut; one in twenty new.
// Usage: map_bench [consumers] [databases] [edges] [repetitions] [out-prefix]   (defaults 280 50 1500 5)
// With out-prefix, also writes out-prefix.dot and out-prefix.html.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "map/traffic_map.h"
#include "rng.h"

namespace {

using moat::map::Decision;
using moat::map::MapEdge;
using moat::map::MapNode;
using moat::map::NodeKind;
using moat::map::TrafficMap;

constexpr int kConsumers = 1000;     // addresses behind the consumer nodes
constexpr int64_t kT0 = 1714521600;  // 2024-05-01T00:00:00Z

using moat::bench::Rng;

constexpr const char* kRoles[] = {"web", "api", "worker", "batch", "admin", "etl", "cron", "report"};
constexpr const char* kApps[] = {"orders", "billing", "catalog", "search", "users", "payments", "shipping", "ledger"};
constexpr const char* kEnvs[] = {"prod", "staging"};

std::string Two(int i) { return (i < 10 ? "0" : "") + std::to_string(i); }

Decision PickDecision(Rng& rng) {
  const int r = rng.Below(100);
  if (r < 70) return Decision::kAllowed;
  if (r < 82) return Decision::kNotAllowed;
  if (r < 92) return Decision::kRejected;
  return Decision::kWouldCut;
}

TrafficMap Generate(int consumer_nodes, int databases, int edges) {
  Rng rng(20240501);
  TrafficMap m;
  m.title = "moat traffic map (benchmark)";
  m.since = kT0;
  m.until = kT0 + 7 * 86400;
  m.generated = m.until;
  for (int d = 0; d < databases; ++d) {
    const std::string name = std::string(kApps[d % 8]) + "-db-" + Two(d);
    m.nodes.push_back(moat::map::Node("db:" + name, NodeKind::kDatabase, name, {"10.0.200." + std::to_string(d)}, 1));
  }
  const int ip_lists = std::max(1, consumer_nodes * 4 / 100);
  const int subnets = std::max(1, consumer_nodes * 10 / 100);
  const int label_groups = std::max(1, consumer_nodes - ip_lists - subnets);
  std::vector<MapNode> consumers;
  for (int g = 0; g < label_groups; ++g) {
    const std::string role = kRoles[g % 8], app = kApps[(g / 8) % 8], env = kEnvs[(g / 64) % 2];
    const std::string loc = "zone" + std::to_string(g / 128);
    consumers.push_back(moat::map::Node("labels:role=" + role + ",app=" + app + ",env=" + env + ",loc=" + loc,
                                        NodeKind::kLabels, role + " | " + app + " | " + env + " | " + loc, {}, 0));
  }
  for (int i = 0; i < ip_lists; ++i) {
    consumers.push_back(moat::map::Node("iplist:partner-" + Two(i), NodeKind::kIpList, "partner-" + Two(i), {}, 0));
  }
  for (int i = 0; i < subnets; ++i) {
    const std::string net = "10." + std::to_string(64 + i / 200) + "." + std::to_string(i % 200) + ".0/24";
    consumers.push_back(moat::map::Node("subnet:" + net, NodeKind::kSubnet, net, {}, 0));
  }
  // 1,000 addresses: one per node, the rest at random.
  for (int a = 0; a < kConsumers; ++a) {
    MapNode& n = consumers[a < static_cast<int>(consumers.size()) ? a : rng.Below(static_cast<int>(consumers.size()))];
    ++n.member_count;
    if (n.members.size() < 50) {
      n.members.push_back("10." + std::to_string(1 + a / 65536) + "." + std::to_string((a / 256) % 256) + "." +
                          std::to_string(a % 256));
    }
  }
  for (MapNode& n : consumers) std::sort(n.members.begin(), n.members.end());
  std::sort(consumers.begin(), consumers.end(), [](const MapNode& a, const MapNode& b) { return a.id < b.id; });

  std::set<std::tuple<int, int, uint16_t>> seen;  // (consumer, database, port)
  const int per_node = std::max(1, edges / static_cast<int>(consumers.size()));
  const int extra = edges - per_node * static_cast<int>(consumers.size());
  for (int c = 0; c < static_cast<int>(consumers.size()); ++c) {
    const int want = per_node + (c < extra ? 1 : 0);
    const int home = c % databases;
    for (int k = 0, tries = 0; k < want && tries < 100; ++tries) {
      const int d = (k == 0) ? home : (home + rng.Below(std::min(databases, 9)) + databases - 4) % databases;
      uint16_t port = (d % 3 == 0) ? 3306 : 5432;
      if (rng.Below(20) == 0) port = 6432;
      if (!seen.insert({c, d, port}).second) continue;
      ++k;
      MapEdge e;
      e.from = consumers[c].id;
      e.to = m.nodes[d].id;
      e.port = port;
      e.decision = PickDecision(rng);
      e.flows = 1 + rng.Below(static_cast<int>(std::min<uint64_t>(consumers[c].member_count, 40)));
      e.records = e.flows * (1 + rng.Below(5000));
      e.packets = e.records * (2 + rng.Below(30));
      e.bytes = e.packets * (60 + rng.Below(1400));
      e.first = kT0 + rng.Below(86400);
      e.last = m.until - rng.Below(86400);
      e.is_new = rng.Below(20) == 0;
      if (e.decision == Decision::kAllowed) e.rules = {"/orgs/1/sec_policy/active/rule_sets/3/sec_rules/" + Two(d)};
      m.edges.push_back(std::move(e));
    }
  }
  for (MapNode& n : consumers) m.nodes.push_back(std::move(n));
  std::sort(m.edges.begin(), m.edges.end(), [](const MapEdge& a, const MapEdge& b) {
    return std::tie(a.to, a.from, a.protocol, a.port, a.decision) <
           std::tie(b.to, b.from, b.protocol, b.port, b.decision);
  });
  return m;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// Runs `render` `reps` times; exits on an error. Returns the median seconds and the output size.
template <typename Fn>
std::pair<double, size_t> Time(const char* what, int reps, Fn render) {
  std::vector<double> seconds;
  size_t size = 0;
  for (int r = 0; r < reps; ++r) {
    const auto start = std::chrono::steady_clock::now();
    const moat::Result<std::string> out = render();
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (!out) {
      std::fprintf(stderr, "map_bench: %s: %s\n", what, out.error().message.c_str());
      std::exit(1);
    }
    size = out->size();
  }
  return {Median(seconds), size};
}

}  // namespace

int main(int argc, char** argv) {
  const int consumers = argc > 1 ? std::atoi(argv[1]) : 280;
  const int databases = argc > 2 ? std::atoi(argv[2]) : 50;
  const int edges = argc > 3 ? std::atoi(argv[3]) : 1500;
  const int reps = argc > 4 ? std::atoi(argv[4]) : 5;
  if (consumers < 3 || databases < 1 || edges < 1 || reps < 1) {
    std::fprintf(stderr, "usage: map_bench [consumers>=3] [databases] [edges] [repetitions] [out-prefix]\n");
    return 2;
  }
  const TrafficMap map = Generate(consumers, databases, edges);
  if (argc > 5) {  // for looking at: the DOT and the page
    std::ofstream(std::string(argv[5]) + ".dot") << moat::map::RenderMapDot(map);
    const moat::Result<std::string> html = moat::map::RenderMapHtml(map);
    if (html) std::ofstream(std::string(argv[5]) + ".html") << *html;
  }
  const auto [svg_s, svg_bytes] = Time("svg", reps, [&] { return moat::map::RenderMapSvg(map); });
  const auto [html_s, html_bytes] = Time("html", reps, [&] { return moat::map::RenderMapHtml(map); });
  std::printf("map %zu nodes %zu edges: layout+svg median %.2f s (%zu KiB), html median %.2f s (%zu KiB), %d runs\n",
              map.nodes.size(), map.edges.size(), svg_s, svg_bytes / 1024, html_s, html_bytes / 1024, reps);
  return 0;
}
