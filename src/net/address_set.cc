#include "net/address_set.h"

#include <algorithm>

namespace moat::net {
namespace {

using U128 = unsigned __int128;

U128 ToInt(const Address& a) { return a.is_v4() ? U128{a.lo} : (U128{a.hi} << 64) | a.lo; }

Address FromInt(U128 v, Family f) {
  if (f == Family::kV4) return Address::V4(static_cast<uint32_t>(v));
  return Address::V6(static_cast<uint64_t>(v >> 64), static_cast<uint64_t>(v));
}

int Width(Family f) { return f == Family::kV4 ? 32 : 128; }

U128 AllOnes(int bits) { return bits == 128 ? ~U128{0} : (U128{1} << bits) - 1; }

int TrailingZeros(U128 v, int width) {
  if (v == 0) return width;
  const auto low = static_cast<uint64_t>(v);
  if (low != 0) return __builtin_ctzll(low);
  return 64 + __builtin_ctzll(static_cast<uint64_t>(v >> 64));
}

int FloorLog2(U128 v) {  // REQUIRES: v > 0
  const auto high = static_cast<uint64_t>(v >> 64);
  if (high != 0) return 127 - __builtin_clzll(high);
  return 63 - __builtin_clzll(static_cast<uint64_t>(v));
}

}  // namespace

std::optional<Prefix> ParsePrefix(std::string_view s) {
  const size_t slash = s.find('/');
  auto addr = ParseAddress(s.substr(0, slash));
  if (!addr) return std::nullopt;
  const int width = Width(addr->family);
  int length = width;
  if (slash != std::string_view::npos) {
    const std::string_view len = s.substr(slash + 1);
    if (len.empty() || len.size() > 3) return std::nullopt;
    length = 0;
    for (char c : len) {
      if (c < '0' || c > '9') return std::nullopt;
      length = length * 10 + (c - '0');
    }
    if (length > width || (len.size() > 1 && len[0] == '0')) return std::nullopt;
  }
  return PrefixOf(*addr, length);
}

std::string ToString(const Prefix& p) { return ToString(p.base) + "/" + std::to_string(p.length); }

Prefix PrefixOf(const Address& a, int length) {
  const int width = Width(a.family);
  return Prefix{FromInt(ToInt(a) & ~AllOnes(width - length) & AllOnes(width), a.family), length};
}

Address LastAddress(const Prefix& p) {
  const int width = Width(p.base.family);
  return FromInt(ToInt(p.base) | AllOnes(width - p.length), p.base.family);
}

void AddressSet::AddRange(const Address& first, const Address& last) {
  Of(first.family).push_back({ToInt(first), ToInt(last)});
  dirty_ = true;
}

void AddressSet::Add(const Prefix& p) {
  const int width = Width(p.base.family);
  const U128 lo = ToInt(p.base);
  Of(p.base.family).push_back({lo, lo | AllOnes(width - p.length)});
  dirty_ = true;
}

void AddressSet::Add(const AddressSet& other) {
  other.Normalize();
  v4_.insert(v4_.end(), other.v4_.begin(), other.v4_.end());
  v6_.insert(v6_.end(), other.v6_.begin(), other.v6_.end());
  dirty_ = true;
}

void AddressSet::Normalize() const {
  if (!dirty_) return;
  for (auto* v : {&v4_, &v6_}) {
    std::sort(v->begin(), v->end(), [](const Interval& a, const Interval& b) { return a.lo < b.lo; });
    std::vector<Interval> out;
    for (const Interval& i : *v) {
      // Merge overlapping and adjacent intervals (adjacent: hi + 1 == lo, careful at the top).
      if (!out.empty() && (i.lo <= out.back().hi || i.lo - 1 == out.back().hi)) {
        out.back().hi = std::max(out.back().hi, i.hi);
      } else {
        out.push_back(i);
      }
    }
    v->swap(out);
  }
  dirty_ = false;
}

void AddressSet::Subtract(const AddressSet& other) {
  Normalize();
  other.Normalize();
  for (Family f : {Family::kV4, Family::kV6}) {
    std::vector<Interval> out;
    const auto& cut = other.Of(f);
    size_t j = 0;
    for (Interval i : Of(f)) {
      while (j < cut.size() && cut[j].hi < i.lo) ++j;
      bool alive = true;
      for (size_t k = j; k < cut.size() && cut[k].lo <= i.hi; ++k) {
        if (cut[k].lo > i.lo) out.push_back({i.lo, cut[k].lo - 1});
        if (cut[k].hi >= i.hi) {
          alive = false;
          break;
        }
        i.lo = cut[k].hi + 1;
      }
      if (alive) out.push_back(i);
    }
    Of(f).swap(out);
  }
}

AddressSet Every(Family family) {
  AddressSet s;
  if (family != Family::kV6) s.Add(Prefix{Address::V4(0), 0});
  if (family != Family::kV4) s.Add(Prefix{Address::V6(0, 0), 0});
  return s;
}

AddressSet AddressSet::Intersect(const AddressSet& other) const {
  Normalize();
  other.Normalize();
  AddressSet out;
  for (Family f : {Family::kV4, Family::kV6}) {
    const auto& a = Of(f);
    const auto& b = other.Of(f);
    size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
      const U128 lo = std::max(a[i].lo, b[j].lo), hi = std::min(a[i].hi, b[j].hi);
      if (lo <= hi) out.Of(f).push_back({lo, hi});
      if (a[i].hi < b[j].hi) {
        ++i;
      } else {
        ++j;
      }
    }
  }
  return out;
}

