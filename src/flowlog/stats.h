// Stats: what reading flow logs saw — line and record counts, and every skip counted by reason
// with the first example in input order. One Stats per file while reading; merged in input
// order afterwards, so the kept example is the first occurrence across the whole run.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace moat::flowlog {

enum class SkipReason : uint8_t {
  kBadFieldCount,
  kBadAddress,
  kBadPort,
  kBadNumber,
  kBadValue,
  kLineTooLong,
  kNotText,
  kCorruptGzip,
  kUnreadable,
  kNoHeader,
  kMissingFields,
};
inline constexpr size_t kSkipReasonCount = 11;

// "bad-port", "corrupt-gzip", ... (the names of DESIGN.md §8; a contract of --json).
std::string_view SkipReasonName(SkipReason r);

struct Stats {
  uint64_t files = 0;       // sources opened
  uint64_t files_read = 0;  // sources with a usable header
  uint64_t lines = 0;       // non-header, non-blank lines read
  uint64_t records = 0;     // records that parsed into a flow
  uint64_t nodata = 0;
  uint64_t skipdata = 0;
  std::array<uint64_t, kSkipReasonCount> skipped{};
  std::array<std::string, kSkipReasonCount> examples{};  // "name:line: message", first occurrence
  std::vector<std::string> warnings;                     // e.g. unknown header fields

  void Skip(SkipReason r, std::string_view example_location, std::string_view message);
  uint64_t TotalSkipped() const;
  // Adds `later` (input that came after this one).
  void Merge(const Stats& later);
};

}  // namespace moat::flowlog
