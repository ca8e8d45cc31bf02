#include "base/strings.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <limits>
#include <optional>
#include <utility>

namespace moat {

std::string Quote(std::string_view s, size_t max_len) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  const bool cut = s.size() > max_len;
  if (cut) s = s.substr(0, max_len);
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (cut) out += "...";
  out += '"';
  return out;
}

std::string WithThousands(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  out.reserve(digits.size() + digits.size() / 3);
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::vector<std::string> SplitEscaped(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::string item;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == sep) {
      item += sep;
      ++i;
    } else if (s[i] == sep) {
      if (!item.empty()) out.push_back(std::move(item));
      item.clear();
    } else {
      item += s[i];
    }
  }
  if (!item.empty()) out.push_back(std::move(item));
  return out;
}

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string FormatUtc(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return std::to_string(unix_seconds);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

namespace {

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// Reads exactly `digits` decimal digits at `pos` of `s` when they lie within [lo, hi].
bool Digits(std::string_view s, size_t pos, size_t digits, int lo, int hi, int* out) {
  if (pos + digits > s.size()) return false;
  const char* first = s.data() + pos;
  if (!std::all_of(first, first + digits, [](char c) { return c >= '0' && c <= '9'; })) return false;
  int value = 0;
  if (std::from_chars(first, first + digits, value).ec != std::errc()) return false;
  *out = value;
  return value >= lo && value <= hi;
}

}  // namespace

std::optional<int64_t> ParseInt(std::string_view s, int64_t min, int64_t max) {
  int64_t v = 0;
  const char* end = s.data() + s.size();
  const auto [p, ec] = std::from_chars(s.data(), end, v);
  if (s.empty() || ec != std::errc() || p != end || v < min || v > max) return std::nullopt;
  return v;
}

std::optional<uint64_t> ParseUint(std::string_view s, uint64_t max) {
  uint64_t v = 0;
  const char* end = s.data() + s.size();
  const auto [p, ec] = std::from_chars(s.data(), end, v);
  if (s.empty() || ec != std::errc() || p != end || v > max) return std::nullopt;
  return v;
}

std::optional<int64_t> ParseUtc(std::string_view s) {
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (s.size() > 20 && s[19] == '.' && s.back() == 'Z') {  // fractional seconds: dropped
    const std::string_view fraction = s.substr(20, s.size() - 21);
    if (fraction.empty() || !std::all_of(fraction.begin(), fraction.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::nullopt;
    return ParseUtc(std::string(s.substr(0, 19)) + "Z");
  }
  if (s.size() != 10 && s.size() != 20) return std::nullopt;
  if (!Digits(s, 0, 4, 0, 9999, &y) || s[4] != '-' || !Digits(s, 5, 2, 1, 12, &mo) || s[7] != '-' ||
      !Digits(s, 8, 2, 1, 31, &d)) {
    return std::nullopt;
  }
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  constexpr int kMonthDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (d > kMonthDays[mo - 1] + (mo == 2 && leap)) return std::nullopt;
  if (s.size() == 20 &&
      (s[10] != 'T' || !Digits(s, 11, 2, 0, 23, &h) || s[13] != ':' || !Digits(s, 14, 2, 0, 59, &mi) || s[16] != ':' ||
       !Digits(s, 17, 2, 0, 59, &sec) || s[19] != 'Z')) {
    return std::nullopt;
  }
  return DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
}

Result<int64_t> ParseSince(std::string_view text, int64_t now) {
  if (text == "all") return int64_t{0};
  if (std::optional<int64_t> t = ParseUtc(text)) return *t;
  static constexpr std::pair<char, int64_t> kUnits[] = {{'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 7 * 86400}};
  for (const auto& [unit, seconds] : kUnits) {
    if (text.size() < 2 || text.back() != unit) continue;
    int64_t n = 0;
    const char* end = text.data() + text.size() - 1;
    const auto [p, ec] = std::from_chars(text.data(), end, n);
    if (ec != std::errc() || p != end || n <= 0 || n > std::numeric_limits<int64_t>::max() / 2 / seconds) break;
    return now - n * seconds;
  }
  return Fail(InvalidInput("not a time window: " + Quote(text) +
                           " (use 30m, 12h, 7d, 2w, a UTC date 2026-11-01 or time 2026-11-01T12:00:00Z, or all)"));
}

}  // namespace moat
