// The what-if benchmark: the flow history of `flows` distinct flows to `targets` databases is
// loaded from a SQLite flow store (store/flow_store.h) and replayed through plan::Reconcile for
// every target, as `moat plan` does: the flows indexed by responder, each target's plan computed
// with its observed flows, the accepted flows its rules would cut listed. One core.
//
// Data (fixed seed, deterministic): target t has address 10.1.t/16.t%256 and 60 single-address
// rules plus two /24s on port 5432; each flow comes from one of 200 initiators per target, one in
// ten of which the rules do not admit; one flow in 20 is REJECT. The policy changes to drop one
// rule in ten, so the what-if finds cuts (and holds the change). The store is written once
// (not timed); then `runs` times: Load + index + Reconcile of every target. Medians are printed.
// Usage: whatif_bench [flows] [targets] [runs]   (defaults 10000000 1000 3)
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "plan/reconcile.h"
#include "rng.h"
#include "store/flow_store.h"

namespace {

using moat::net::Address;
using moat::plan::SgRule;
using moat::traffic::Flow;

using moat::bench::Rng;

Address TargetAddress(uint32_t t) { return Address::V4(0x0a010000U | ((t / 256) << 8) | (t % 256)); }
// Initiator i of target t: 10.2.x.y for the admitted ones (i % 10 != 0), 10.3.x.y for the others.
Address Initiator(uint32_t t, uint32_t i) {
  const uint32_t n = t * 200 + i;
  return Address::V4((i % 10 != 0 ? 0x0a020000U : 0x0a030000U) | (n & 0xffff));
}

double Seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }
double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t flows = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 10'000'000;
  const uint32_t targets = argc > 2 ? static_cast<uint32_t>(std::strtoul(argv[2], nullptr, 10)) : 1000;
  const int runs = argc > 3 ? std::atoi(argv[3]) : 3;
  if (flows == 0 || targets == 0 || targets > 65536 || runs <= 0) {
    std::fprintf(stderr, "usage: whatif_bench [flows] [targets (1-65536)] [runs]\n");
    return 1;
  }

  // Each target's rules: the admitted initiators as /32s (up to 60) and the rest as /24s.
  std::vector<std::vector<SgRule>> rules(targets);
  for (uint32_t t = 0; t < targets; ++t) {
    for (uint32_t i = 1; i < 200; ++i) {
      if (i % 10 == 0) continue;
      const Address a = Initiator(t, i);
      moat::net::Prefix p{a, 32};
      if (rules[t].size() >= 60) p = {Address::V4(static_cast<uint32_t>(a.lo) & 0xffffff00U), 24};
      SgRule r{6, 5432, 5432, p, "moat bench"};
      if (std::find(rules[t].begin(), rules[t].end(), r) == rules[t].end()) rules[t].push_back(r);
    }
    std::sort(rules[t].begin(), rules[t].end());
  }

  // Distinct flows: (target, initiator, source port bucket as a second key part via the port).
  std::vector<Flow> generated;
  generated.reserve(flows);
  Rng rng(42);
  for (uint64_t n = 0; n < flows; ++n) {
    const uint32_t t = static_cast<uint32_t>(n % targets);
    const uint64_t k = n / targets;
    Flow f;
    f.key.initiator = Initiator(t, static_cast<uint32_t>(k % 200));
    f.key.responder = TargetAddress(t);
    // Distinct keys beyond 200 per target: other ports of the database (a replica's, a proxy's).
    f.key.port = static_cast<uint16_t>(5432 + k / 200);
    f.key.protocol = 6;
    f.key.action = rng.Next() % 20 == 0 ? moat::flowlog::Action::kReject : moat::flowlog::Action::kAccept;
    f.counts.records = 1 + rng.Next() % 50;
    f.counts.packets = f.counts.records * 10;
    f.counts.bytes = f.counts.packets * 800;
    f.counts.first = 1793491200 + static_cast<int64_t>(rng.Next() % 86400);
    f.counts.last = f.counts.first + 60;
    generated.push_back(f);
  }
  const std::string dir = "/tmp/moat-whatif-bench-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/flows.sqlite";
  {
    auto store = moat::store::FlowStore::Open(path);
    if (!store) {
      std::fprintf(stderr, "whatif_bench: %s\n", store.error().message.c_str());
      return 1;
    }
    auto run = (*store)->BeginRun(1793491200, "bench");
    if (!run || !(*store)->Record(*run, {"bench", flows, ""}, generated)) {
      std::fprintf(stderr, "whatif_bench: recording failed\n");
      return 1;
    }
  }
  generated.clear();
  generated.shrink_to_fit();

  std::vector<double> load_s, replay_s, total_s;
  uint64_t cut = 0, breaking = 0, held = 0;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    auto store = moat::store::FlowStore::Open(path);
    if (!store) return 1;
    auto loaded = (*store)->Load(0);
    if (!loaded || loaded->flows.size() != flows) {
      std::fprintf(stderr, "whatif_bench: load failed or lost flows\n");
      return 1;
    }
    const auto t1 = std::chrono::steady_clock::now();
    std::unordered_map<Address, std::vector<const Flow*>, moat::net::AddressHash> by_responder;
    for (const Flow& f : loaded->flows) by_responder[f.key.responder].push_back(&f);
    cut = breaking = held = 0;
    for (uint32_t t = 0; t < targets; ++t) {
      moat::plan::ReconcileInput in;
      in.target_id = "db-" + std::to_string(t);
      // The policy drops one rule in ten: a change whose cuts the what-if must find.
      std::vector<SgRule> wanted;
      for (size_t i = 0; i < rules[t].size(); ++i) {
        if (i % 10 != 3) wanted.push_back(rules[t][i]);
      }
      in.wanted = std::move(wanted);
      in.guards.max_revoke_share = 1.0;
      in.last_applied = rules[t];
      in.managed.push_back({"sg-" + std::to_string(t), "moat-db-1", 1, rules[t], 0});
      in.attached = {"sg-" + std::to_string(t)};
      const auto& observed = by_responder[TargetAddress(t)];
      in.observed = observed;
      auto planned = moat::plan::Reconcile(in);
      if (!planned) return 1;
      cut += planned->cuts.size();
      held += planned->held.empty() ? 0 : 1;
      for (const auto& c : planned->cuts) breaking += c.breaking ? 1 : 0;
    }
    const auto t2 = std::chrono::steady_clock::now();
    load_s.push_back(Seconds(t1 - t0));
    replay_s.push_back(Seconds(t2 - t1));
    total_s.push_back(Seconds(t2 - t0));
  }
  std::filesystem::remove_all(dir);
  std::printf(
      "whatif %llu flows x %u targets: load median %.2f s, index+reconcile median %.2f s, total median %.2f s "
      "(%llu targets held back by the what-if; %llu flows listed as cut, %llu breaking)\n",
      static_cast<unsigned long long>(flows), targets, Median(load_s), Median(replay_s), Median(total_s),
      static_cast<unsigned long long>(held), static_cast<unsigned long long>(cut),
      static_cast<unsigned long long>(breaking));
  return 0;
}
