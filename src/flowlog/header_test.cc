#include "flowlog/header.h"

#include <gtest/gtest.h>

namespace moat::flowlog {
namespace {

constexpr const char* kV2 =
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
    "log-status";

TEST(HeaderTest, KnowsEveryFieldOfVersions2To8) {
  EXPECT_EQ(KnownFieldNames().size(), 40u);
  for (const char* f : {"tcp-flags", "pkt-srcaddr", "az-id", "traffic-path", "ecs-task-id", "reject-reason"}) {
    EXPECT_NE(std::find(KnownFieldNames().begin(), KnownFieldNames().end(), f), KnownFieldNames().end()) << f;
  }
}

TEST(HeaderTest, DefaultFormatMapsColumnsToSlots) {
  ASSERT_TRUE(LooksLikeHeader(kV2));
  Header h = ParseHeader(kV2);
  ASSERT_EQ(h.size(), 14u);
  EXPECT_EQ(h.slots[3], Slot::kSrcAddr);
  EXPECT_EQ(h.slots[6], Slot::kDstPort);
  EXPECT_EQ(h.slots[13], Slot::kLogStatus);
  EXPECT_EQ(h.slots[1], Slot::kOther);
  EXPECT_EQ(h.slots[2], Slot::kInterfaceId);
  EXPECT_TRUE(h.missing.empty());
  EXPECT_TRUE(h.unknown.empty());
}

TEST(HeaderTest, DataLinesAreNotHeaders) {
  EXPECT_FALSE(LooksLikeHeader("2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 1 ACCEPT OK"));
  EXPECT_FALSE(LooksLikeHeader("eni-1 10.0.0.1 10.0.0.2 443 5000 6"));
  EXPECT_FALSE(LooksLikeHeader("hello world"));  // no known field
  EXPECT_FALSE(LooksLikeHeader(""));
}

TEST(HeaderTest, UnknownFieldsAreCarriedNotRejected) {
  Header h = ParseHeader("srcaddr dstaddr srcport dstport protocol encryption-status resource-id");
  EXPECT_TRUE(h.missing.empty());
  ASSERT_EQ(h.unknown.size(), 2u);
  EXPECT_EQ(h.unknown[0], "encryption-status");
  EXPECT_EQ(h.slots[5], Slot::kUnknown);
}

TEST(HeaderTest, ReportsFieldsAFlowNeeds) {
  Header h = ParseHeader("version srcaddr dstaddr srcport packets bytes");
  ASSERT_EQ(h.missing.size(), 2u);
  EXPECT_EQ(h.missing[0], "dstport");
  EXPECT_EQ(h.missing[1], "protocol");
}

}  // namespace
}  // namespace moat::flowlog
