#include "traffic/flow_table.h"

#include <algorithm>

namespace moat::traffic {
namespace {

constexpr size_t kInitialSlots = 1024;
constexpr uint64_t kHighHalf = 0xffffffff00000000ULL;

}  // namespace

// The fifth word: port (16 bits), protocol (8), action (2), the two families (3 each: 0, 4 or
// 6), and the interface number in the high half.
FlowTable::PackedKey FlowTable::Pack(const FlowKey& k, uint32_t interface) {
  const uint64_t small = uint64_t{k.port} | (uint64_t{k.protocol} << 16) |
                         (uint64_t{static_cast<uint8_t>(k.action)} << 24) |
                         (uint64_t{static_cast<uint8_t>(k.initiator.family)} << 26) |
                         (uint64_t{static_cast<uint8_t>(k.responder.family)} << 29) | (uint64_t{interface} << 32);
  return {{k.initiator.hi, k.initiator.lo, k.responder.hi, k.responder.lo, small}};
}

FlowKey FlowTable::Unpack(const PackedKey& p) {
  FlowKey k;
  k.initiator = {p.w[0], p.w[1], static_cast<net::Family>(p.w[4] >> 26 & 7)};
  k.responder = {p.w[2], p.w[3], static_cast<net::Family>(p.w[4] >> 29 & 7)};
  k.port = static_cast<uint16_t>(p.w[4]);
  k.protocol = static_cast<uint8_t>(p.w[4] >> 16);
  k.action = static_cast<flowlog::Action>(p.w[4] >> 24 & 3);
  return k;
}

// Multiply-xorshift over the key's words: cheap, and good enough for linear probing with the
// high half kept as a tag.
uint64_t FlowTable::Hash(const PackedKey& k) {
  uint64_t h = (k.w[1] ^ 0x9e3779b97f4a7c15ULL) * 0xbf58476d1ce4e5b9ULL;
  h ^= (k.w[3] ^ (h >> 31)) * 0x94d049bb133111ebULL;
  h ^= (k.w[0] + k.w[2] * 3 + k.w[4]) * 0xd6e8feb86659fd93ULL;
  h ^= h >> 32;
  h *= 0x9e3779b97f4a7c15ULL;
  return h ^ (h >> 29);
}

FlowTable::FlowTable(const ServicePorts& service_ports, bool keep_interfaces)
    : service_ports_(service_ports),
      keep_interfaces_(keep_interfaces),
      index_(kInitialSlots, 0),
      mask_(kInitialSlots - 1) {}

void FlowTable::Grow() {
  std::vector<uint64_t> bigger(index_.size() * 2, 0);
  const uint64_t mask = bigger.size() - 1;
  for (uint32_t i = 0; i < entries_.size(); ++i) {
    const uint64_t h = Hash(entries_[i].key);
    uint64_t s = h & mask;
    while (bigger[s] != 0) s = (s + 1) & mask;
    bigger[s] = (h & kHighHalf) | (i + 1);
  }
  index_.swap(bigger);
  mask_ = mask;
}

FlowCounts& FlowTable::Slot(const PackedKey& key, uint64_t hash) {
  const uint64_t tag = hash & kHighHalf;
  uint64_t s = hash & mask_;
  for (;;) {
    const uint64_t e = index_[s];
    if (e == 0) break;
    if ((e & kHighHalf) == tag) {
      Entry& entry = entries_[(e & ~kHighHalf) - 1];
      if (entry.key == key) [[likely]]
        return entry.counts;
    }
    s = (s + 1) & mask_;
  }
  return Insert(key, hash, s);
}

FlowCounts& FlowTable::Insert(const PackedKey& key, uint64_t hash, uint64_t slot) {
  if ((entries_.size() + 1) * 2 > index_.size()) {  // keep the load factor at or below 1/2
    Grow();
    return Slot(key, hash);
  }
  entries_.push_back(Entry{key, {}});
  index_[slot] = (hash & kHighHalf) | entries_.size();
  return entries_.back().counts;
}

void FlowTable::AddBatch(std::span<const flowlog::Record> records) {
  // Keys and hashes first, with their index slots prefetched, then the updates: the index
  // outgrows the caches, and this hides most of its latency. (Prefetching the entries as well,
  // in a third pass, measured slower: the busy flows are in cache anyway.)
  constexpr size_t kChunk = 64;
  PackedKey keys[kChunk];
  uint64_t hashes[kChunk];
  for (size_t base = 0; base < records.size(); base += kChunk) {
    const size_t n = std::min(kChunk, records.size() - base);
    for (size_t i = 0; i < n; ++i) {
      keys[i] = Pack(KeyOf(records[base + i], service_ports_), records[base + i].interface);
      hashes[i] = Hash(keys[i]);
      __builtin_prefetch(&index_[hashes[i] & mask_]);
    }
    for (size_t i = 0; i < n; ++i) {
      const flowlog::Record& r = records[base + i];
      FlowCounts& c = Slot(keys[i], hashes[i]);
      c.records += 1;
      c.packets += r.packets;
      c.bytes += r.bytes;
      if (r.start != flowlog::kNoTime && (c.first == flowlog::kNoTime || r.start < c.first)) c.first = r.start;
      if (r.end > c.last) c.last = r.end;  // kNoTime is the smallest int64_t
    }
  }
}

void FlowTable::Add(const FlowKey& key, const FlowCounts& counts) {
  const PackedKey k = Pack(key, 0);
  Slot(k, Hash(k)).Add(counts);
}

void FlowTable::Merge(const FlowTable& other) {
  if (other.interface_names().size() <= 1) {
    for (const Entry& e : other.entries_) Slot(e.key, Hash(e.key)).Add(e.counts);
    return;
  }
  // The other table's interface numbers, as this one numbers the same names.
  std::vector<uint64_t> renumber;
  renumber.reserve(other.interface_names().size());
  for (const std::string& name : other.interface_names()) renumber.push_back(uint64_t{interfaces_.Number(name)} << 32);
  for (const Entry& e : other.entries_) {
    PackedKey k = e.key;
    k.w[4] = (k.w[4] & ~kHighHalf) | renumber[InterfaceOf(k)];
    Slot(k, Hash(k)).Add(e.counts);
  }
}

std::vector<Flow> FlowTable::flows() const {
  std::vector<Flow> out;
  out.reserve(entries_.size());
  for (const Entry& e : entries_) out.push_back(Flow{Unpack(e.key), e.counts});
  return out;
}

std::vector<Flow> FlowTable::Sorted(std::vector<uint32_t>* interface_of) const {
  const auto before = [](const Flow& a, const Flow& b) {
    if (a.counts.records != b.counts.records) return a.counts.records > b.counts.records;
    return a.key < b.key;
  };
  if (interface_of == nullptr) {
    std::vector<Flow> out = flows();
    std::sort(out.begin(), out.end(), before);
    return out;
  }
  std::vector<std::pair<Flow, uint32_t>> both;
  both.reserve(entries_.size());
  for (const Entry& e : entries_) both.emplace_back(Flow{Unpack(e.key), e.counts}, InterfaceOf(e.key));
  std::sort(both.begin(), both.end(), [&](const auto& a, const auto& b) {
    if (before(a.first, b.first)) return true;
    if (before(b.first, a.first)) return false;
    return a.second < b.second;
  });
  std::vector<Flow> out;
  out.reserve(both.size());
  interface_of->clear();
  interface_of->reserve(both.size());
  for (auto& [flow, interface] : both) {
    out.push_back(flow);
    interface_of->push_back(interface);
  }
  return out;
}

}  // namespace moat::traffic
