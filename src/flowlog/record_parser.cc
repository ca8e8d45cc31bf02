#include "flowlog/record_parser.h"

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "base/strings.h"
#include "flowlog/fast_parse.h"

namespace moat::flowlog {
namespace {

inline bool IsAbsent(std::string_view f) { return f.size() == 1 && f[0] == '-'; }

// Bit i set when line[i] is a space, for the 64 bytes at p. REQUIRES: 64 readable bytes at p.
[[gnu::always_inline]] inline uint64_t SpaceMask64(const char* p) {
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(' ');
  auto part = [&](int off) {
    return static_cast<uint64_t>(static_cast<uint32_t>(
        _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + off)), space))));
  };
  return part(0) | (part(16) << 16) | (part(32) << 32) | (part(48) << 48);
#else
  uint64_t m = 0;
  for (int i = 0; i < 64; ++i) m |= static_cast<uint64_t>(p[i] == ' ') << i;
  return m;
#endif
}

// The number of space-separated fields (the slow path, for messages).
size_t CountFields(std::string_view line) {
  size_t count = 0;
  bool in_field = false;
  for (char c : line) {
    if (c == ' ') {
      in_field = false;
    } else if (!in_field) {
      in_field = true;
      ++count;
    }
  }
  return count;
}

}  // namespace

RecordParser::RecordParser(const Header& header) : header_(header) {}

LineKind RecordParser::Fail(SkipReason reason, size_t column, std::string_view value, const char* what) {
  reason_ = reason;
  err_column_ = column;
  err_value_ = value;
  err_what_ = what;
  return LineKind::kSkipped;
}

LineKind RecordParser::Parse(std::string_view line, Record* out) {
  copy_.assign(line);
  copy_.append(kPadding, '\0');
  return ParsePadded(std::string_view(copy_.data(), line.size()), out);
}

