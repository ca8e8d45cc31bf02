// GzipStream: a ByteStream that inflates another one. Handles multi-member files (concatenated
// gzip, as `cat a.gz b.gz` makes). Uses ISA-L igzip when built with it (several times faster than
// zlib), zlib otherwise. Errors are kInvalidInput with what went wrong ("truncated gzip stream",
// "invalid deflate block", "bad checksum"); errors of the inner stream pass through.
// Owns the inner stream. Not thread-safe.
#pragma once

#include <memory>

#include "base/byte_stream.h"

namespace moat::flowlog {

// True when `prefix` starts with the gzip magic bytes 1f 8b.
bool IsGzip(std::string_view prefix);

// A stream that inflates `inner`, whose first bytes (already read by the caller, to sniff the
// format) are `head`.
std::unique_ptr<ByteStream> NewGzipStream(std::unique_ptr<ByteStream> inner, std::string head);

// Same, decoding with zlib even when ISA-L is available (tests compare both).
std::unique_ptr<ByteStream> NewZlibGzipStream(std::unique_ptr<ByteStream> inner, std::string head);

}  // namespace moat::flowlog
