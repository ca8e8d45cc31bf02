// Record: one parsed flow-log record, a fixed-layout value. Addresses are already resolved to the
// packet-level ones (pkt-srcaddr / pkt-dstaddr when present, else srcaddr / dstaddr).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

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
  uint32_t interface = 0;    // the interface-id's number in the sink's InterfaceNames; 0: not kept
  uint64_t packets = 0;
  uint64_t bytes = 0;
  int64_t start = kNoTime;
  int64_t end = kNoTime;
};

// The network interfaces records were logged at ("eni-" and hex digits), numbered from 1 in the
// order first seen; 0 is none. Not thread-safe.
class InterfaceNames {
 public:
  // The number of `id`, given it when new; 0 for "-" and for anything that is not an interface id.
  uint32_t Number(std::string_view id);
  // names()[n] is the interface numbered n; names()[0] is "".
  const std::vector<std::string>& names() const { return names_; }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::vector<std::string> names_{""};
  std::unordered_map<std::string, uint32_t, Hash, std::equal_to<>> numbers_;
};

// Receives parsed records, in batches (so that the receiver can prefetch). Implemented by the
// traffic stage (aggregation).
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  virtual void AddBatch(std::span<const Record> records) = 0;
  // Where the parser numbers each record's interface-id (Record::interface); nullptr, the
  // default: the sink does not keep interfaces and the field is not read.
  virtual InterfaceNames* interfaces() { return nullptr; }
};

}  // namespace moat::flowlog
