#include "flowlog/record_parser.h"

#include <charconv>
#include <limits>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "base/strings.h"

namespace moat::flowlog {
namespace {

inline bool IsAbsent(std::string_view f) { return f.size() == 1 && f[0] == '-'; }

// Dotted quad in place, one pass; anything else (IPv6, odd input) goes to the full parser, which
// also decides what is invalid.
inline bool ParseAddr(std::string_view f, net::Address* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(f.data());
  const auto* const end = p + f.size();
  uint32_t value = 0, octet = 0, digits = 0, dots = 0;
  bool leading_zero = false;
  for (; p < end; ++p) {
    const uint32_t d = static_cast<uint32_t>(*p) - '0';
    if (d <= 9) {
      leading_zero = leading_zero || (digits == 1 && octet == 0);
      octet = octet * 10 + d;
      ++digits;
    } else if (*p == '.' && digits != 0 && dots < 3) {
      if (octet > 255 || digits > 3) break;
      value = (value << 8) | octet;
      octet = digits = 0;
      ++dots;
    } else {
      break;
    }
  }
  if (p == end && dots == 3 && digits != 0 && digits <= 3 && octet <= 255 && !leading_zero) {
    *out = net::Address::V4((value << 8) | octet);
    return true;
  }
  if (auto a = net::ParseAddress(f)) {
    *out = *a;
    return true;
  }
  return false;
}

// Splits `line` at runs of spaces into `out` (at most kMaxFields kept). Returns the number of
// fields, which may exceed kMaxFields. Scans 16 bytes at a time where SSE2 is available.
inline size_t SplitFields(std::string_view line, std::string_view* out) {
  const char* const base = line.data();
  const size_t len = line.size();
  size_t count = 0;
  size_t start = 0;  // of the current field
  auto at_space = [&](size_t pos) {
    if (pos > start) {
      if (count < kMaxFields) out[count] = std::string_view(base + start, pos - start);
      ++count;
    }
    start = pos + 1;
  };
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(' ');
  for (; i + 16 <= len; i += 16) {
    const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(base + i));
    auto mask = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, space)));
    while (mask != 0) {
      at_space(i + static_cast<size_t>(__builtin_ctz(mask)));
      mask &= mask - 1;
    }
  }
#endif
  for (; i < len; ++i) {
    if (base[i] == ' ') at_space(i);
  }
  at_space(len);
  return count;
}

// Decimal digits only: no sign, no spaces, no overflow of T.
template <typename T>
inline bool ParseInt(std::string_view f, T* out) {
  const size_t n = f.size();
  if (n == 0 || n > 19) {
    if (n == 0 || f[0] == '-' || f[0] == '+') return false;
    auto [ptr, ec] = std::from_chars(f.data(), f.data() + n, *out);  // 20 digits may still fit
    return ec == std::errc() && ptr == f.data() + n;
  }
  uint64_t v = 0;  // 19 digits never overflow 64 bits
  for (size_t i = 0; i < n; ++i) {
    const auto d = static_cast<uint64_t>(static_cast<unsigned char>(f[i]) - '0');
    if (d > 9) return false;
    v = v * 10 + d;
  }
  if (v > static_cast<uint64_t>(std::numeric_limits<T>::max())) return false;
  *out = static_cast<T>(v);
  return true;
}

}  // namespace

RecordParser::RecordParser(const Header& header) : header_(header) {
  for (size_t c = 0; c < header.slots.size(); ++c) {
    if (header.slots[c] != Slot::kOther && header.slots[c] != Slot::kUnknown && header.slots[c] != Slot::kVersion) {
      used_.push_back({c, header.slots[c]});
    }
  }
}

LineKind RecordParser::Fail(SkipReason reason, size_t column, std::string_view value, const char* what) {
  reason_ = reason;
  err_column_ = column;
  err_value_ = value;
  err_what_ = what;
  return LineKind::kSkipped;
}

