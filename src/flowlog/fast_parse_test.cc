#include "flowlog/fast_parse.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace moat::flowlog {
namespace {

// Holds a field with kPadding bytes after it, the way the reader's buffer does; the padding
// is filled with digits and dots so that a parser reading past the field would notice.
struct Padded {
  explicit Padded(const std::string& s) : text(s + std::string(kPadding, '7')) {
    text[s.size()] = ' ';
    size = s.size();
  }
  std::string_view view() const { return std::string_view(text.data(), size); }
  std::string text;
  size_t size;
};

std::optional<uint64_t> Slow(const std::string& s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    if (v > (UINT64_MAX - (c - '0')) / 10) return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

TEST(FastParseTest, UnsignedMatchesAReferenceForEveryLength) {
  const std::string digits = "98765432109876543210";
  for (size_t n = 1; n <= 20; ++n) {
    for (size_t off = 0; off + n <= digits.size(); ++off) {
      const std::string s = digits.substr(off, n);
      uint64_t v = 0;
      const bool ok = ParseUnsigned(Padded(s).view(), &v);
      auto want = Slow(s);
      ASSERT_EQ(ok, want.has_value()) << s;
      if (ok) {
        ASSERT_EQ(v, *want) << s;
      }
    }
  }
}

TEST(FastParseTest, UnsignedRejectsNonDigitsAnywhere) {
  for (const char* bad :
       {"", "-1", "+1", "1a", "a1", "12345678x", "x2345678", "1234567890x", "1 2", "1.5", "123456789012345678901"}) {
    uint64_t v;
    EXPECT_FALSE(ParseUnsigned(Padded(bad).view(), &v)) << bad;
  }
  // Every byte value in every position of an 8-digit field.
  for (int pos = 0; pos < 8; ++pos) {
    for (int c = 0; c < 256; ++c) {
      std::string s = "12345678";
      s[static_cast<size_t>(pos)] = static_cast<char>(c);
      uint64_t v;
      ASSERT_EQ(ParseUnsigned(Padded(s).view(), &v), c >= '0' && c <= '9') << pos << " " << c;
    }
  }
}

TEST(FastParseTest, UnsignedChecksTheTargetRange) {
  uint16_t port;
  EXPECT_TRUE(ParseUnsigned(Padded("65535").view(), &port));
  EXPECT_EQ(port, 65535);
  EXPECT_FALSE(ParseUnsigned(Padded("65536").view(), &port));
  int64_t t;
  EXPECT_TRUE(ParseUnsigned(Padded("9223372036854775807").view(), &t));
  EXPECT_FALSE(ParseUnsigned(Padded("9223372036854775808").view(), &t));
  uint64_t big;
  EXPECT_TRUE(ParseUnsigned(Padded("18446744073709551615").view(), &big));
  EXPECT_FALSE(ParseUnsigned(Padded("18446744073709551616").view(), &big));
}

TEST(FastParseTest, DottedQuadMatchesTheStrictParserOnManyForms) {
  // Every octet length combination, with values at the edges.
  const char* octets[] = {"0", "9", "10", "99", "100", "255", "256", "01", "001", "999", "", "1000"};
  for (const char* a : octets) {
    for (const char* b : octets) {
      for (const char* c : {"0", "45", "255", "256", "07"}) {
        for (const char* d : octets) {
          const std::string s = std::string(a) + "." + b + "." + c + "." + d;
          uint32_t v = 0;
          const bool ok = ParseDottedQuad(Padded(s).view(), &v);
          auto want = net::ParseV4(s);
          ASSERT_EQ(ok, want.has_value()) << s;
          if (ok) {
            ASSERT_EQ(v, want->lo) << s;
          }
        }
      }
    }
  }
}

TEST(FastParseTest, DottedQuadRejectsOtherShapes) {
  for (const char* bad : {"10.0.0", "10.0.0.1.", ".10.0.0.1", "10..0.1", "10.0.0.1.2", "1.2.3.4x", "a.b.c.d",
                          "1234.1.1.1", "2001:db8::1", "10.0.0.-1", "1.2.3.4/32"}) {
    uint32_t v;
    EXPECT_FALSE(ParseDottedQuad(Padded(bad).view(), &v)) << bad;
  }
}

TEST(FastParseTest, CachedDottedQuadsAgreeWithParsingThemAgain) {
  DottedQuadCache cache;
  std::vector<std::string> inputs;
  inputs.reserve(20004);
  for (int i = 0; i < 20000; ++i) {
    inputs.push_back(std::to_string(i % 7 * 40) + "." + std::to_string(i % 256) + "." + std::to_string(i % 13) + "." +
                     std::to_string(i * 7 % 300));
  }
  inputs.push_back("10.0.2.4");  // the same first bytes as a longer address
  inputs.push_back("10.0.2.45");
  inputs.push_back("10.0.2.4");
  inputs.push_back("1.2.3.4");  // seven characters
  for (int round = 0; round < 2; ++round) {
    for (const auto& s : inputs) {
      uint32_t a = 0, b = 0;
      const bool ok_cached = cache.Parse(Padded(s).view(), &a);
      const bool ok_plain = ParseDottedQuad(Padded(s).view(), &b);
      ASSERT_EQ(ok_cached, ok_plain) << s;
      if (ok_plain) {
        ASSERT_EQ(a, b) << s;
      }
    }
  }
}

TEST(FastParseTest, AddressFieldTakesBothFamilies) {
  net::Address a;
  ASSERT_TRUE(ParseAddressField(Padded("10.0.2.45").view(), &a));
  EXPECT_EQ(net::ToString(a), "10.0.2.45");
  ASSERT_TRUE(ParseAddressField(Padded("2001:db8::45").view(), &a));
  EXPECT_EQ(net::ToString(a), "2001:db8::45");
  EXPECT_FALSE(ParseAddressField(Padded("10.0.2.256").view(), &a));
  EXPECT_FALSE(ParseAddressField(Padded("-").view(), &a));
}

}  // namespace
}  // namespace moat::flowlog
