#include "traffic/flow_table.h"

#include <algorithm>

namespace moat::traffic {
namespace {

// Multiply-xorshift over the key's words: cheap, and good enough for linear probing with the
// high half kept as a tag.
inline uint64_t Hash(const FlowKey& k) {
  const uint64_t small =
      (uint64_t{k.port} << 32) | (uint64_t{k.protocol} << 16) | (uint64_t{static_cast<uint8_t>(k.action)} << 8) |
      (uint64_t{static_cast<uint8_t>(k.initiator.family)} << 4) | uint64_t{static_cast<uint8_t>(k.responder.family)};
  uint64_t h = (k.initiator.lo ^ 0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL;
  h ^= (k.responder.lo ^ (h >> 31)) * 0x94d049bb133111ebULL;
  h ^= (k.initiator.hi + k.responder.hi * 3 + small) * 0xd6e8feb86659fd93ULL;
  h ^= h >> 32;
  h *= 0x9e3779b97f4a7c15ULL;
  return h ^ (h >> 29);
}

constexpr size_t kInitialSlots = 1024;
constexpr uint64_t kHighHalf = 0xffffffff00000000ULL;

}  // namespace

FlowTable::FlowTable(const ServicePorts& service_ports)
    : service_ports_(service_ports), index_(kInitialSlots, 0), mask_(kInitialSlots - 1) {}

void FlowTable::Grow() {
  std::vector<uint64_t> bigger(index_.size() * 2, 0);
  const uint64_t mask = bigger.size() - 1;
  for (uint32_t i = 0; i < flows_.size(); ++i) {
    const uint64_t h = Hash(flows_[i].key);
    uint64_t s = h & mask;
    while (bigger[s] != 0) s = (s + 1) & mask;
    bigger[s] = (h & kHighHalf) | (i + 1);
  }
  index_.swap(bigger);
  mask_ = mask;
}

Flow& FlowTable::Slot(const FlowKey& key, uint64_t hash) {
  const uint64_t tag = hash & kHighHalf;
  uint64_t s = hash & mask_;
  for (;;) {
    const uint64_t e = index_[s];
    if (e == 0) break;
    if ((e & kHighHalf) == tag) {
      Flow& f = flows_[(e & ~kHighHalf) - 1];
      if (f.key == key) return f;
    }
    s = (s + 1) & mask_;
  }
  if ((flows_.size() + 1) * 2 > index_.size()) {  // keep the load factor at or below 1/2
    Grow();
    return Slot(key, hash);
  }
  flows_.push_back(Flow{key, {}});
  index_[s] = tag | flows_.size();
  return flows_.back();
}

void FlowTable::AddBatch(std::span<const flowlog::Record> records) {
  // Keys and hashes first, with the index slots prefetched; then the flows they point at; then
  // the updates. The table outgrows the caches, so this hides most of the memory latency.
  constexpr size_t kChunk = 64;
  FlowKey keys[kChunk];
  uint64_t hashes[kChunk];
  for (size_t base = 0; base < records.size(); base += kChunk) {
    const size_t n = std::min(kChunk, records.size() - base);
    for (size_t i = 0; i < n; ++i) {
      keys[i] = KeyOf(records[base + i], service_ports_);
      hashes[i] = Hash(keys[i]);
      __builtin_prefetch(&index_[hashes[i] & mask_]);
    }
    for (size_t i = 0; i < n; ++i) {
      const uint64_t e = index_[hashes[i] & mask_];
      if (e != 0) __builtin_prefetch(&flows_[(e & ~kHighHalf) - 1]);
    }
    for (size_t i = 0; i < n; ++i) {
      const flowlog::Record& r = records[base + i];
      FlowCounts c;
      c.records = 1;
      c.packets = r.packets;
      c.bytes = r.bytes;
      c.first = r.start;
      c.last = r.end;
      Slot(keys[i], hashes[i]).counts.Add(c);
    }
  }
}

void FlowTable::Add(const FlowKey& key, const FlowCounts& counts) { Slot(key, Hash(key)).counts.Add(counts); }

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