LineKind RecordParser::Parse(std::string_view line, Record* out) {
  *out = Record{};
  net::Address pkt_src, pkt_dst;
  bool has_src = false, has_dst = false, has_sport = false, has_dport = false, has_proto = false;
  enum { kOk, kNoData, kSkipData } status = kOk;

  std::string_view* const fields = fields_.data();
  const size_t n = header_.slots.size();
  const size_t found = SplitFields(line, fields);
  if (found != n) {
    err_found_ = found;
    return Fail(SkipReason::kBadFieldCount, 0, {}, "");
  }
  for (const Used& u : used_) {
    const size_t col = u.column;
    const std::string_view f = fields[col];
    switch (u.slot) {
      case Slot::kSrcAddr:
      case Slot::kDstAddr:
      case Slot::kPktSrcAddr:
      case Slot::kPktDstAddr: {
        if (IsAbsent(f)) break;
        net::Address a;
        if (!ParseAddr(f, &a)) return Fail(SkipReason::kBadAddress, col, f, "not an IP address");
        switch (u.slot) {
          case Slot::kSrcAddr: out->src = a; has_src = true; break;
          case Slot::kDstAddr: out->dst = a; has_dst = true; break;
          case Slot::kPktSrcAddr: pkt_src = a; break;
          default: pkt_dst = a; break;
        }
        break;
      }
      case Slot::kSrcPort:
      case Slot::kDstPort: {
        if (IsAbsent(f)) break;
        uint32_t v;
        if (!ParseInt(f, &v)) return Fail(SkipReason::kBadPort, col, f, "not an integer");
        if (v > 65535) return Fail(SkipReason::kBadPort, col, f, "out of range 0-65535");
        if (u.slot == Slot::kSrcPort) {
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
        if (!ParseInt(f, &v)) return Fail(SkipReason::kBadNumber, col, f, "not an integer");
        if (v > 255) return Fail(SkipReason::kBadValue, col, f, "out of range 0-255");
        out->protocol = static_cast<uint8_t>(v);
        has_proto = true;
        break;
      }
      case Slot::kPackets:
      case Slot::kBytes: {
        if (IsAbsent(f)) break;
        uint64_t v;
        if (!ParseInt(f, &v)) return Fail(SkipReason::kBadNumber, col, f, "not an integer");
        (u.slot == Slot::kPackets ? out->packets : out->bytes) = v;
        break;
      }
      case Slot::kStart:
      case Slot::kEnd: {
        if (IsAbsent(f)) break;
        int64_t v;
        if (!ParseInt(f, &v)) return Fail(SkipReason::kBadNumber, col, f, "not an integer");
        (u.slot == Slot::kStart ? out->start : out->end) = v;
        break;
      }
      case Slot::kTcpFlags: {
        if (IsAbsent(f)) break;
        uint32_t v;
        if (!ParseInt(f, &v)) return Fail(SkipReason::kBadNumber, col, f, "not an integer");
        if (v > 255) return Fail(SkipReason::kBadValue, col, f, "out of range 0-255");
        out->tcp_flags = static_cast<int>(v);
        break;
      }
      case Slot::kAction:
        if (f == "ACCEPT") out->action = Action::kAccept;
        else if (f == "REJECT") out->action = Action::kReject;
        else if (!IsAbsent(f)) return Fail(SkipReason::kBadValue, col, f, "not ACCEPT, REJECT or -");
        break;
      case Slot::kLogStatus:
        if (f == "NODATA") status = kNoData;
        else if (f == "SKIPDATA") status = kSkipData;
        else if (f != "OK" && !IsAbsent(f)) return Fail(SkipReason::kBadValue, col, f, "not OK, NODATA or SKIPDATA");
        break;
      case Slot::kFlowDirection:
        if (f == "ingress") out->direction = Direction::kIngress;
        else if (f == "egress") out->direction = Direction::kEgress;
        else if (!IsAbsent(f)) return Fail(SkipReason::kBadValue, col, f, "not ingress, egress or -");
        break;
      default:
        break;
    }
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
      if (header_.slots[c] == Slot::kProtocol) return Fail(SkipReason::kBadNumber, c, "-", "absent in a record with data");
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
