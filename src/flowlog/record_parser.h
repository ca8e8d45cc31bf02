// RecordParser: one flow-log line -> Record, by the columns of its file's header. The hot path:
// fields are read in place (views into the line), integers through std::from_chars, nothing is
// allocated. A line that does not parse is classified by SkipReason; the message that names the
// field is built only when asked for (it is kept once per reason). Not thread-safe; one per file.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "flowlog/fast_parse.h"
#include "flowlog/header.h"
#include "flowlog/record.h"
#include "flowlog/stats.h"

namespace moat::flowlog {

enum class LineKind { kRecord, kNoData, kSkipData, kSkipped };

// Columns beyond this are counted (for the message) but not kept; no flow-log format comes near.
inline constexpr size_t kMaxFields = 128;

class RecordParser {
 public:
  // REQUIRES: header.missing is empty. `header` must outlive the parser. With `interfaces`, each
  // record's interface-id is numbered there (Record::interface); it must outlive the parser too.
  explicit RecordParser(const Header& header, InterfaceNames* interfaces = nullptr);

  // Parses `line` (no trailing newline) into *out. On kSkipped, reason() and Message() say why.
  // REQUIRES: kPadding (fast_parse.h) readable bytes after the line's end.
  LineKind ParsePadded(std::string_view line, Record* out);
  // The same for a line without padding after it (copies it first).
  LineKind Parse(std::string_view line, Record* out);

  SkipReason reason() const { return reason_; }
  // "field 'dstport': not an integer \"x\"". Valid after Parse returned kSkipped, while the line
  // it was given is alive (it quotes from it).
  std::string Message() const;

 private:
  LineKind Fail(SkipReason reason, size_t column, std::string_view value, const char* what);
  // Finds the fields of `line` into bounds_; returns how many there are.
  size_t Split(std::string_view line);

  struct Bounds {
    uint32_t begin, end;  // offsets into the line
  };
  static constexpr int kAbsent = -1;
  static constexpr size_t kSlotCount = static_cast<size_t>(Slot::kInterfaceId) + 1;

  const Header& header_;
  std::array<int, kSlotCount> column_;     // slot -> its column, or kAbsent
  std::array<Bounds, kMaxFields> bounds_;  // the current line's fields
  DottedQuadCache quads_;
  InterfaceNames* interfaces_ = nullptr;
  int interface_column_ = kAbsent;  // read only when interfaces_ is set
  std::string last_interface_;      // the previous record's interface-id, and its number
  uint32_t last_number_ = 0;
  std::string copy_;  // Parse()'s padded copy of its line
  SkipReason reason_ = SkipReason::kBadValue;
  size_t err_column_ = 0;
  std::string_view err_value_;
  const char* err_what_ = "";
  size_t err_found_ = 0;  // for kBadFieldCount
};

}  // namespace moat::flowlog
