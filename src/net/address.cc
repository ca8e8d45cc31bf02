#include "net/address.h"

#include <array>
#include <cstdio>

namespace moat::net {

std::optional<Address> ParseV4(std::string_view s) {
  uint32_t value = 0;
  size_t i = 0;
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (i >= s.size() || s[i] != '.') return std::nullopt;
      ++i;
    }
    const size_t start = i;
    uint32_t v = 0;
    while (i < s.size() && i - start < 3 && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0');
    const size_t len = i - start;
    if (len == 0 || v > 255 || (len > 1 && s[start] == '0')) return std::nullopt;
    value = (value << 8) | v;
  }
  if (i != s.size()) return std::nullopt;
  return Address::V4(value);
}

namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<Address> ParseV6(std::string_view s) {
  std::array<uint16_t, 8> groups{};
  int count = 0;
  int gap = -1;  // index in groups where "::" stands
  size_t i = 0;
  if (s.size() < 2 || s.size() > 45) return std::nullopt;
  if (s[0] == ':') {
    if (s[1] != ':') return std::nullopt;
    gap = 0;
    i = 2;
  }
  while (i < s.size()) {
    if (count == 8) return std::nullopt;
    // An embedded IPv4 tail takes the last two groups.
    const size_t next_colon = s.find(':', i);
    const std::string_view rest = s.substr(i, next_colon == std::string_view::npos ? s.size() - i : next_colon - i);
    if (next_colon == std::string_view::npos && rest.find('.') != std::string_view::npos) {
      auto v4 = ParseV4(rest);
      if (!v4 || count > 6) return std::nullopt;
      groups[count++] = static_cast<uint16_t>(v4->lo >> 16);
      groups[count++] = static_cast<uint16_t>(v4->lo & 0xffff);
      break;
    }
    uint32_t v = 0;
    size_t len = 0;
    while (i < s.size() && len < 5) {
      const int d = HexDigit(s[i]);
      if (d < 0) break;
      v = (v << 4) | static_cast<uint32_t>(d);
      ++i;
      ++len;
    }
    if (len == 0 || len > 4) return std::nullopt;
    groups[count++] = static_cast<uint16_t>(v);
    if (i == s.size()) break;
    if (s[i] != ':') return std::nullopt;
    ++i;
    if (i < s.size() && s[i] == ':') {
      if (gap >= 0) return std::nullopt;
      gap = count;
      ++i;
    } else if (i == s.size()) {
      return std::nullopt;  // trailing single colon
    }
  }
  if (gap >= 0) {
    if (count == 8) return std::nullopt;  // "::" must stand for at least one group
    const int move = count - gap;
    for (int k = 0; k < move; ++k) groups[7 - k] = groups[count - 1 - k];
    for (int k = gap; k < 8 - move; ++k) groups[k] = 0;
  } else if (count != 8) {
    return std::nullopt;
  }
  uint64_t hi = 0, lo = 0;
  for (int k = 0; k < 4; ++k) hi = (hi << 16) | groups[k];
  for (int k = 4; k < 8; ++k) lo = (lo << 16) | groups[k];
  return Address::V6(hi, lo);
}

std::optional<Address> ParseAddress(std::string_view s) {
  if (s.find(':') != std::string_view::npos) return ParseV6(s);
  return ParseV4(s);
}

namespace {

void AppendDottedQuad(uint32_t v, std::string& out) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    const uint32_t o = (v >> shift) & 0xff;
    if (o >= 100) out += static_cast<char>('0' + o / 100);
    if (o >= 10) out += static_cast<char>('0' + o / 10 % 10);
    out += static_cast<char>('0' + o % 10);
    if (shift > 0) out += '.';
  }
}

}  // namespace

std::string ToString(const Address& a) {
  char buf[48];
  if (a.is_v4()) {
    std::string out;
    AppendDottedQuad(static_cast<uint32_t>(a.lo), out);
    return out;
  }
  if (!a.is_v6()) return "-";
  std::array<uint16_t, 8> g{};
  for (int k = 0; k < 4; ++k) g[k] = static_cast<uint16_t>(a.hi >> (48 - 16 * k));
  for (int k = 0; k < 4; ++k) g[4 + k] = static_cast<uint16_t>(a.lo >> (48 - 16 * k));
  // IPv4-mapped addresses keep their dotted tail (RFC 5952 §5).
  if (a.hi == 0 && (a.lo >> 32) == 0xffff) {
    std::string out = "::ffff:";
    AppendDottedQuad(static_cast<uint32_t>(a.lo), out);
    return out;
  }
  int best = -1, best_len = 1;  // only runs of two or more groups are compressed
  for (int k = 0; k < 8;) {
    if (g[k] != 0) {
      ++k;
      continue;
    }
    int j = k;
    while (j < 8 && g[j] == 0) ++j;
    if (j - k > best_len) {
      best = k;
      best_len = j - k;
    }
    k = j;
  }
  std::string out;
  for (int k = 0; k < 8; ++k) {
    if (k == best) {
      out += "::";
      k += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    std::snprintf(buf, sizeof buf, "%x", g[k]);
    out += buf;
  }
  return out;
}

}  // namespace moat::net
