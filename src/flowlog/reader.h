// ReadFlowLog: one flow-log object (plain or gzip text) -> records into a sink, and what was seen
// into Stats. Bad input never stops the run: a bad line is skipped and counted by reason, a bad
// file (corrupt gzip, binary, no header, a header lacking flow fields) is counted once and
// abandoned with the lines read so far kept. Memory is bounded by kBufferSize, whatever the file.
#pragma once

#include <memory>
#include <string_view>

#include "base/byte_stream.h"
#include "flowlog/record.h"
#include "flowlog/stats.h"

namespace moat::flowlog {

// The decompressed text window, bytes (256 KiB: fits L2 with the parser's data), followed in the
// buffer by kPadding bytes (fast_parse.h): the field parsers load that many from a field's start.
inline constexpr size_t kBufferSize = 1 << 18;
inline constexpr size_t kMaxLineLength = 1 << 16;  // longer lines are skipped as line-too-long

// Reads `input` (named `name` in messages) to its end or its first unrecoverable error.
void ReadFlowLog(std::unique_ptr<ByteStream> input, std::string_view name, RecordSink& sink, Stats& stats);

}  // namespace moat::flowlog
