#include "net/address.h"

#include <gtest/gtest.h>

namespace moat::net {
namespace {

TEST(AddressTest, ParsesDottedQuad) {
  auto a = ParseV4("10.0.2.45");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->lo, 0x0a00022du);
  EXPECT_EQ(ToString(*a), "10.0.2.45");
  EXPECT_EQ(ToString(*ParseV4("255.255.255.255")), "255.255.255.255");
  EXPECT_EQ(ToString(*ParseV4("0.0.0.0")), "0.0.0.0");
}

TEST(AddressTest, RejectsMalformedV4) {
  for (const char* bad : {"", "10.0.2", "10.0.2.45.1", "256.0.0.1", "10.0.02.1", "1.2.3.4 ", "a.b.c.d", "10..2.45",
                          "1234.1.1.1", "-", "10.0.2.45/32"}) {
    EXPECT_FALSE(ParseV4(bad)) << bad;
  }
}

TEST(AddressTest, ParsesV6Forms) {
  auto a = ParseV6("2001:db8::1");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->hi, 0x20010db800000000u);
  EXPECT_EQ(a->lo, 1u);
  EXPECT_EQ(*ParseV6("2001:0DB8:0:0:0:0:0:1"), *a);
  EXPECT_TRUE(ParseV6("::"));
  EXPECT_TRUE(ParseV6("::1"));
  EXPECT_TRUE(ParseV6("fe80::"));
  EXPECT_EQ(ToString(*ParseV6("::ffff:10.0.0.1")), "::ffff:10.0.0.1");
}

TEST(AddressTest, RejectsMalformedV6) {
  for (const char* bad : {":", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "g::1",
                          "1:", "1:2:3:4:5:6:7:8::", "::1.2.3", "[::1]", "fe80::1%eth0"}) {
    EXPECT_FALSE(ParseV6(bad)) << bad;
  }
}

TEST(AddressTest, FormatsRfc5952) {
  EXPECT_EQ(ToString(*ParseV6("2001:db8:0:0:0:0:2:1")), "2001:db8::2:1");
  // A single zero group is not compressed.
  EXPECT_EQ(ToString(*ParseV6("2001:db8:0:1:1:1:1:1")), "2001:db8:0:1:1:1:1:1");
  // The first of two equally long runs is compressed.
  EXPECT_EQ(ToString(*ParseV6("2001:0:0:1:0:0:1:1")), "2001::1:0:0:1:1");
  // The longest run wins.
  EXPECT_EQ(ToString(*ParseV6("2001:db8:0:0:1:0:0:0")), "2001:db8:0:0:1::");
  EXPECT_EQ(ToString(*ParseV6("0:0:0:0:0:0:0:0")), "::");
  EXPECT_EQ(ToString(*ParseV6("2001:DB8::ABCD")), "2001:db8::abcd");
}

TEST(AddressTest, OrdersV4BeforeV6ThenNumerically) {
  EXPECT_LT(*ParseV4("10.0.0.2"), *ParseV4("10.0.0.10"));
  EXPECT_LT(*ParseV4("255.255.255.255"), *ParseV6("::"));
  EXPECT_NE(*ParseV4("10.0.0.1"), *ParseV6("::ffff:10.0.0.1"));
}

}  // namespace
}  // namespace moat::net
