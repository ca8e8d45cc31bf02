// The flow store's row format (schema version 3): a row of `flows` is (key BLOB, day INTEGER,
// value BLOB), one per flow key, place, network interface and UTC day of its `last`. Pure
// functions over bytes.
//
// key: a FlowKey in big-endian bytes, so that byte order is key order, responder first (the flows
// of one database sit together):
//   responder family (1) + address (4 for IPv4, else 16), port (2), protocol (1),
//   initiator family (1) + address (4 or 16), action (1)
// — 14 bytes for IPv4, 38 for IPv6. The family byte fixes the address length, so a byte-wise
// comparison compares field by field. In front, in this order, each only when known:
//   kPlaceMark (1) + the id in the `places` table of the account and region it was logged in (4)
//   kInterfaceMark (1) + the id in the `interfaces` table of the interface that logged it (4)
// — up to 48 bytes. An id is never 0. A key without a place (every key of schema version 1) is a
// flow of no known place; one without an interface (every key of versions 1 and 2), of no known
// interface. No family byte is a mark, so the flows of no place sort first, then place by place;
// within a place, those of no interface first, then interface by interface.
//
// value: flags (1 byte: 1 = has first, 2 = has last), then LEB128 varints: records, packets,
// bytes, run (the first run that wrote the row), and the present times as zigzag offsets from
// the start of the row's day — about 12 bytes. Counts wrap at 2^64.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>

#include "traffic/flow.h"

