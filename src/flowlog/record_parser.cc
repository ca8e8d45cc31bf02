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

// f == word, with the length known at compile time (no library call).
template <size_t N>
[[gnu::always_inline]] inline bool Is(std::string_view f, const char (&word)[N]) {
  return f.size() == N - 1 && std::memcmp(f.data(), word, N - 1) == 0;
}

// Why a port field failed: digits that overflow a port, or not digits at all.
inline const char* PortProblem(std::string_view f) {
  uint64_t v;
  return ParseUnsigned(f, &v) ? "out of range 0-65535" : "not an integer";
}

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

}  // namespace

RecordParser::RecordParser(const Header& header, InterfaceNames* interfaces)
    : header_(header), interfaces_(interfaces) {
  column_.fill(kAbsent);
  for (size_t c = 0; c < header.slots.size() && c < kMaxFields; ++c) {
    column_[static_cast<size_t>(header.slots[c])] = static_cast<int>(c);
  }
  if (interfaces_ != nullptr) interface_column_ = column_[static_cast<size_t>(Slot::kInterfaceId)];
}

uint32_t InterfaceNames::Number(std::string_view id) {
  constexpr size_t kMaxDigits = 32;  // AWS's ids have 8 or 17
  if (!id.starts_with("eni-") || id.size() == 4 || id.size() > 4 + kMaxDigits ||
      !std::all_of(id.begin() + 4, id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); })) {
    return 0;
  }
  if (const auto it = numbers_.find(id); it != numbers_.end()) return it->second;
  if (names_.size() > UINT32_MAX - 1) return 0;
  const auto n = static_cast<uint32_t>(names_.size());
  names_.emplace_back(id);
  numbers_.emplace(names_.back(), n);
  return n;
}

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

size_t RecordParser::Split(std::string_view line) {
  // The separators of 64 bytes at a time as a bit mask; the line's end is one more separator.
  // Runs of spaces make no empty fields.
  const char* const p = line.data();
  const size_t len = line.size();
  size_t count = 0;
  uint32_t start = 0;
  for (size_t block = 0; block <= len; block += 64) {
    uint64_t seps = SpaceMask64(p + block);
    if (len - block < 64) seps = (seps & ((uint64_t{1} << (len - block)) - 1)) | (uint64_t{1} << (len - block));
    for (; seps != 0; seps &= seps - 1) {
      const auto at = static_cast<uint32_t>(block + static_cast<size_t>(__builtin_ctzll(seps)));
      if (at != start) {
        if (count < kMaxFields) bounds_[count] = {start, at};
        ++count;
      }
      start = at + 1;
    }
  }
  return count;
}

