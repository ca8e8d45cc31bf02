#include "base/strings.h"

#include <gtest/gtest.h>

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

TEST(StringsTest, FormatUtc) { EXPECT_EQ(FormatUtc(1714521600), "2024-05-01T00:00:00Z"); }

}  // namespace
}  // namespace moat
