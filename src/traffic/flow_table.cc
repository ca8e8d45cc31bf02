#include "traffic/flow_table.h"

#include <algorithm>

namespace moat::traffic {
namespace {

inline uint64_t Mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

inline uint64_t Hash(const FlowKey& k) {
  uint64_t h = Mix(k.initiator.lo ^ (k.initiator.hi * 0x9e3779b97f4a7c15ULL));
  h = Mix(h ^ k.responder.lo ^ (k.responder.hi * 0xbf58476d1ce4e5b9ULL));
  const uint64_t small = (uint64_t{k.port} << 32) | (uint64_t{k.protocol} << 16) |
                         (uint64_t{static_cast<uint8_t>(k.action)} << 8) |
                         (uint64_t{static_cast<uint8_t>(k.initiator.family)} << 4) |
                         uint64_t{static_cast<uint8_t>(k.responder.family)};
  return Mix(h ^ small);
}

constexpr size_t kInitialSlots = 1024;

}  // namespace

FlowTable::FlowTable(const ServicePorts& service_ports)
    : service_ports_(service_ports), index_(kInitialSlots, 0), mask_(kInitialSlots - 1) {}

void FlowTable::Grow() {
  std::vector<uint32_t> bigger(index_.size() * 2, 0);
  const uint64_t mask = bigger.size() - 1;
  for (uint32_t i = 0; i < flows_.size(); ++i) {
    uint64_t s = Hash(flows_[i].key) & mask;
    while (bigger[s] != 0) s = (s + 1) & mask;
    bigger[s] = i + 1;
  }
  index_.swap(bigger);
  mask_ = mask;
}

Flow& FlowTable::Slot(const FlowKey& key) {
  uint64_t s = Hash(key) & mask_;
  for (;;) {
    const uint32_t i = index_[s];
    if (i == 0) break;
    if (flows_[i - 1].key == key) return flows_[i - 1];
    s = (s + 1) & mask_;
  }
  if ((flows_.size() + 1) * 2 > index_.size()) {  // keep the load factor at or below 1/2
    Grow();
    return Slot(key);
  }
  flows_.push_back(Flow{key, {}});
  index_[s] = static_cast<uint32_t>(flows_.size());
  return flows_.back();
}

void FlowTable::Add(const flowlog::Record& r) {
  FlowCounts c;
  c.records = 1;
  c.packets = r.packets;
  c.bytes = r.bytes;
  c.first = r.start;
  c.last = r.end;
  Slot(KeyOf(r, service_ports_)).counts.Add(c);
}

void FlowTable::Add(const FlowKey& key, const FlowCounts& counts) { Slot(key).counts.Add(counts); }

void FlowTable::Merge(const FlowTable& other) {
  for (const Flow& f : other.flows_) Add(f.key, f.counts);
}

std::vector<Flow> FlowTable::Sorted() const {
  std::vector<Flow> out = flows_;
  std::sort(out.begin(), out.end(), [](const Flow& a, const Flow& b) {
    if (a.counts.records != b.counts.records) return a.counts.records > b.counts.records;
    return a.key < b.key;
  });
  return out;
}

}  // namespace moat::traffic
