#include "net/address_set.h"

#include <gtest/gtest.h>

namespace moat::net {
namespace {

Address A(const char* s) { return *ParseAddress(s); }
Prefix P(const char* s) { return *ParsePrefix(s); }
std::vector<std::string> V(std::initializer_list<const char*> l) { return {l.begin(), l.end()}; }

TEST(PrefixTest, ParsesAndClearsHostBits) {
  EXPECT_EQ(ToString(P("10.0.0.0/24")), "10.0.0.0/24");
  EXPECT_EQ(ToString(P("10.0.0.5/24")), "10.0.0.0/24");
  EXPECT_EQ(ToString(P("10.0.0.5")), "10.0.0.5/32");
  EXPECT_EQ(ToString(P("0.0.0.0/0")), "0.0.0.0/0");
  EXPECT_EQ(ToString(P("2001:db8::1/32")), "2001:db8::/32");
  EXPECT_EQ(ToString(P("::/0")), "::/0");
  EXPECT_EQ(ToString(P("2001:db8::1")), "2001:db8::1/128");
  for (const char* bad : {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/x", "10.0.0/24", "::/129", "10.0.0.0/08", "/24"}) {
    EXPECT_FALSE(ParsePrefix(bad)) << bad;
  }
}

TEST(PrefixTest, PrefixOfAndLastAddress) {
  EXPECT_EQ(ToString(PrefixOf(*ParseAddress("10.0.2.45"), 24)), "10.0.2.0/24");
  EXPECT_EQ(ToString(PrefixOf(*ParseAddress("2001:db8:0:42::7"), 64)), "2001:db8:0:42::/64");
  EXPECT_EQ(ToString(PrefixOf(*ParseAddress("10.0.2.45"), 0)), "0.0.0.0/0");
  EXPECT_EQ(ToString(LastAddress(*ParsePrefix("10.0.2.0/24"))), "10.0.2.255");
  EXPECT_EQ(ToString(LastAddress(*ParsePrefix("10.0.2.7/32"))), "10.0.2.7");
  EXPECT_EQ(ToString(LastAddress(*ParsePrefix("2001:db8::/32"))), "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
  EXPECT_EQ(ToString(LastAddress(*ParsePrefix("0.0.0.0/0"))), "255.255.255.255");
}

TEST(AddressSetTest, RangesBecomeMinimalExactCidrs) {
  AddressSet s;
  s.AddRange(A("172.16.8.10"), A("172.16.8.13"));
  EXPECT_EQ(s.ToStrings(), V({"172.16.8.10/31", "172.16.8.12/31"}));
  AddressSet t;
  t.AddRange(A("10.0.0.1"), A("10.0.0.254"));
  EXPECT_EQ(t.ToStrings(), V({"10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/30", "10.0.0.8/29", "10.0.0.16/28",
                              "10.0.0.32/27", "10.0.0.64/26", "10.0.0.128/26", "10.0.0.192/27", "10.0.0.224/28",
                              "10.0.0.240/29", "10.0.0.248/30", "10.0.0.252/31", "10.0.0.254/32"}));
  EXPECT_EQ(t.Count(), 254u);
}

TEST(AddressSetTest, AdjacentAndOverlappingMergeIntoOnePrefix) {
  AddressSet s;
  s.Add(A("10.0.1.21"));
  s.Add(A("10.0.1.20"));
  EXPECT_EQ(s.ToStrings(), V({"10.0.1.20/31"}));
  s.Add(P("10.0.1.0/25"));
  s.Add(P("10.0.1.128/25"));
  EXPECT_EQ(s.ToStrings(), V({"10.0.1.0/24"}));
}

TEST(AddressSetTest, SubtractingAnExclusionLeavesTheExactRest) {
  AddressSet s;
  s.Add(P("192.168.50.0/24"));
  AddressSet cut;
  cut.Add(P("192.168.50.128/25"));
  s.Subtract(cut);
  EXPECT_EQ(s.ToStrings(), V({"192.168.50.0/25"}));
  AddressSet hole;
  hole.Add(A("192.168.50.7"));
  s.Subtract(hole);
  EXPECT_EQ(s.ToStrings(), V({"192.168.50.0/30", "192.168.50.4/31", "192.168.50.6/32", "192.168.50.8/29",
                              "192.168.50.16/28", "192.168.50.32/27", "192.168.50.64/26"}));
  EXPECT_FALSE(s.Contains(A("192.168.50.7")));
  EXPECT_TRUE(s.Contains(A("192.168.50.8")));
  EXPECT_EQ(s.Count(), 127u);
}

TEST(AddressSetTest, FamiliesStayApart) {
  AddressSet s;
  s.Add(P("::/0"));
  s.Add(P("0.0.0.0/0"));
  EXPECT_EQ(s.ToStrings(), V({"0.0.0.0/0", "::/0"}));
  EXPECT_EQ(s.Count(), UINT64_MAX);
  AddressSet v4;
  v4.Add(P("0.0.0.0/0"));
  s.Subtract(v4);
  EXPECT_EQ(s.ToStrings(), V({"::/0"}));
  EXPECT_FALSE(s.Contains(A("10.0.0.1")));
  EXPECT_TRUE(s.Contains(A("2001:db8::1")));
}

TEST(AddressSetTest, IPv6RangesAtTheTopOfTheSpace) {
  AddressSet s;
  s.AddRange(A("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"), A("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
  EXPECT_EQ(s.ToStrings(), V({"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127"}));
  AddressSet t;
  t.AddRange(A("2001:db8::1"), A("2001:db8::2"));
  EXPECT_EQ(t.ToStrings(), V({"2001:db8::1/128", "2001:db8::2/128"}));
}

TEST(AddressSetTest, IntersectKeepsOnlyCommonAddresses) {
  AddressSet a, b;
  a.Add(P("10.0.0.0/24"));
  a.Add(P("2001:db8::/64"));
  b.AddRange(A("10.0.0.200"), A("10.0.1.5"));
  b.Add(A("2001:db8::5"));
  EXPECT_EQ(a.Intersect(b).ToStrings(), V({"10.0.0.200/29", "10.0.0.208/28", "10.0.0.224/27", "2001:db8::5/128"}));
}

TEST(AddressSetTest, EqualityIgnoresHowTheSetWasBuilt) {
  AddressSet a, b;
  a.Add(P("10.0.0.0/31"));
  b.Add(A("10.0.0.1"));
  b.Add(A("10.0.0.0"));
  EXPECT_EQ(a, b);
  b.Add(A("10.0.0.2"));
  EXPECT_FALSE(a == b);
}

TEST(AddressSetTest, OverlapsIsWhetherTheIntersectionIsNotEmpty) {
  AddressSet s;
  s.Add(*ParsePrefix("10.0.0.8/30"));
  s.Add(*ParsePrefix("10.0.1.0/24"));
  s.Add(*ParsePrefix("2001:db8::/64"));
  for (const char* p : {"10.0.0.0/24", "10.0.0.9", "10.0.0.0/29", "10.0.0.12/30", "10.0.1.255", "10.0.0.0/8",
                        "0.0.0.0/0", "2001:db8::1", "2001:db8:0:1::/64", "::/0", "10.0.2.0/24", "192.0.2.1"}) {
    AddressSet just;
    just.Add(*ParsePrefix(p));
    EXPECT_EQ(s.Overlaps(*ParsePrefix(p)), !s.Intersect(just).empty()) << p;
  }
  EXPECT_FALSE(AddressSet().Overlaps(*ParsePrefix("0.0.0.0/0")));
}

}  // namespace
}  // namespace moat::net