LineKind RecordParser::ParsePadded(std::string_view line, Record* out) {
  *out = Record{};
  net::Address pkt_src, pkt_dst;
  bool has_src = false, has_dst = false, has_sport = false, has_dport = false, has_proto = false;
  enum { kOk, kNoData, kSkipData } status = kOk;

  const size_t n = header_.slots.size();
  const Slot* const slots = header_.slots.data();
  const char* p = line.data();
  size_t col = 0;
  // A bad field: unless the line has the wrong number of fields (which says more), name it.
  auto fail = [&](SkipReason reason, std::string_view f, const char* what) {
    const size_t found = CountFields(line);
    if (found != n) {
      err_found_ = found;
      return Fail(SkipReason::kBadFieldCount, 0, {}, "");
    }
    return Fail(reason, col - 1, f, what);
  };
  // The separators of 64 bytes at a time, as a bit mask; the line's end is one more separator.
  // Empty fields (runs of spaces) are not fields.
  const size_t len = line.size();
  size_t start = 0;
  for (size_t block = 0; block <= len; block += 64) {
    uint64_t seps = SpaceMask64(p + block);
    if (len - block < 64) seps = (seps & ((uint64_t{1} << (len - block)) - 1)) | (uint64_t{1} << (len - block));
    for (; seps != 0; seps &= seps - 1) {
      const size_t at = block + static_cast<size_t>(__builtin_ctzll(seps));
      if (at == start) {
        start = at + 1;
        continue;
      }
      const std::string_view f(p + start, at - start);
      start = at + 1;
      const size_t this_col = col++;
      if (this_col >= n) continue;  // counted, reported below
      switch (slots[this_col]) {
        case Slot::kSrcAddr:
        case Slot::kDstAddr:
        case Slot::kPktSrcAddr:
        case Slot::kPktDstAddr: {
          if (IsAbsent(f)) break;
          net::Address a;
          if (!ParseAddressField(f, &a, &quads_)) return fail(SkipReason::kBadAddress, f, "not an IP address");
          switch (slots[this_col]) {
            case Slot::kSrcAddr:
              out->src = a;
              has_src = true;
              break;
            case Slot::kDstAddr:
              out->dst = a;
              has_dst = true;
              break;
            case Slot::kPktSrcAddr:
              pkt_src = a;
              break;
            default:
              pkt_dst = a;
              break;
          }
          break;
        }
        case Slot::kSrcPort:
        case Slot::kDstPort: {
          if (IsAbsent(f)) break;
          uint32_t v;
          if (!ParseUnsigned(f, &v)) return fail(SkipReason::kBadPort, f, "not an integer");
          if (v > 65535) return fail(SkipReason::kBadPort, f, "out of range 0-65535");
          if (slots[this_col] == Slot::kSrcPort) {
            out->src_port = static_cast<uint16_t>(v);
            has_sport = true;
          } else {
            out->dst_port = static_cast<uint16_t>(v);
            has_dport = true;
          }
          break;
        }
        case Slot::kProtocol: {
          if (IsAbsent(f)) break;
          uint32_t v;
          if (!ParseUnsigned(f, &v)) return fail(SkipReason::kBadNumber, f, "not an integer");
          if (v > 255) return fail(SkipReason::kBadValue, f, "out of range 0-255");
          out->protocol = static_cast<uint8_t>(v);
          has_proto = true;
          break;
        }
        case Slot::kPackets:
        case Slot::kBytes: {
          if (IsAbsent(f)) break;
          uint64_t v;
          if (!ParseUnsigned(f, &v)) return fail(SkipReason::kBadNumber, f, "not an integer");
          (slots[this_col] == Slot::kPackets ? out->packets : out->bytes) = v;
          break;
        }
        case Slot::kStart:
        case Slot::kEnd: {
          if (IsAbsent(f)) break;
          int64_t v;
          if (!ParseUnsigned(f, &v)) return fail(SkipReason::kBadNumber, f, "not an integer");
          (slots[this_col] == Slot::kStart ? out->start : out->end) = v;
          break;
        }
        case Slot::kTcpFlags: {
          if (IsAbsent(f)) break;
          uint32_t v;
          if (!ParseUnsigned(f, &v)) return fail(SkipReason::kBadNumber, f, "not an integer");
          if (v > 255) return fail(SkipReason::kBadValue, f, "out of range 0-255");
          out->tcp_flags = static_cast<int>(v);
          break;
        }
        case Slot::kAction:
          if (f == "ACCEPT")
            out->action = Action::kAccept;
          else if (f == "REJECT")
            out->action = Action::kReject;
          else if (!IsAbsent(f))
            return fail(SkipReason::kBadValue, f, "not ACCEPT, REJECT or -");
          break;
        case Slot::kLogStatus:
          if (f == "NODATA")
            status = kNoData;
          else if (f == "SKIPDATA")
            status = kSkipData;
          else if (f != "OK" && !IsAbsent(f))
            return fail(SkipReason::kBadValue, f, "not OK, NODATA or SKIPDATA");
          break;
        case Slot::kFlowDirection:
          if (f == "ingress")
            out->direction = Direction::kIngress;
          else if (f == "egress")
            out->direction = Direction::kEgress;
          else if (!IsAbsent(f))
            return fail(SkipReason::kBadValue, f, "not ingress, egress or -");
          break;
        default:
          break;
      }
    }
  }
  if (col != n) {
    err_found_ = col;
    return Fail(SkipReason::kBadFieldCount, 0, {}, "");
  }
  if (status == kNoData) return LineKind::kNoData;
  if (status == kSkipData) return LineKind::kSkipData;
  if (!has_src && !has_dst && !has_sport && !has_dport && !has_proto) return LineKind::kNoData;
  if (!has_src || !has_dst) {
    const Slot missing = has_src ? Slot::kDstAddr : Slot::kSrcAddr;
    for (size_t c = 0; c < n; ++c) {
      if (header_.slots[c] == missing) return Fail(SkipReason::kBadAddress, c, "-", "absent in a record with data");
    }
  }
  if (!has_sport || !has_dport) {
    const Slot missing = has_sport ? Slot::kDstPort : Slot::kSrcPort;
    for (size_t c = 0; c < n; ++c) {
      if (header_.slots[c] == missing) return Fail(SkipReason::kBadPort, c, "-", "absent in a record with data");
    }
  }
  if (!has_proto) {
    for (size_t c = 0; c < n; ++c) {
      if (header_.slots[c] == Slot::kProtocol)
        return Fail(SkipReason::kBadNumber, c, "-", "absent in a record with data");
    }
  }
  if (pkt_src.valid()) out->src = pkt_src;
  if (pkt_dst.valid()) out->dst = pkt_dst;
  return LineKind::kRecord;
}

std::string RecordParser::Message() const {
  if (reason_ == SkipReason::kBadFieldCount) {
    return "expected " + std::to_string(header_.size()) + " fields, found " + std::to_string(err_found_);
  }
  std::string m = "field '";
  m += err_column_ < header_.names.size() ? header_.names[err_column_] : "?";
  m += "': ";
  m += err_what_;
  m += ' ';
  m += Quote(err_value_);
  return m;
}

}  // namespace moat::flowlog
