// Field parsers for the flow-log hot path. Each reads its field in place and may read up to
// kPadding bytes past the field's start (never using them): callers guarantee that many readable
// bytes after any field they pass (the reader's buffer is padded; RecordParser::Parse copies).
// SSE2 where available (every x86-64), portable code otherwise. Pure functions.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "net/address.h"

namespace moat::flowlog {

inline constexpr size_t kPadding = 64;

namespace internal {

// Eight ASCII digits, most significant first in memory, as a number; false if any is not a digit.
[[gnu::always_inline]] inline bool EightDigits(uint64_t chunk, uint64_t* out) {
  constexpr uint64_t kZeros = 0x3030303030303030ULL;
  // Every byte in 0x30-0x3f, and still so after adding 6 (so not 0x3a-0x3f). The first test
  // rules out carries between bytes in the second.
  if ((chunk & 0xF0F0F0F0F0F0F0F0ULL) != kZeros ||
      ((chunk + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) != kZeros) {
    return false;
  }
  uint64_t x = chunk - kZeros;
  x = (x * 10) + (x >> 8);  // adjacent pairs
  x = (((x & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
       (((x >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >>
      32;
  *out = x;
  return true;
}

// 1 to 8 digits at p. REQUIRES: 8 readable bytes at p.
[[gnu::always_inline]] inline bool UpTo8Digits(const char* p, size_t n, uint64_t* out) {
  uint64_t chunk;
  std::memcpy(&chunk, p, 8);
  if (n < 8) {
    // Drop the bytes past the field and fill the front with '0' (little-endian: the first
    // character is the lowest byte).
    chunk = (chunk << ((8 - n) * 8)) | (0x3030303030303030ULL >> (n * 8));
  }
  return EightDigits(chunk, out);
}

}  // namespace internal

// Unsigned decimal (digits only, no sign) that fits T. REQUIRES: kPadding readable bytes at f.data().
template <typename T>
[[gnu::always_inline]] inline bool ParseUnsigned(std::string_view f, T* out) {
  const size_t n = f.size();
  uint64_t v;
  if (n - 1 < 8) {  // 1..8 digits
    if (!internal::UpTo8Digits(f.data(), n, &v)) return false;
  } else if (n - 9 < 8) {  // 9..16 digits
    uint64_t hi, lo;
    if (!internal::UpTo8Digits(f.data(), n - 8, &hi) || !internal::UpTo8Digits(f.data() + n - 8, 8, &lo)) {
      return false;
    }
    v = hi * 100000000ULL + lo;
  } else {
    if (n == 0 || f[0] == '-' || f[0] == '+') return false;
    auto [ptr, ec] = std::from_chars(f.data(), f.data() + n, v);
    if (ec != std::errc() || ptr != f.data() + n) return false;
  }
  if (v > static_cast<uint64_t>(std::numeric_limits<T>::max())) return false;
  *out = static_cast<T>(v);
  return true;
}

// A dotted quad, strictly (four octets 0-255, no leading zeros), or false.
// REQUIRES: kPadding readable bytes at f.data().
[[gnu::always_inline]] inline bool ParseDottedQuad(std::string_view f, uint32_t* out) {
  const size_t n = f.size();
  if (n < 7 || n > 15) return false;
#if defined(__SSE2__)
  const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(f.data()));
  const __m128i d = _mm_sub_epi8(chunk, _mm_set1_epi8('0'));
  const auto field_mask = static_cast<uint32_t>((1u << n) - 1);
  const auto dots = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, _mm_set1_epi8('.')))) & field_mask;
  const auto digits = static_cast<uint32_t>(_mm_movemask_epi8(
                          _mm_and_si128(_mm_cmpgt_epi8(d, _mm_set1_epi8(-1)), _mm_cmplt_epi8(d, _mm_set1_epi8(10))))) &
                      field_mask;
  if ((dots | digits) != field_mask) return false;
  alignas(16) uint8_t buf[24] = {};  // digit values at buf[3 + i]; three zero bytes in front
  _mm_storeu_si128(reinterpret_cast<__m128i*>(buf + 3), d);
#else
  uint32_t dots = 0;
  uint8_t buf[24] = {};
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(f[i]);
    if (c == '.') {
      dots |= 1u << i;
    } else if (c - '0' <= 9u) {
      buf[3 + i] = static_cast<uint8_t>(c - '0');
    } else {
      return false;
    }
  }
#endif
  uint32_t ends[4];  // one past each octet: exactly three dots
  uint32_t rest = dots;
  for (int i = 0; i < 3; ++i) {
    if (rest == 0) return false;
    ends[i] = static_cast<uint32_t>(__builtin_ctz(rest));
    rest &= rest - 1;
  }
  if (rest != 0) return false;
  ends[3] = static_cast<uint32_t>(n);
  uint32_t value = 0, start = 0;
  bool ok = true;
  for (int i = 0; i < 4; ++i) {
    const uint32_t len = ends[i] - start;
    const uint8_t* e = buf + 3 + ends[i];  // e[-1] is the octet's last digit; e[-3] >= buf
    const uint32_t octet = e[-1] + (len >= 2) * 10u * e[-2] + (len >= 3) * 100u * e[-3];
    ok &= len - 1 < 3 && octet <= 255 && !(len > 1 && buf[3 + start] == 0);
    value = (value << 8) | (octet & 0xff);
    start = ends[i] + 1;
  }
  *out = value;
  return ok;
}

// Remembers the dotted quads it parsed, by their exact text: a flow log repeats the same few
// thousand addresses millions of times, and a lookup costs less than half a parse. A miss parses.
// Direct-mapped; 96 KiB. Not thread-safe (one per parser).
class DottedQuadCache {
 public:
  // REQUIRES: kPadding readable bytes at f.data().
  [[gnu::always_inline]] bool Parse(std::string_view f, uint32_t* out) {
    const size_t n = f.size();
    if (n - 7 > 8) return false;  // not 7..15 characters
    uint64_t w0, w1;
    std::memcpy(&w0, f.data(), 8);
    std::memcpy(&w1, f.data() + 8, 8);
    if (n <= 8) {  // keep the field's bytes only (little-endian: its first byte is the lowest)
      w0 &= n == 8 ? ~uint64_t{0} : (uint64_t{1} << (n * 8)) - 1;
      w1 = 0;
    } else {
      w1 &= (uint64_t{1} << ((n - 8) * 8)) - 1;
    }
    Entry& e = entries_[((w0 * 0x9e3779b97f4a7c15ULL) ^ (w1 * 0xc2b2ae3d27d4eb4fULL)) >> (64 - kBits)];
    if (e.w0 == w0 && e.w1 == w1 && e.size == n) {
      *out = e.value;
      return true;
    }
    if (!ParseDottedQuad(f, out)) return false;
    e = {w0, w1, *out, static_cast<uint32_t>(n)};
    return true;
  }

 private:
  static constexpr int kBits = 12;
  struct Entry {
    uint64_t w0, w1;  // the text, zero past its end
    uint32_t value;
    uint32_t size;  // 0: empty
  };
  Entry entries_[1 << kBits] = {};
};

// An IPv4 or IPv6 address. REQUIRES: kPadding readable bytes at f.data().
inline bool ParseAddressField(std::string_view f, net::Address* out, DottedQuadCache* cache = nullptr) {
  uint32_t v4;
  if (cache != nullptr ? cache->Parse(f, &v4) : ParseDottedQuad(f, &v4)) {
    *out = net::Address::V4(v4);
    return true;
  }
  if (auto a = net::ParseV6(f)) {  // dotted quads that failed above are invalid IPv6 too
    *out = *a;
    return true;
  }
  return false;
}

}  // namespace moat::flowlog
