// The flow store benchmark: how fast the local flow history (store/flow_store.h) takes flows in
// and gives them back, on one core, in a fresh store in a temporary directory.
//   record: N distinct flows, in objects of `object_flows` flows each (one transaction each);
//   load:   Load(0) of the whole store, `loads` times (the median is printed);
//   update: 20 more objects of 10,000 flows into the full store, half of them keys it already has
//           (on a later day), half new — what a run that reads new flow logs does.
// The data is generated with a fixed seed (deterministic): 1,000 responders on five database ports,
// initiators from 10.0.0.0/8, one flow in 20 over IPv6, `last` spread over 7 days.
// With `placed` 1, every flow is recorded with a place (one of 10 account-regions) and the network
// interface that logged it (its responder's: 1,000 interfaces), as flows of a central log archive
// of the databases' subnets are; 0 (the default) records flows of neither.
// Fails (exit 1) when a step fails or Load does not give back what was recorded.
// Usage: flow_store_bench [flows] [loads] [object_flows] [placed]   (defaults 10000000 5 flows 0)
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "rng.h"
#include "store/flow_store.h"

namespace {

using moat::store::FlowStore;
using moat::traffic::Flow;

constexpr int kResponders = 1000;
constexpr uint16_t kPorts[] = {5432, 3306, 1433, 1521, 6379};
constexpr int64_t kNow = 1793491200;  // 2026-11-01T00:00:00Z

using moat::bench::Rng;

// Flow i: responder i % 1000 and initiator i / 1000 (scrambled by an odd multiplier, a bijection
// on 24 bits), so that every flow has its own key and consecutive flows are far apart in the store.
Flow MakeFlow(uint64_t i, Rng& rng, int64_t last_day_offset) {
  using moat::net::Address;
  const uint32_t r = static_cast<uint32_t>(i % kResponders);
  const uint32_t c = static_cast<uint32_t>((i / kResponders) * 0x9e3779b1ULL) & 0xffffff;
  Flow f;
  if (rng.Next() % 20 == 0) {
    f.key.initiator = Address::V6(0x20010db800010000ULL, c);
    f.key.responder = Address::V6(0x20010db800020000ULL, r);
  } else {
    f.key.initiator = Address::V4(0x0a000000U | c);
    f.key.responder = Address::V4(0x0a640000U | r);
  }
  f.key.port = kPorts[r % 5];
  f.key.protocol = 6;
  f.key.action = rng.Next() % 50 == 0 ? moat::flowlog::Action::kReject : moat::flowlog::Action::kAccept;
  f.counts.records = 1 + rng.Next() % 100;
  f.counts.packets = f.counts.records * (1 + rng.Next() % 20);
  f.counts.bytes = f.counts.packets * (60 + rng.Next() % 1400);
  f.counts.last = kNow - static_cast<int64_t>(rng.Next() % (7 * 86400)) + last_day_offset;
  f.counts.first = f.counts.last - static_cast<int64_t>(rng.Next() % 3600);
  return f;
}

double Seconds(std::chrono::steady_clock::time_point from) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - from).count();
}

// CPU seconds of this process (user + system): what the machine's other work does not inflate.
double CpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "flow_store_bench: %s\n", what.c_str());
  return 1;
}

uint64_t FileBytes(const std::filesystem::path& file) {
  std::error_code ec;
  const uint64_t n = std::filesystem::file_size(file, ec);
  return ec ? 0 : n;
}

// Where flows [first, first + count) of MakeFlow were logged: place i % 10 + 1 and interface i % 1,000 + 1.
moat::traffic::FlowPlaces PlacesOf(uint64_t first, size_t count) {
  moat::traffic::FlowPlaces p;
  for (int k = 0; k < 10; ++k) p.names.push_back("1111111111" + std::to_string(10 + k) + "/us-east-1");
  for (int k = 0; k < kResponders; ++k) {
    char name[32];
    std::snprintf(name, sizeof name, "eni-0%016x", 0x5eed0000 + k);
    p.interfaces.emplace_back(name);
  }
  for (uint64_t i = first; i < first + count; ++i) {
    p.of.push_back(static_cast<uint32_t>(i % 10 + 1));
    p.interface_of.push_back(static_cast<uint32_t>(i % kResponders + 1));
  }
  return p;
}

