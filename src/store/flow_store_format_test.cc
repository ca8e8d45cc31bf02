#include "store/flow_store_format.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <tuple>
#include <vector>

namespace moat::store {
namespace {

using flowlog::Action;
using flowlog::kNoTime;

constexpr int64_t kDay = 86400;
constexpr int64_t kT = 1793491200;  // 2026-11-01T00:00:00Z

FlowKey Key(const char* initiator, const char* responder, uint16_t port, uint8_t protocol = 6,
            Action action = Action::kAccept) {
  return {*net::ParseAddress(initiator), *net::ParseAddress(responder), port, protocol, action};
}

TEST(FlowStoreFormat, KeysRoundTripAndWhatIsNotAKeyIsRejected) {
  for (const FlowKey& k : {Key("10.0.1.20", "10.0.2.45", 5432), Key("2001:db8::1", "10.0.2.45", 1, 17, Action::kReject),
                           Key("10.0.1.20", "::", 65535, 0, Action::kNone)}) {
    const PackedKey p = PackKey(k);
    EXPECT_EQ(UnpackKey(p.bytes, p.size), k);
    for (size_t n = 0; n < p.size; ++n) EXPECT_FALSE(UnpackKey(p.bytes, n)) << n;
  }
  EXPECT_EQ(PackKey(Key("10.0.1.20", "10.0.2.45", 5432)).size, 14);
  EXPECT_EQ(PackKey(Key("::1", "::2", 5432)).size, 38);
  const uint8_t bad_family[] = {5, 1, 2, 3, 4, 0, 80, 6, 4, 1, 2, 3, 4, 1};
  EXPECT_FALSE(UnpackKey(bad_family, sizeof bad_family));
  const uint8_t bad_action[] = {4, 1, 2, 3, 4, 0, 80, 6, 4, 1, 2, 3, 4, 3};
  EXPECT_FALSE(UnpackKey(bad_action, sizeof bad_action));
}

TEST(FlowStoreFormat, APlacedKeyCarriesItsPlaceInFrontAndAKeyWithoutOneHasNoPlace) {
  const FlowKey k = Key("10.0.1.20", "10.0.2.45", 5432);
  const PackedKey placed = PackKey(k, 0x01020304);
  ASSERT_EQ(placed.size, 19);
  EXPECT_EQ(placed.bytes[0], kPlaceMark);
  uint32_t place = 0;
  EXPECT_EQ(UnpackKey(placed.bytes, placed.size, &place), k);
  EXPECT_EQ(place, 0x01020304u);
  for (size_t n = 0; n < placed.size; ++n) EXPECT_FALSE(UnpackKey(placed.bytes, n)) << n;
  const PackedKey plain = PackKey(k);
  place = 7;
  EXPECT_EQ(UnpackKey(plain.bytes, plain.size, &place), k);
  EXPECT_EQ(place, 0u);
  EXPECT_EQ(PackKey(Key("::1", "::2", 5432), 1).size, 43);
  // Place 0 is no place: written without the mark, so a marked 0 is not a key.
  PackedKey zero = placed;
  zero.bytes[1] = zero.bytes[2] = zero.bytes[3] = zero.bytes[4] = 0;
  EXPECT_FALSE(UnpackKey(zero.bytes, zero.size));
  // The same flow in two places is two keys; the places' flows sit together.
  EXPECT_NE(CompareKeys(PackKey(k, 1), PackKey(k, 2)), 0);
  EXPECT_LT(CompareKeys(PackKey(Key("10.0.1.20", "10.0.2.99", 5432), 1), PackKey(k, 2)), 0);
}

TEST(FlowStoreFormat, AKeyOfAnInterfaceCarriesItsIdAfterThePlace) {
  const FlowKey k = Key("10.0.1.20", "10.0.2.45", 5432);
  const PackedKey both = PackKey(k, 0x01020304, 0x0a0b0c0d);
  ASSERT_EQ(both.size, 24);
  EXPECT_EQ(both.bytes[0], kPlaceMark);
  EXPECT_EQ(both.bytes[5], kInterfaceMark);
  EXPECT_EQ(both.bytes[6], 0x0a);
  EXPECT_EQ(both.bytes[9], 0x0d);
  uint32_t place = 0, interface = 0;
  EXPECT_EQ(UnpackKey(both.bytes, both.size, &place, &interface), k);
  EXPECT_EQ(place, 0x01020304u);
  EXPECT_EQ(interface, 0x0a0b0c0du);
  for (size_t n = 0; n < both.size; ++n) EXPECT_FALSE(UnpackKey(both.bytes, n)) << n;

  const PackedKey alone = PackKey(k, 0, 7);
  ASSERT_EQ(alone.size, 19);
  EXPECT_EQ(alone.bytes[0], kInterfaceMark);
  place = interface = 9;
  EXPECT_EQ(UnpackKey(alone.bytes, alone.size, &place, &interface), k);
  EXPECT_EQ(place, 0u);
  EXPECT_EQ(interface, 7u);
  for (size_t n = 0; n < alone.size; ++n) EXPECT_FALSE(UnpackKey(alone.bytes, n)) << n;

  const PackedKey placed = PackKey(k, 3);
  interface = 9;
  EXPECT_EQ(UnpackKey(placed.bytes, placed.size, &place, &interface), k);
  EXPECT_EQ(interface, 0u) << "a key of schema version 2 has no interface";
  EXPECT_EQ(PackKey(Key("::1", "::2", 5432), 1, 1).size, PackedKey::kMaxSize);
}

TEST(FlowStoreFormat, AnInterfaceMarkThatIsNotOneIdAfterThePlaceIsADamagedKey) {
  const FlowKey k = Key("10.0.1.20", "10.0.2.45", 5432);
  const PackedKey both = PackKey(k, 0x01020304, 0x0a0b0c0d);
  // Interface 0 is no interface: written without the mark, so a marked 0 is not a key.
  PackedKey zero = both;
  zero.bytes[6] = zero.bytes[7] = zero.bytes[8] = zero.bytes[9] = 0;
  EXPECT_FALSE(UnpackKey(zero.bytes, zero.size));
  // A mark with fewer than 4 bytes of id after it.
  const uint8_t truncated[] = {kInterfaceMark, 0, 0, 7};
  EXPECT_FALSE(UnpackKey(truncated, sizeof truncated));
  // The interface before the place: the same bytes in the other order.
  PackedKey swapped;
  std::copy(both.bytes + 5, both.bytes + 10, swapped.bytes);
  std::copy(both.bytes, both.bytes + 5, swapped.bytes + 5);
  std::copy(both.bytes + 10, both.bytes + both.size, swapped.bytes + 10);
  swapped.size = both.size;
  EXPECT_FALSE(UnpackKey(swapped.bytes, swapped.size));
  // Two interfaces, or two places.
  const PackedKey alone = PackKey(k, 0, 7);
  PackedKey twice;
  std::copy(alone.bytes, alone.bytes + 5, twice.bytes);
  std::copy(alone.bytes, alone.bytes + alone.size, twice.bytes + 5);
  twice.size = static_cast<uint8_t>(alone.size + 5);
  EXPECT_FALSE(UnpackKey(twice.bytes, twice.size));
  const PackedKey placed = PackKey(k, 3);
  std::copy(placed.bytes, placed.bytes + 5, twice.bytes);
  std::copy(placed.bytes, placed.bytes + placed.size, twice.bytes + 5);
  twice.size = static_cast<uint8_t>(placed.size + 5);
  EXPECT_FALSE(UnpackKey(twice.bytes, twice.size));
}

// Keys of every combination of place and interface: byte order is (place, interface, key), each
// of none (0) first, and each key unpacks to what was packed.
TEST(FlowStoreFormat, KeyByteOrderIsPlaceThenInterfaceThenKey) {
  struct Packed {
    uint32_t place, interface;
    FlowKey key;
  };
  std::vector<Packed> keys;
  for (uint32_t place : {0u, 1u, 2u, 0x100u}) {
    for (uint32_t interface : {0u, 1u, 5u, 0x01000000u}) {
      for (const char* r : {"10.0.2.45", "10.0.2.9", "2001:db8::1"}) {
        for (const char* i : {"10.0.1.20", "::"}) keys.push_back({place, interface, Key(i, r, 5432)});
      }
    }
  }
  for (const Packed& p : keys) {
    const PackedKey bytes = PackKey(p.key, p.place, p.interface);
    uint32_t place = 0, interface = 0;
    EXPECT_EQ(UnpackKey(bytes.bytes, bytes.size, &place, &interface), p.key);
    EXPECT_EQ(std::tie(place, interface), std::tie(p.place, p.interface));
  }
  std::vector<Packed> by_bytes = keys;
  std::sort(by_bytes.begin(), by_bytes.end(), [](const Packed& a, const Packed& b) {
    return CompareKeys(PackKey(a.key, a.place, a.interface), PackKey(b.key, b.place, b.interface)) < 0;
  });
  std::sort(keys.begin(), keys.end(), [](const Packed& a, const Packed& b) {
    return std::tie(a.place, a.interface, a.key.responder, a.key.port, a.key.initiator) <
           std::tie(b.place, b.interface, b.key.responder, b.key.port, b.key.initiator);
  });
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(std::tie(by_bytes[i].place, by_bytes[i].interface, by_bytes[i].key),
              std::tie(keys[i].place, keys[i].interface, keys[i].key))
        << i;
  }
  // CompareKeys is memcmp over the bytes, then the shorter first.
  const PackedKey plain = PackKey(Key("10.0.1.20", "10.0.2.45", 5432), 1);
  const PackedKey at_interface = PackKey(Key("10.0.1.20", "10.0.2.45", 5432), 1, 1);
  EXPECT_LT(std::memcmp(plain.bytes, at_interface.bytes, plain.size), 0);
  EXPECT_LT(CompareKeys(plain, at_interface), 0);
}

TEST(FlowStoreFormat, KeyByteOrderIsResponderPortProtocolInitiatorAction) {
  std::vector<FlowKey> keys;
  for (const char* r : {"10.0.2.45", "10.0.2.9", "::1", "2001:db8::1"}) {
    for (const char* i : {"10.0.1.20", "9.0.0.1", "fe80::1", "::"}) {
      for (uint16_t port : {22, 5432, 256}) {
        for (uint8_t proto : {6, 17}) {
          for (Action a : {Action::kNone, Action::kAccept, Action::kReject}) {
            keys.push_back(Key(i, r, port, proto, a));
          }
        }
      }
    }
  }
  std::vector<FlowKey> by_bytes = keys;
  std::sort(by_bytes.begin(), by_bytes.end(),
            [](const FlowKey& a, const FlowKey& b) { return CompareKeys(PackKey(a), PackKey(b)) < 0; });
  std::sort(keys.begin(), keys.end(), [](const FlowKey& a, const FlowKey& b) {
    return std::tie(a.responder, a.port, a.protocol, a.initiator, a.action) <
           std::tie(b.responder, b.port, b.protocol, b.initiator, b.action);
  });
  EXPECT_EQ(by_bytes, keys);
}

TEST(FlowStoreFormat, KeyPrefixesOrderKeysUnlessEqual) {
  std::vector<PackedKey> keys;
  for (const char* r : {"10.0.2.45", "10.0.2.9", "::1", "2001:db8::1", "2001:db8::2"}) {
    for (const char* i : {"10.0.1.20", "::", "fe80::1", "fe80::2"}) {
      for (uint16_t port : {22, 5432}) keys.push_back(PackKey(Key(i, r, port)));
    }
  }
  for (const PackedKey& a : keys) {
    for (const PackedKey& b : keys) {
      uint64_t a_hi, a_lo, b_hi, b_lo;
      KeyPrefix(a, &a_hi, &a_lo);
      KeyPrefix(b, &b_hi, &b_lo);
      const int c = CompareKeys(a, b);
      if (std::tie(a_hi, a_lo) != std::tie(b_hi, b_lo)) {
        EXPECT_EQ(std::tie(a_hi, a_lo) < std::tie(b_hi, b_lo), c < 0);
      } else if (a.size == 14) {
        EXPECT_EQ(c, 0) << "an IPv4 key fits in its prefix";
      }
    }
  }
}

TEST(FlowStoreFormat, ValuesRoundTripRelativeToTheirDay) {
  const int64_t day = DayOf(kT + 7200);
  EXPECT_EQ(day, kT / kDay);
  EXPECT_EQ(DayOf(kNoTime), 0);
  EXPECT_EQ(DayOf(-1), -1);
  for (const RowValue& v : {RowValue{{12, 340, 51000, kT + 100, kT + 7200}, 3},
                            RowValue{{1, 1, 1, kNoTime, kNoTime}, 1}, RowValue{{0, 0, 0, kT - 30 * kDay, kNoTime}, 0},
                            RowValue{{~uint64_t{0}, ~uint64_t{0}, ~uint64_t{0}, INT64_MAX, kNoTime + 1}, INT64_MAX}}) {
    const PackedValue p = PackValue(v, day);
    RowValue back;
    ASSERT_TRUE(UnpackValue(p.bytes, p.size, day, &back));
    EXPECT_EQ(back.counts.records, v.counts.records);
    EXPECT_EQ(back.counts.packets, v.counts.packets);
    EXPECT_EQ(back.counts.bytes, v.counts.bytes);
    EXPECT_EQ(back.counts.first, v.counts.first);
    EXPECT_EQ(back.counts.last, v.counts.last);
    EXPECT_EQ(back.run, v.run);
    for (size_t n = 0; n < p.size; ++n) EXPECT_FALSE(UnpackValue(p.bytes, n, day, &back)) << n;
  }
  EXPECT_LE(PackValue({{12, 340, 51000, kT + 100, kT + 7200}, 3}, day).size, 13);
  const uint8_t bad_flags[] = {4, 1, 1, 1, 1};
  RowValue v;
  EXPECT_FALSE(UnpackValue(bad_flags, sizeof bad_flags, day, &v));
  const uint8_t trailing[] = {0, 1, 1, 1, 1, 0};
  EXPECT_FALSE(UnpackValue(trailing, sizeof trailing, day, &v));
}

TEST(FlowStoreFormat, MergeAddsCountsKeepsTheWidestTimesAndTheFirstRun) {
  const int64_t day = DayOf(kT);
  const PackedValue a = PackValue({{2, 20, 200, kT + 50, kT + 60}, 4}, day);
  const PackedValue b = PackValue({{3, 30, 300, kT + 10, kT + 20}, 2}, day);
  const PackedValue none = PackValue({{1, 1, 1, kNoTime, kNoTime}, 9}, day);
  auto m = MergeValues(a.bytes, a.size, b.bytes, b.size);
  ASSERT_TRUE(m);
  auto m2 = MergeValues(m->bytes, m->size, none.bytes, none.size);
  ASSERT_TRUE(m2);
  RowValue v;
  ASSERT_TRUE(UnpackValue(m2->bytes, m2->size, day, &v));
  EXPECT_EQ(v.counts.records, 6u);
  EXPECT_EQ(v.counts.packets, 51u);
  EXPECT_EQ(v.counts.bytes, 501u);
  EXPECT_EQ(v.counts.first, kT + 10);
  EXPECT_EQ(v.counts.last, kT + 60);
  EXPECT_EQ(v.run, 2);
  const uint8_t bad[] = {9};
  EXPECT_FALSE(MergeValues(a.bytes, a.size, bad, 1));
}

}  // namespace
}  // namespace moat::store
