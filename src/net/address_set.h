// Prefix and AddressSet: CIDR prefixes, and exact sets of addresses of both families as sorted,
// disjoint intervals — what an IP list, a workload's interfaces or a rule's consumers stand for.
// ToPrefixes() gives the minimal list of CIDRs that covers exactly the set: nothing more, nothing
// less. Values; not thread-safe while being modified.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/address.h"

namespace moat::net {

struct Prefix {
  Address base;    // host bits zero
  int length = 0;  // 0-32 for IPv4, 0-128 for IPv6

  friend bool operator==(const Prefix&, const Prefix&) = default;
};

// "10.0.0.0/24", "2001:db8::/32", or a bare address (a /32 or /128). Host bits set below the
// prefix length are cleared ("10.0.0.5/24" is 10.0.0.0/24).
std::optional<Prefix> ParsePrefix(std::string_view s);
std::string ToString(const Prefix& p);
// The prefix of `length` bits that holds `a` ("10.0.2.45", 24 -> 10.0.2.0/24).
// REQUIRES: 0 <= length <= the family's width.
Prefix PrefixOf(const Address& a, int length);
// The last address of `p` (10.0.2.0/24 -> 10.0.2.255).
Address LastAddress(const Prefix& p);

struct PortRange {
  uint16_t from = 0;
  uint16_t to = 65535;  // inclusive

  friend bool operator==(const PortRange&, const PortRange&) = default;
  friend auto operator<=>(const PortRange&, const PortRange&) = default;
};

class AddressSet;
// Every address of `family`; of both families by default (0.0.0.0/0 and ::/0).
AddressSet Every(Family family = Family::kNone);

class AddressSet {
 public:
  // REQUIRES: first and last of one family, first <= last.
  void AddRange(const Address& first, const Address& last);
  void Add(const Prefix& p);
  void Add(const Address& a) { AddRange(a, a); }
  void Add(const AddressSet& other);
  void Subtract(const AddressSet& other);
  AddressSet Intersect(const AddressSet& other) const;

  bool Contains(const Address& a) const;
  // Whether any address of `p` is in the set (Intersect without building the intersection).
  bool Overlaps(const Prefix& p) const;
  bool empty() const;
  // The number of addresses, saturated at UINT64_MAX (an IPv6 /64 is already more).
  uint64_t Count() const;
  // The minimal CIDR list covering exactly this set: IPv4 first, each family in address order.
  std::vector<Prefix> ToPrefixes() const;
  // ToPrefixes() as text.
  std::vector<std::string> ToStrings() const;

  friend bool operator==(const AddressSet& a, const AddressSet& b);

 private:
  using U128 = unsigned __int128;
  struct Interval {
    U128 lo, hi;  // inclusive
  };
  friend bool SameIntervals(const std::vector<Interval>& x, const std::vector<Interval>& y);
  std::vector<Interval>& Of(Family f) { return f == Family::kV4 ? v4_ : v6_; }
  const std::vector<Interval>& Of(Family f) const { return f == Family::kV4 ? v4_ : v6_; }
  void Normalize() const;  // sorts and merges pending additions

  mutable std::vector<Interval> v4_, v6_;
  mutable bool dirty_ = false;
};

}  // namespace moat::net