// One function on purpose: the hot path (millions of lines/s, bench/flows_bench.py), one pass in a fixed field order.
LineKind RecordParser::ParsePadded(std::string_view line, Record* out) {
  *out = Record{};
  const size_t found = Split(line);
  if (found != header_.size()) {
    err_found_ = found;
    return Fail(SkipReason::kBadFieldCount, 0, {}, "");
  }
  // Each slot the header has, in a fixed order (no dispatch per column): the first field that
  // fails names the line's reason. `-` means absent.
  const char* const p = line.data();
  auto col = [&](Slot s) { return column_[static_cast<size_t>(s)]; };
  auto field = [&](int c) {
    const Bounds& b = bounds_[static_cast<size_t>(c)];
    return std::string_view(p + b.begin, b.end - b.begin);
  };
  auto fail = [&](SkipReason reason, int c, const char* what) {
    return Fail(reason, static_cast<size_t>(c), field(c), what);
  };

  if (const int c = col(Slot::kLogStatus); c != kAbsent) {
    const std::string_view f = field(c);
    if (Is(f, "NODATA")) return LineKind::kNoData;
    if (Is(f, "SKIPDATA")) return LineKind::kSkipData;
    if (!Is(f, "OK") && !IsAbsent(f)) return fail(SkipReason::kBadValue, c, "not OK, NODATA or SKIPDATA");
  }
  // The header has these five (else the file was skipped as missing-fields).
  const int c_src = col(Slot::kSrcAddr), c_dst = col(Slot::kDstAddr), c_sport = col(Slot::kSrcPort),
            c_dport = col(Slot::kDstPort), c_proto = col(Slot::kProtocol);
  const std::string_view src = field(c_src), dst = field(c_dst), sport = field(c_sport), dport = field(c_dport),
                         proto = field(c_proto);
  if (IsAbsent(src) && IsAbsent(dst) && IsAbsent(sport) && IsAbsent(dport) && IsAbsent(proto)) {
    return LineKind::kNoData;  // no flow at all, in a format without log-status
  }
  constexpr const char* kAbsentInData = "absent in a record with data";
  constexpr const char* kNotAnInteger = "not an integer";
  if (IsAbsent(src)) return fail(SkipReason::kBadAddress, c_src, kAbsentInData);
  if (!ParseAddressField(src, &out->src, &quads_)) return fail(SkipReason::kBadAddress, c_src, "not an IP address");
  if (IsAbsent(dst)) return fail(SkipReason::kBadAddress, c_dst, kAbsentInData);
  if (!ParseAddressField(dst, &out->dst, &quads_)) return fail(SkipReason::kBadAddress, c_dst, "not an IP address");
  if (IsAbsent(sport)) return fail(SkipReason::kBadPort, c_sport, kAbsentInData);
  if (!ParseUnsigned(sport, &out->src_port)) return fail(SkipReason::kBadPort, c_sport, PortProblem(sport));
  if (IsAbsent(dport)) return fail(SkipReason::kBadPort, c_dport, kAbsentInData);
  if (!ParseUnsigned(dport, &out->dst_port)) return fail(SkipReason::kBadPort, c_dport, PortProblem(dport));
  if (IsAbsent(proto)) return fail(SkipReason::kBadNumber, c_proto, kAbsentInData);
  if (uint32_t v; !ParseUnsigned(proto, &v)) {
    return fail(SkipReason::kBadNumber, c_proto, kNotAnInteger);
  } else if (v > 255) {
    return fail(SkipReason::kBadValue, c_proto, "out of range 0-255");
  } else {
    out->protocol = static_cast<uint8_t>(v);
  }

  // Optional fields.
  if (const int c = col(Slot::kPackets); c != kAbsent && !IsAbsent(field(c))) {
    if (!ParseUnsigned(field(c), &out->packets)) return fail(SkipReason::kBadNumber, c, kNotAnInteger);
  }
  if (const int c = col(Slot::kBytes); c != kAbsent && !IsAbsent(field(c))) {
    if (!ParseUnsigned(field(c), &out->bytes)) return fail(SkipReason::kBadNumber, c, kNotAnInteger);
  }
  if (const int c = col(Slot::kStart); c != kAbsent && !IsAbsent(field(c))) {
    if (!ParseUnsigned(field(c), &out->start)) return fail(SkipReason::kBadNumber, c, kNotAnInteger);
  }
  if (const int c = col(Slot::kEnd); c != kAbsent && !IsAbsent(field(c))) {
    if (!ParseUnsigned(field(c), &out->end)) return fail(SkipReason::kBadNumber, c, kNotAnInteger);
  }
  if (const int c = col(Slot::kAction); c != kAbsent) {
    const std::string_view f = field(c);
    if (Is(f, "ACCEPT")) {
      out->action = Action::kAccept;
    } else if (Is(f, "REJECT")) {
      out->action = Action::kReject;
    } else if (!IsAbsent(f)) {
      return fail(SkipReason::kBadValue, c, "not ACCEPT, REJECT or -");
    }
  }
  if (const int c = col(Slot::kTcpFlags); c != kAbsent && !IsAbsent(field(c))) {
    uint32_t v;
    if (!ParseUnsigned(field(c), &v)) return fail(SkipReason::kBadNumber, c, kNotAnInteger);
    if (v > 255) return fail(SkipReason::kBadValue, c, "out of range 0-255");
    out->tcp_flags = static_cast<int>(v);
  }
  if (const int c = col(Slot::kFlowDirection); c != kAbsent) {
    const std::string_view f = field(c);
    if (Is(f, "ingress")) {
      out->direction = Direction::kIngress;
    } else if (Is(f, "egress")) {
      out->direction = Direction::kEgress;
    } else if (!IsAbsent(f)) {
      return fail(SkipReason::kBadValue, c, "not ingress, egress or -");
    }
  }
  // The packet-level addresses replace the interface-level ones when present.
  for (const Slot s : {Slot::kPktSrcAddr, Slot::kPktDstAddr}) {
    const int c = col(s);
    if (c == kAbsent || IsAbsent(field(c))) continue;
    net::Address* target = s == Slot::kPktSrcAddr ? &out->src : &out->dst;
    if (!ParseAddressField(field(c), target, &quads_)) return fail(SkipReason::kBadAddress, c, "not an IP address");
  }
  // Only for a sink that keeps interfaces (the flow history); one that is not an id is none.
  if (interface_column_ != kAbsent) {
    const std::string_view f = field(interface_column_);
    if (f != last_interface_) {
      last_interface_.assign(f);
      last_number_ = interfaces_->Number(f);
    }
    out->interface = last_number_;
  }
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
