#include "flowlog/stats.h"

namespace moat::flowlog {

std::string_view SkipReasonName(SkipReason r) {
  static constexpr std::string_view kNames[kSkipReasonCount] = {
      "bad-field-count", "bad-address",  "bad-port",   "bad-number", "bad-value",      "line-too-long",
      "not-text",        "corrupt-gzip", "unreadable", "no-header",  "missing-fields",
  };
  return kNames[static_cast<size_t>(r)];
}

void Stats::Skip(SkipReason r, std::string_view example_location, std::string_view message) {
  const auto i = static_cast<size_t>(r);
  if (skipped[i]++ == 0) {
    examples[i].reserve(example_location.size() + message.size() + 2);
    examples[i].append(example_location).append(": ").append(message);
  }
}

uint64_t Stats::TotalSkipped() const {
  uint64_t n = 0;
  for (uint64_t c : skipped) n += c;
  return n;
}

void Stats::Merge(const Stats& later) {
  files += later.files;
  files_read += later.files_read;
  lines += later.lines;
  records += later.records;
  nodata += later.nodata;
  skipdata += later.skipdata;
  for (size_t i = 0; i < kSkipReasonCount; ++i) {
    if (skipped[i] == 0 && later.skipped[i] != 0) examples[i] = later.examples[i];
    skipped[i] += later.skipped[i];
  }
  warnings.insert(warnings.end(), later.warnings.begin(), later.warnings.end());
}

}  // namespace moat::flowlog
