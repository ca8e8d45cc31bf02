#include "base/result.h"

#include <gtest/gtest.h>

#include <string>

namespace moat {
namespace {

Result<int> ParsePositive(int v) {
  if (v <= 0) return Fail(InvalidInput("not positive"));
  return v;
}

TEST(ResultTest, HoldsValueOrError) {
  auto ok = ParsePositive(3);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 3);
  auto bad = ParsePositive(-1);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(bad.error().message, "not positive");
}

TEST(ResultTest, ContextPrefixesWhere) {
  Error e = InvalidInput("field 'dstport': not an integer");
  Error with = std::move(e).Context("a.log.gz:17");
  EXPECT_EQ(with.message, "a.log.gz:17: field 'dstport': not an integer");
}

TEST(ResultTest, StatusDefaultsToSuccess) {
  Status s;
  EXPECT_TRUE(s);
  Status f = Fail(NotFound("no such file"));
  EXPECT_FALSE(f);
  EXPECT_EQ(f.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace moat
