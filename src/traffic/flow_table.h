// FlowTable: aggregates records into flows (a RecordSink). Open addressing over a flat array:
// memory grows with unique flows, never with input size. One per reading thread; Merge() joins
// them. Not thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "flowlog/record.h"
#include "traffic/flow.h"
#include "traffic/initiator.h"

namespace moat::traffic {

class FlowTable : public flowlog::RecordSink {
 public:
  explicit FlowTable(const ServicePorts& service_ports);

  // Aggregates a batch of records, prefetching their table slots first.
  void AddBatch(std::span<const flowlog::Record> records) override;
  void Add(const flowlog::Record& record) { AddBatch(std::span(&record, 1)); }
  void Add(const FlowKey& key, const FlowCounts& counts);
  void Merge(const FlowTable& other);

  size_t size() const { return flows_.size(); }
  const std::vector<Flow>& flows() const { return flows_; }
  // The flows sorted as output lists them: records descending, then by key.
  std::vector<Flow> Sorted() const;

 private:
  Flow& Slot(const FlowKey& key, uint64_t hash);
  void Grow();

  const ServicePorts& service_ports_;
  std::vector<Flow> flows_;  // insertion order
  // Open addressing: 0 = empty, else (hash >> 32) << 32 | (flows_ index + 1). The high half
  // rejects most mismatches without touching flows_.
  std::vector<uint64_t> index_;
  uint64_t mask_ = 0;
};

}  // namespace moat::traffic
