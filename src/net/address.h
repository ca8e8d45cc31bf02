// Address: an IPv4 or IPv6 address as a 128-bit value, cheap to copy, hash and order.
// IPv4 sorts before IPv6; within a family, numerically. Parsing is strict (what a flow log or
// a policy may contain, nothing more); formatting is RFC 5952 for IPv6. Thread-safe values.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace moat::net {

enum class Family : uint8_t { kNone = 0, kV4 = 4, kV6 = 6 };

struct Address {
  uint64_t hi = 0;  // IPv6: the first 64 bits; IPv4: 0
  uint64_t lo = 0;  // IPv6: the last 64 bits; IPv4: the address in the low 32 bits
  Family family = Family::kNone;

  static Address V4(uint32_t v) { return {0, v, Family::kV4}; }
  static Address V6(uint64_t hi, uint64_t lo) { return {hi, lo, Family::kV6}; }

  bool valid() const { return family != Family::kNone; }
  bool is_v4() const { return family == Family::kV4; }
  bool is_v6() const { return family == Family::kV6; }

  friend bool operator==(const Address&, const Address&) = default;
  friend std::strong_ordering operator<=>(const Address& a, const Address& b) {
    if (auto c = a.family <=> b.family; c != 0) return c;
    if (auto c = a.hi <=> b.hi; c != 0) return c;
    return a.lo <=> b.lo;
  }
};

// Dotted quad, exactly four decimal octets 0-255 without leading zeros.
std::optional<Address> ParseV4(std::string_view s);
// RFC 4291 text forms (with "::" and an embedded IPv4 tail). No zone, no brackets.
std::optional<Address> ParseV6(std::string_view s);
// Either family.
std::optional<Address> ParseAddress(std::string_view s);

// "10.0.2.45" / "2001:db8::1" (RFC 5952: lowercase, longest zero run of 2+ groups compressed).
std::string ToString(const Address& a);

// For hash maps keyed by address.
struct AddressHash {
  size_t operator()(const Address& a) const {
    return std::hash<uint64_t>()(a.hi * 0x9e3779b97f4a7c15ULL ^ a.lo ^ static_cast<uint64_t>(a.family));
  }
};

}  // namespace moat::net
