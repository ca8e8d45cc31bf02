// FlowTable: aggregates records into flows (a RecordSink). Open addressing over a flat array:
// memory grows with unique flows, never with input size. One per reading thread; Merge() joins
// them. Not thread-safe. A table that keeps interfaces (the flow history's reading) keeps the
// records of one flow key logged at different network interfaces apart.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "flowlog/record.h"
#include "traffic/flow.h"
#include "traffic/initiator.h"

namespace moat::traffic {

class FlowTable : public flowlog::RecordSink {
 public:
  explicit FlowTable(const ServicePorts& service_ports, bool keep_interfaces = false);

  // Aggregates a batch of records, prefetching their table slots first.
  void AddBatch(std::span<const flowlog::Record> records) override;
  void Add(const flowlog::Record& record) { AddBatch(std::span(&record, 1)); }
  void Add(const FlowKey& key, const FlowCounts& counts);
  // REQUIRES: both tables keep interfaces, or neither does.
  void Merge(const FlowTable& other);
  flowlog::InterfaceNames* interfaces() override { return keep_interfaces_ ? &interfaces_ : nullptr; }

  size_t size() const { return entries_.size(); }
  // The flows in the order they were first seen.
  std::vector<Flow> flows() const;
  // The flows sorted as output lists them: records descending, then by key (then interface).
  // `interface_of`, when given, receives each one's number in interface_names().
  std::vector<Flow> Sorted(std::vector<uint32_t>* interface_of = nullptr) const;
  const std::vector<std::string>& interface_names() const { return interfaces_.names(); }

 private:
  // A FlowKey and an interface number in five words without padding: compared and hashed
  // without branches.
  struct PackedKey {
    uint64_t w[5];
    bool operator==(const PackedKey& o) const {
      return ((w[0] ^ o.w[0]) | (w[1] ^ o.w[1]) | (w[2] ^ o.w[2]) | (w[3] ^ o.w[3]) | (w[4] ^ o.w[4])) == 0;
    }
  };
  struct Entry {
    PackedKey key;
    FlowCounts counts;
  };
  static PackedKey Pack(const FlowKey& k, uint32_t interface);
  static FlowKey Unpack(const PackedKey& k);
  static uint32_t InterfaceOf(const PackedKey& k) { return static_cast<uint32_t>(k.w[4] >> 32); }
  static uint64_t Hash(const PackedKey& k);

  FlowCounts& Slot(const PackedKey& key, uint64_t hash);  // finds or inserts
  [[gnu::noinline]] FlowCounts& Insert(const PackedKey& key, uint64_t hash, uint64_t slot);
  void Grow();

  const ServicePorts& service_ports_;
  bool keep_interfaces_ = false;
  flowlog::InterfaceNames interfaces_;
  std::vector<Entry> entries_;  // insertion order
  // Open addressing: 0 = empty, else (hash >> 32) << 32 | (entries_ index + 1). The high half
  // rejects most mismatches without touching entries_.
  std::vector<uint64_t> index_;
  uint64_t mask_ = 0;
};

}  // namespace moat::traffic