int Bench(const std::filesystem::path& dir, uint64_t n, int loads, uint64_t object_flows, bool placed) {
  Rng rng(42);
  std::vector<Flow> flows;
  flows.reserve(n);
  uint64_t records = 0;
  for (uint64_t i = 0; i < n; ++i) {
    flows.push_back(MakeFlow(i, rng, 0));
    records += flows.back().counts.records;
  }
  const auto places = [placed](uint64_t first, size_t count) {
    return placed ? PlacesOf(first, count) : moat::traffic::FlowPlaces{};
  };
  auto store = FlowStore::Open((dir / "flows.sqlite").string());
  if (!store) return Fail(store.error().message);
  FlowStore& s = **store;

  auto t0 = std::chrono::steady_clock::now();
  double c0 = CpuSeconds();
  const int64_t run = *s.BeginRun(kNow, "bench");
  for (uint64_t at = 0, k = 0; at < n; at += object_flows, ++k) {
    const std::span<const Flow> part(flows.data() + at, std::min(object_flows, n - at));
    if (auto r = s.Record(run, {"object-" + std::to_string(k), part.size(), "1"}, part, places(at, part.size())); !r) {
      return Fail(r.error().message);
    }
  }
  const double record_s = Seconds(t0), record_cpu = CpuSeconds() - c0;

  std::vector<double> load_s, load_cpu;
  for (int i = 0; i < loads; ++i) {
    t0 = std::chrono::steady_clock::now();
    c0 = CpuSeconds();
    auto loaded = s.Load(0);
    load_s.push_back(Seconds(t0));
    load_cpu.push_back(CpuSeconds() - c0);
    if (!loaded) return Fail(loaded.error().message);
    uint64_t sum = 0;
    for (const auto& f : loaded->flows) sum += f.counts.records;
    if (loaded->flows.size() != n || sum != records) {
      return Fail("loaded " + std::to_string(loaded->flows.size()) + " flows of " + std::to_string(sum) +
                  " records, recorded " + std::to_string(n) + " of " + std::to_string(records));
    }
  }
  std::sort(load_s.begin(), load_s.end());
  std::sort(load_cpu.begin(), load_cpu.end());
  const uint64_t file = FileBytes(dir / "flows.sqlite"), wal = FileBytes(dir / "flows.sqlite-wal");

  // Update: 20 objects of 10,000 flows, half of them keys from the store on a later day.
  constexpr int kUpdates = 20;
  constexpr uint64_t kUpdateFlows = 10'000;
  const uint64_t update_flows = std::min(kUpdateFlows, n);
  const int64_t run2 = *s.BeginRun(kNow + 86400, "bench update");
  Rng pick(7);
  double update_s = 0;
  for (int k = 0; k < kUpdates; ++k) {
    std::vector<Flow> part;
    moat::traffic::FlowPlaces where = places(0, 0);
    for (uint64_t j = 0; j < update_flows; ++j) {
      const uint64_t i = j % 2 == 0 ? pick.Next() % n : n + k * update_flows + j;
      part.push_back(MakeFlow(i, rng, 7 * 86400));
      if (placed) {
        where.of.push_back(static_cast<uint32_t>(i % 10 + 1));
        where.interface_of.push_back(static_cast<uint32_t>(i % kResponders + 1));
      }
    }
    t0 = std::chrono::steady_clock::now();
    if (auto r = s.Record(run2, {"update-" + std::to_string(k), part.size(), "1"}, part, where); !r) {
      return Fail(r.error().message);
    }
    update_s += Seconds(t0);
  }

  const double load = load_s[load_s.size() / 2];
  std::printf(
      "flow_store %llu flows%s: record %.2f s (%.2f M/s; cpu %.2f s; objects of %llu), load median %.2f s (%.2f M/s; "
      "cpu %.2f s), file %.0f MiB (+ WAL %.0f MiB); update %d x %llu flows: %.2f s (%.2f M/s)\n",
      static_cast<unsigned long long>(n), placed ? " (placed, at interfaces)" : "", record_s, n / record_s / 1e6,
      record_cpu, static_cast<unsigned long long>(object_flows), load, n / load / 1e6, load_cpu[load_cpu.size() / 2],
      file / 1048576.0, wal / 1048576.0, kUpdates, static_cast<unsigned long long>(update_flows), update_s,
      kUpdates * update_flows / update_s / 1e6);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 10'000'000;
  const int loads = argc > 2 ? std::atoi(argv[2]) : 5;
  const uint64_t object_flows = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : n;
  const bool placed = argc > 4 && std::atoi(argv[4]) != 0;
  if (n == 0 || loads < 1 || object_flows == 0) {
    std::fprintf(stderr, "usage: flow_store_bench [flows] [loads] [object_flows] [placed]\n");
    return 2;
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp != nullptr && tmp[0] != '\0' ? tmp : "/tmp") + "/moat-flow-store-bench-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return Fail("cannot create a temporary directory");
  const int rc = Bench(tmpl, n, loads, object_flows, placed);
  std::filesystem::remove_all(tmpl);
  return rc;
}
