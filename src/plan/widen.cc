#include "plan/widen.h"

#include <algorithm>
#include <limits>
#include <map>
#include <tuple>

#include "net/protocol.h"

namespace moat::plan {
namespace {

using U128 = unsigned __int128;

int Width(const net::Prefix& p) { return p.base.is_v6() ? 128 : 32; }

U128 Value(const net::Address& a) {
  return a.is_v6() ? (static_cast<U128>(a.hi) << 64) | a.lo : static_cast<U128>(a.lo);
}

net::Address FromValue(U128 v, bool v6) {
  return v6 ? net::Address::V6(static_cast<uint64_t>(v >> 64), static_cast<uint64_t>(v))
            : net::Address::V4(static_cast<uint32_t>(v));
}

uint64_t Size(const net::Prefix& p) {
  const int host_bits = Width(p) - p.length;
  return host_bits >= 64 ? std::numeric_limits<uint64_t>::max() : uint64_t{1} << host_bits;
}

uint64_t SaturatingAdd(uint64_t a, uint64_t b) {
  return a > std::numeric_limits<uint64_t>::max() - b ? std::numeric_limits<uint64_t>::max() : a + b;
}

// The smallest prefix holding both.
net::Prefix Supernet(const net::Prefix& a, const net::Prefix& b) {
  const int width = Width(a);
  const U128 x = Value(a.base) ^ Value(b.base);
  int common = std::min(a.length, b.length);
  for (int bit = 0; bit < common; ++bit) {
    if ((x >> (width - 1 - bit)) & 1) {
      common = bit;
      break;
    }
  }
  const U128 mask = common == 0 ? 0 : ~U128{0} << (width - common);
  const U128 keep = width == 32 ? (mask & 0xffffffffu) : mask;
  return {FromValue(Value(a.base) & keep, a.base.is_v6()), common};
}

bool Within(const net::Prefix& inner, const net::Prefix& outer) {
  if (inner.base.family != outer.base.family || inner.length < outer.length) return false;
  return Supernet(inner, outer).length == outer.length;
}

std::string MergedDescription(const std::vector<SgRule>& covered) {
  std::vector<std::string> rules;
  for (const SgRule& r : covered) {
    std::string_view d = r.description;
    if (d.starts_with("moat widened")) {
      d.remove_prefix(12);
    } else if (d.starts_with("moat")) {
      d.remove_prefix(4);
    }
    size_t start = 0;
    while (start < d.size()) {
      size_t end = d.find(' ', start);
      if (end == std::string_view::npos) end = d.size();
      if (end > start) {
        std::string token(d.substr(start, end - start));
        if (std::find(rules.begin(), rules.end(), token) == rules.end()) rules.push_back(token);
      }
      start = end + 1;
    }
  }
  std::string out = "moat widened";
  for (const auto& r : rules) out += " " + r;
  return SanitizeDescription(out);
}

}  // namespace

Widened Widen(std::vector<SgRule> rules, size_t capacity, uint64_t budget) {
  Widened out;
  std::sort(rules.begin(), rules.end());
  for (const bool v6 : {false, true}) {
    for (;;) {
      const auto count =
          static_cast<size_t>(std::count_if(rules.begin(), rules.end(), [&](const SgRule& r) { return r.v6() == v6; }));
      if (count <= capacity || budget == 0) break;
      // Candidates: per (protocol, ports), the supernet of two neighbours, absorbing every rule
      // of that bucket inside it.
      std::map<std::tuple<int, int, int>, std::vector<size_t>> buckets;
      for (size_t i = 0; i < rules.size(); ++i) {
        if (rules[i].v6() == v6) buckets[{rules[i].protocol, rules[i].from_port, rules[i].to_port}].push_back(i);
      }
      bool found = false;
      uint64_t best_extra = 0;
      net::Prefix best_prefix;
      std::vector<size_t> best_covered;
      for (const auto& [key, idx] : buckets) {
        for (size_t k = 0; k + 1 < idx.size(); ++k) {
          const net::Prefix sup = Supernet(rules[idx[k]].cidr, rules[idx[k + 1]].cidr);
          std::vector<size_t> covered;
          uint64_t inside = 0;
          for (size_t i : idx) {
            if (Within(rules[i].cidr, sup)) {
              covered.push_back(i);
              inside = SaturatingAdd(inside, Size(rules[i].cidr));
            }
          }
          const uint64_t extra = Size(sup) - std::min(Size(sup), inside);
          if (!found || extra < best_extra) {
            found = true;
            best_extra = extra;
            best_prefix = sup;
            best_covered = std::move(covered);
          }
        }
      }
      if (!found || best_extra > budget) break;
      budget -= best_extra;
      Widening w;
      for (size_t i : best_covered) w.covered.push_back(rules[i]);
      w.rule = w.covered[0];
      w.rule.cidr = best_prefix;
      w.rule.description = MergedDescription(w.covered);
      w.extra = best_extra;
      out.extra = SaturatingAdd(out.extra, best_extra);
      for (auto it = best_covered.rbegin(); it != best_covered.rend(); ++it) {
        rules.erase(rules.begin() + static_cast<long>(*it));
      }
      rules.push_back(w.rule);
      std::sort(rules.begin(), rules.end());
      out.widenings.push_back(std::move(w));
    }
  }
  out.rules = std::move(rules);
  return out;
}

std::string DescribeWidening(const Widening& w) {
  std::string s = net::ProtocolName(w.rule.protocol);
  if (w.rule.from_port >= 0) {
    s += " " + std::to_string(w.rule.from_port);
    if (w.rule.to_port != w.rule.from_port) s += "-" + std::to_string(w.rule.to_port);
  }
  s += ": ";
  for (size_t i = 0; i < w.covered.size(); ++i) s += (i ? ", " : "") + net::ToString(w.covered[i].cidr);
  return s + " -> " + net::ToString(w.rule.cidr) + " (+" + std::to_string(w.extra) + " addresses)";
}

}  // namespace moat::plan
