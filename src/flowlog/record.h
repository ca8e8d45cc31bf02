// Record: one parsed flow-log record, a fixed-layout value. Addresses are already resolved to the
// packet-level ones (pkt-srcaddr / pkt-dstaddr when present, else srcaddr / dstaddr).
#pragma once

#include <cstdint>
#include <span>

#include "net/address.h"

namespace moat::flowlog {

enum class Action : uint8_t { kNone = 0, kAccept, kReject };
enum class Direction : uint8_t { kNone = 0, kIngress, kEgress };

inline constexpr int64_t kNoTime = INT64_MIN;
inline constexpr int kNoFlags = -1;

struct Record {
  net::Address src;
  net::Address dst;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint8_t protocol = 0;
  Action action = Action::kNone;
  Direction direction = Direction::kNone;
  int tcp_flags = kNoFlags;  // kNoFlags when the format has none or the value is '-'
  uint64_t packets = 0;
  uint64_t bytes = 0;
  int64_t start = kNoTime;
  int64_t end = kNoTime;
};

// Receives parsed records, in batches (so that the receiver can prefetch). Implemented by the
// traffic stage (aggregation).
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  virtual void AddBatch(std::span<const Record> records) = 0;
};

}  // namespace moat::flowlog
