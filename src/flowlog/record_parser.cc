#include "flowlog/record_parser.h"

#include <charconv>
#include <cstring>

#include "base/strings.h"

namespace moat::flowlog {
namespace {

inline bool IsAbsent(std::string_view f) { return f.size() == 1 && f[0] == '-'; }

// Dotted quad in place; falls back to the full parser for anything else (IPv6, odd input).
inline bool ParseAddr(std::string_view f, net::Address* out) {
  const char* p = f.data();
  const char* end = p + f.size();
  uint32_t value = 0;
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (p == end || *p != '.') goto slow;
      ++p;
    }
    {
      const char* start = p;
      uint32_t v = 0;
      while (p < end && p - start < 3 && static_cast<unsigned>(*p - '0') < 10) v = v * 10 + (*p++ - '0');
      if (p == start || v > 255 || (p - start > 1 && *start == '0')) goto slow;
      value = (value << 8) | v;
    }
  }
  if (p != end) goto slow;
  *out = net::Address::V4(value);
  return true;
slow:
  if (auto a = net::ParseAddress(f)) {
    *out = *a;
    return true;
  }
  return false;
}

template <typename T>
inline bool ParseInt(std::string_view f, T* out) {
  if (f.empty() || f[0] == '-' || f[0] == '+') return false;
  auto [ptr, ec] = std::from_chars(f.data(), f.data() + f.size(), *out);
  return ec == std::errc() && ptr == f.data() + f.size();
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
  *out = Record{};
  net::Address pkt_src, pkt_dst;
  bool has_src = false, has_dst = false, has_sport = false, has_dport = false, has_proto = false;
  enum { kOk, kNoData, kSkipData } status = kOk;

  const char* p = line.data();
  const char* const end = p + line.size();
  const size_t n = header_.slots.size();
  size_t col = 0;
  while (p < end && *p == ' ') ++p;
  for (; p < end; ++col) {
    const char* q = p;
    while (q < end && *q != ' ') ++q;
    const std::string_view f(p, static_cast<size_t>(q - p));
    while (q < end && *q == ' ') ++q;
    p = q;
    if (col >= n) continue;  // counted below
    switch (header_.slots[col]) {
      case Slot::kSrcAddr:
      case Slot::kDstAddr:
      case Slot::kPktSrcAddr:
      case Slot::kPktDstAddr: {
        if (IsAbsent(f)) break;
        net::Address a;
        if (!ParseAddr(f, &a)) return Fail(SkipReason::kBadAddress, col, f, "not an IP address");
        switch (header_.slots[col]) {
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
        if (header_.slots[col] == Slot::kSrcPort) {
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
        (header_.slots[col] == Slot::kPackets ? out->packets : out->bytes) = v;
        break;
      }
      case Slot::kStart:
      case Slot::kEnd: {
        if (IsAbsent(f)) break;
        int64_t v;
        if (!ParseInt(f, &v)) return Fail(SkipReason::kBadNumber, col, f, "not an integer");
        (header_.slots[col] == Slot::kStart ? out->start : out->end) = v;
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
  if (col != n) {
    err_found_ = col;
    return Fail(SkipReason::kBadFieldCount, col, {}, "");
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
