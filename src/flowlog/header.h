// Header: the first line of a flow-log file names its fields; records are parsed by that line,
// never by position. A Header maps each column to the slot moat fills from it. Every field of
// versions 2-8 is known; unknown names are carried and ignored so that newer formats still work.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moat::flowlog {

// What a column feeds. kOther: a known field moat does not use; kUnknown: a name moat does not know.
enum class Slot : uint8_t {
  kOther,
  kUnknown,
  kVersion,
  kSrcAddr,
  kDstAddr,
  kSrcPort,
  kDstPort,
  kProtocol,
  kPackets,
  kBytes,
  kStart,
  kEnd,
  kAction,
  kLogStatus,
  kTcpFlags,
  kPktSrcAddr,
  kPktDstAddr,
  kFlowDirection,
  kInterfaceId,
};

// Every field name of flow-log versions 2 through 8, in AWS's documentation order.
const std::vector<std::string_view>& KnownFieldNames();

struct Header {
  std::vector<Slot> slots;           // one per column
  std::vector<std::string> names;    // the column names as written
  std::vector<std::string> unknown;  // names moat does not know (ignored)
  std::vector<std::string> missing;  // fields a flow needs that the header lacks

  size_t size() const { return slots.size(); }
  bool Has(Slot s) const;
};

// True when `line` looks like a header: every token is a field-name word ([a-z][a-z0-9-]*) and
// at least one is a known field. Data lines hold addresses, numbers or ACCEPT/REJECT.
bool LooksLikeHeader(std::string_view line);

// REQUIRES: LooksLikeHeader(line).
Header ParseHeader(std::string_view line);

}  // namespace moat::flowlog