namespace moat::store {

using traffic::Flow;
using traffic::FlowCounts;
using traffic::FlowKey;

inline constexpr int64_t kDaySeconds = 86400;
inline constexpr uint8_t kPlaceMark = 0xff;
inline constexpr uint8_t kInterfaceMark = 0xfe;

struct PackedKey {
  static constexpr size_t kMaxSize = 5 + 5 + 38;
  uint8_t bytes[kMaxSize];
  uint8_t size = 0;
};

struct PackedValue {
  static constexpr size_t kMaxSize = 1 + 6 * 10;
  uint8_t bytes[kMaxSize];
  uint8_t size = 0;
};

// A row's value, decoded.
struct RowValue {
  FlowCounts counts;
  int64_t run = 0;
};

namespace flow_store_internal {

// The low `n` bytes of `v`, big-endian. REQUIRES: 0 < n <= 8.
inline uint8_t* PutBig(uint8_t* p, uint64_t v, int n) {
  const uint64_t b = __builtin_bswap64(v << (64 - 8 * n));
  std::memcpy(p, &b, static_cast<size_t>(n));
  return p + n;
}

inline uint64_t GetBig(const uint8_t* p, int n) {
  uint64_t b = 0;
  std::memcpy(&b, p, static_cast<size_t>(n));
  return __builtin_bswap64(b) >> (64 - 8 * n);
}

inline uint8_t* PutAddress(uint8_t* p, const net::Address& a) {
  *p++ = static_cast<uint8_t>(a.family);
  if (a.is_v4()) return PutBig(p, a.lo, 4);
  return PutBig(PutBig(p, a.hi, 8), a.lo, 8);
}

// Reads an address at `p`, `end - p` bytes left; nullptr when they do not hold one.
inline const uint8_t* GetAddress(const uint8_t* p, const uint8_t* end, net::Address* a) {
  if (p == end) return nullptr;
  const auto family = static_cast<net::Family>(*p++);
  if (family == net::Family::kV4) {
    if (end - p < 4) return nullptr;
    *a = net::Address::V4(static_cast<uint32_t>(GetBig(p, 4)));
    return p + 4;
  }
  if ((family != net::Family::kV6 && family != net::Family::kNone) || end - p < 16) return nullptr;
  *a = {GetBig(p, 8), GetBig(p + 8, 8), family};
  return p + 16;
}

inline uint8_t* PutVarint(uint8_t* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return p;
}

// nullptr when [p, end) does not start with a varint.
inline const uint8_t* GetVarint(const uint8_t* p, const uint8_t* end, uint64_t* v) {
  uint64_t out = 0;
  for (int shift = 0; p < end && shift < 64; shift += 7) {
    const uint8_t b = *p++;
    out |= uint64_t{b & 0x7fu} << shift;
    if (b < 0x80) {
      *v = out;
      return p;
    }
  }
  return nullptr;
}

// A time as an offset from `base`, wrapping, so that every int64_t round-trips.
inline uint64_t Offset(int64_t t, int64_t base) {
  const auto d = static_cast<int64_t>(static_cast<uint64_t>(t) - static_cast<uint64_t>(base));
  return (static_cast<uint64_t>(d) << 1) ^ static_cast<uint64_t>(d >> 63);
}
inline int64_t FromOffset(uint64_t z, int64_t base) {
  const uint64_t d = (z >> 1) ^ (~(z & 1) + 1);
  return static_cast<int64_t>(static_cast<uint64_t>(base) + d);
}

}  // namespace flow_store_internal

// `place` and `interface`: the ids of the flow's place and interface in the `places` and
// `interfaces` tables; 0: none known.
inline PackedKey PackKey(const FlowKey& k, uint32_t place = 0, uint32_t interface = 0) {
  using namespace flow_store_internal;
  PackedKey out;
  uint8_t* p = out.bytes;
  if (place != 0) {
    *p++ = kPlaceMark;
    p = PutBig(p, place, 4);
  }
  if (interface != 0) {
    *p++ = kInterfaceMark;
    p = PutBig(p, interface, 4);
  }
  p = PutAddress(p, k.responder);
  p = PutBig(p, k.port, 2);
  *p++ = k.protocol;
  p = PutAddress(p, k.initiator);
  *p++ = static_cast<uint8_t>(k.action);
  out.size = static_cast<uint8_t>(p - out.bytes);
  return out;
}

namespace flow_store_internal {

// Reads the id after `mark` at `*p` into `id` and steps over it; leaves both when `*p` is not
// `mark`. False when the bytes after the mark are not an id.
inline bool GetMarkedId(const uint8_t** p, const uint8_t* end, uint8_t mark, uint32_t* id) {
  if (*p == end || **p != mark) return true;
  if (end - *p < 5) return false;
  *id = static_cast<uint32_t>(GetBig(*p + 1, 4));
  *p += 5;
  return *id != 0;
}

}  // namespace flow_store_internal

// The key in `size` bytes, or nullopt when they are not a packed key (a damaged file). `place`
// and `interface`, when given, receive the ids of its place and interface (0: none).
inline std::optional<FlowKey> UnpackKey(const uint8_t* bytes, size_t size, uint32_t* place = nullptr,
                                        uint32_t* interface = nullptr) {
  using namespace flow_store_internal;
  const uint8_t* end = bytes + size;
  uint32_t place_id = 0, interface_id = 0;
  const uint8_t* p = bytes;
  if (!GetMarkedId(&p, end, kPlaceMark, &place_id) || !GetMarkedId(&p, end, kInterfaceMark, &interface_id)) {
    return std::nullopt;
  }
  if (place != nullptr) *place = place_id;
  if (interface != nullptr) *interface = interface_id;
  FlowKey k;
  p = GetAddress(p, end, &k.responder);  // a mark out of order or twice is no family
  if (p == nullptr || end - p < 3) return std::nullopt;
  k.port = static_cast<uint16_t>(GetBig(p, 2));
  k.protocol = p[2];
  p = GetAddress(p + 3, end, &k.initiator);
  if (p == nullptr || end - p != 1 || *p > static_cast<uint8_t>(flowlog::Action::kReject)) return std::nullopt;
  k.action = static_cast<flowlog::Action>(*p);
  return k;
}

// The first 16 bytes of a packed key (zero-padded) as two big-endian words: comparing them
// compares the keys, unless they are equal.
inline void KeyPrefix(const PackedKey& k, uint64_t* hi, uint64_t* lo) {
  uint8_t b[16] = {};
  std::memcpy(b, k.bytes, std::min<size_t>(k.size, 16));
  *hi = flow_store_internal::GetBig(b, 8);
  *lo = flow_store_internal::GetBig(b + 8, 8);
}

// <0, 0, >0 as `a` sorts before, with, or after `b` (the order of the store's primary key).
inline int CompareKeys(const PackedKey& a, const PackedKey& b) {
  if (const int c = std::memcmp(a.bytes, b.bytes, std::min(a.size, b.size)); c != 0) return c;
  return int{a.size} - int{b.size};
}

// The UTC day of a flow's `last` (kNoTime: day 0).
inline int64_t DayOf(int64_t last) {
  if (last == flowlog::kNoTime) return 0;
  return last / kDaySeconds - (last % kDaySeconds < 0);
}

// The value of a row of day `day`.
inline PackedValue PackValue(const RowValue& v, int64_t day) {
  using namespace flow_store_internal;
  const int64_t base = day * kDaySeconds;
  const bool has_first = v.counts.first != flowlog::kNoTime, has_last = v.counts.last != flowlog::kNoTime;
  PackedValue out;
  uint8_t* p = out.bytes;
  *p++ = static_cast<uint8_t>(has_first | has_last << 1);
  p = PutVarint(p, v.counts.records);
  p = PutVarint(p, v.counts.packets);
  p = PutVarint(p, v.counts.bytes);
  p = PutVarint(p, static_cast<uint64_t>(v.run));
  if (has_first) p = PutVarint(p, Offset(v.counts.first, base));
  if (has_last) p = PutVarint(p, Offset(v.counts.last, base));
  out.size = static_cast<uint8_t>(p - out.bytes);
  return out;
}

// Decodes a value of day `day`; false when the bytes are not one (a damaged file).
inline bool UnpackValue(const uint8_t* bytes, size_t size, int64_t day, RowValue* v) {
  using namespace flow_store_internal;
  const uint8_t* end = bytes + size;
  if (size == 0 || bytes[0] > 3) return false;
  const uint8_t flags = bytes[0];
  uint64_t run = 0, first = 0, last = 0;
  const uint8_t* p = GetVarint(bytes + 1, end, &v->counts.records);
  if (p != nullptr) p = GetVarint(p, end, &v->counts.packets);
  if (p != nullptr) p = GetVarint(p, end, &v->counts.bytes);
  if (p != nullptr) p = GetVarint(p, end, &run);
  if (p != nullptr && (flags & 1)) p = GetVarint(p, end, &first);
  if (p != nullptr && (flags & 2)) p = GetVarint(p, end, &last);
  if (p != end) return false;
  const int64_t base = day * kDaySeconds;
  v->run = static_cast<int64_t>(run);
  v->counts.first = flags & 1 ? FromOffset(first, base) : flowlog::kNoTime;
  v->counts.last = flags & 2 ? FromOffset(last, base) : flowlog::kNoTime;
  return true;
}

// Two values of the same row added up (first: the minimum, last: the maximum, run: the first);
// nullopt when one is damaged. Times are offsets from the same day, so the day is not needed.
inline std::optional<PackedValue> MergeValues(const uint8_t* a, size_t a_size, const uint8_t* b, size_t b_size) {
  RowValue x, y;
  if (!UnpackValue(a, a_size, 0, &x) || !UnpackValue(b, b_size, 0, &y)) return std::nullopt;
  x.counts.Add(y.counts);
  x.run = std::min(x.run, y.run);
  return PackValue(x, 0);
}

}  // namespace moat::store
