#include "base/strings.h"

#include <gtest/gtest.h>

#include <limits>
#include <optional>

namespace moat {
namespace {

TEST(StringsTest, QuoteEscapesAndTruncates) {
  EXPECT_EQ(Quote("x"), "\"x\"");
  EXPECT_EQ(Quote(std::string("a\0b", 3)), "\"a\\x00b\"");
  EXPECT_EQ(Quote("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(Quote(std::string(100, 'z'), 5), "\"zzzzz...\"");
}

TEST(StringsTest, ThousandsSeparators) {
  EXPECT_EQ(WithThousands(0), "0");
  EXPECT_EQ(WithThousands(999), "999");
  EXPECT_EQ(WithThousands(1000), "1,000");
  EXPECT_EQ(WithThousands(1234567), "1,234,567");
}

TEST(StringsTest, SplitEscapedHonoursBackslashComma) {
  auto v = SplitEscaped("orders-db,tag:team=a\\,b,,x", ',');
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0], "orders-db");
  EXPECT_EQ(v[1], "tag:team=a,b");
  EXPECT_EQ(v[2], "x");
}

TEST(StringsTest, ParseIntAcceptsOnlyAWholeDecimalNumberInRange) {
  struct Case {
    const char* text;
    std::optional<int64_t> want;
  };
  const Case cases[] = {
      {"0", 0},
      {"5432", 5432},
      {"-1", -1},
      {"007", 7},
      {"9223372036854775807", std::numeric_limits<int64_t>::max()},
      {"-9223372036854775808", std::numeric_limits<int64_t>::min()},
      {"9223372036854775808", std::nullopt},  // overflow
      {"", std::nullopt},
      {"-", std::nullopt},
      {"+1", std::nullopt},
      {" 1", std::nullopt},
      {"1 ", std::nullopt},
      {"12abc", std::nullopt},
      {"0x1f", std::nullopt},
      {"1e3", std::nullopt},
      {"1.0", std::nullopt},
      {"--1", std::nullopt},
  };
  for (const Case& c : cases) EXPECT_EQ(ParseInt(c.text), c.want) << Quote(c.text);
}

TEST(StringsTest, ParseIntChecksTheGivenRange) {
  EXPECT_EQ(ParseInt("65535", -1, 65535), 65535);
  EXPECT_EQ(ParseInt("65536", -1, 65535), std::nullopt);
  EXPECT_EQ(ParseInt("-2", -1, 65535), std::nullopt);
}

TEST(StringsTest, ParseUintRejectsSignsAndOverflow) {
  EXPECT_EQ(ParseUint("18446744073709551615"), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(ParseUint("18446744073709551616"), std::nullopt);
  EXPECT_EQ(ParseUint("-1"), std::nullopt);
  EXPECT_EQ(ParseUint("+1"), std::nullopt);
  EXPECT_EQ(ParseUint("10", 9), std::nullopt);
  EXPECT_EQ(ParseUint("12abc"), std::nullopt);
}

TEST(StringsTest, ParseUtcReadsDatesAndTimesWithOptionalFraction) {
  EXPECT_EQ(ParseUtc("2024-05-01T00:00:00Z"), 1714521600);
  EXPECT_EQ(ParseUtc("2024-05-01T00:00:00.123Z"), 1714521600);
  EXPECT_EQ(ParseUtc("2024-05-01"), 1714521600);
  EXPECT_EQ(ParseUtc("2024-05-01T00:00:00"), std::nullopt);
  EXPECT_EQ(ParseUtc("2024-05-01T00:00:00.Z"), std::nullopt);
  EXPECT_EQ(ParseUtc("2024-02-30"), std::nullopt);
}

TEST(StringsTest, FormatUtc) { EXPECT_EQ(FormatUtc(1714521600), "2024-05-01T00:00:00Z"); }

constexpr int64_t kNow = 1793534400;  // 2026-11-01T12:00:00Z

TEST(ParseSince, RelativeWindowsCountBackFromNow) {
  EXPECT_EQ(*ParseSince("30m", kNow), kNow - 30 * 60);
  EXPECT_EQ(*ParseSince("12h", kNow), kNow - 12 * 3600);
  EXPECT_EQ(*ParseSince("7d", kNow), kNow - 7 * 86400);
  EXPECT_EQ(*ParseSince("2w", kNow), kNow - 14 * 86400);
  EXPECT_EQ(*ParseSince("1d", kNow), kNow - 86400);
}

TEST(ParseSince, UtcDateIsItsMidnightAndUtcTimeIsExact) {
  EXPECT_EQ(*ParseSince("2026-11-01", kNow), 1793491200);
  EXPECT_EQ(*ParseSince("2026-11-01T12:00:00Z", kNow), kNow);
  EXPECT_EQ(*ParseSince("1970-01-01", kNow), 0);
  EXPECT_EQ(*ParseSince("2024-02-29T23:59:59Z", kNow), 1709251199);
  EXPECT_EQ(*ParseSince("2000-03-01", kNow), 951868800);
}

TEST(ParseSince, AllMeansNoLimit) { EXPECT_EQ(*ParseSince("all", kNow), 0); }

TEST(ParseSince, RejectsAnythingElseQuotingIt) {
  const auto rejected = [](const char* bad) {
    const Result<int64_t> r = ParseSince(bad, kNow);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
    EXPECT_NE(r.error().message.find(Quote(bad)), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
  };
  for (const char* bad : {"", "7", "d", "7x", "7D", "0d", "-7d", "+7d", " 7d", "7d ", "1.5h", "ALL", "week"}) {
    rejected(bad);
  }
  for (const char* bad : {"99999999999999999999d", "2026-13-01", "2026-02-29", "2025-04-31", "2026-11-1"}) {
    rejected(bad);
  }
  for (const char* bad : {"2026/11/01", "2026-11-01T12:00:00", "2026-11-01T24:00:00Z", "2026-11-01 12:00:00Z"}) {
    rejected(bad);
  }
  rejected("2026-11-01T12:00Z");
  EXPECT_EQ(ParseSince("7y", kNow).error().message,
            "not a time window: \"7y\" (use 30m, 12h, 7d, 2w, a UTC date 2026-11-01 or time 2026-11-01T12:00:00Z, or "
            "all)");
}

}  // namespace
}  // namespace moat