bool AddressSet::Contains(const Address& a) const {
  Normalize();
  const auto& v = Of(a.family);
  const U128 x = ToInt(a);
  auto it = std::upper_bound(v.begin(), v.end(), x, [](U128 value, const Interval& i) { return value < i.lo; });
  return it != v.begin() && std::prev(it)->hi >= x;
}

bool AddressSet::Overlaps(const Prefix& p) const {
  Normalize();
  const auto& v = Of(p.base.family);
  const U128 lo = ToInt(p.base), hi = ToInt(LastAddress(p));
  // The first interval that ends at or after lo overlaps p when it starts at or before hi.
  auto it = std::lower_bound(v.begin(), v.end(), lo, [](const Interval& i, U128 value) { return i.hi < value; });
  return it != v.end() && it->lo <= hi;
}

bool AddressSet::empty() const { return v4_.empty() && v6_.empty(); }

uint64_t AddressSet::Count() const {
  Normalize();
  U128 total = 0;
  for (const auto* v : {&v4_, &v6_}) {
    for (const Interval& i : *v) {
      const U128 n = i.hi - i.lo + 1;  // 0 only for the whole IPv6 space
      if (n == 0 || total + n < total || total + n > UINT64_MAX) return UINT64_MAX;
      total += n;
    }
  }
  return static_cast<uint64_t>(total);
}

std::vector<Prefix> AddressSet::ToPrefixes() const {
  Normalize();
  std::vector<Prefix> out;
  for (Family f : {Family::kV4, Family::kV6}) {
    const int width = Width(f);
    for (Interval i : Of(f)) {
      U128 lo = i.lo;
      for (;;) {
        // The largest aligned block at lo that ends at or before hi.
        const U128 span = i.hi - lo;  // addresses after lo
        const int fit = span == AllOnes(width) ? width : FloorLog2(span + 1);
        const int bits = std::min(TrailingZeros(lo, width), fit);
        out.push_back({FromInt(lo, f), width - bits});
        const U128 last = lo + AllOnes(bits);
        if (last == i.hi) break;
        lo = last + 1;
      }
    }
  }
  return out;
}

std::vector<std::string> AddressSet::ToStrings() const {
  std::vector<std::string> out;
  for (const Prefix& p : ToPrefixes()) out.push_back(ToString(p));
  return out;
}

bool SameIntervals(const std::vector<AddressSet::Interval>& x, const std::vector<AddressSet::Interval>& y) {
  return std::equal(x.begin(), x.end(), y.begin(), y.end(),
                    [](const auto& p, const auto& q) { return p.lo == q.lo && p.hi == q.hi; });
}

bool operator==(const AddressSet& a, const AddressSet& b) {
  a.Normalize();
  b.Normalize();
  return SameIntervals(a.v4_, b.v4_) && SameIntervals(a.v6_, b.v6_);
}

}  // namespace moat::net
