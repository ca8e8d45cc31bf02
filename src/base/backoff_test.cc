#include "base/backoff.h"

#include <gtest/gtest.h>

namespace moat {
namespace {

TEST(BackoffTest, DoublesWithinHalfToFullAndIsCapped) {
  Backoff b(std::chrono::milliseconds(100), std::chrono::milliseconds(1000));
  for (int attempt = 1; attempt <= 30; ++attempt) {
    const int64_t full = std::min<int64_t>(100LL << std::min(attempt - 1, 20), 1000);
    const auto d = b.Delay(attempt).count();
    EXPECT_GE(d, full / 2) << attempt;
    EXPECT_LE(d, full) << attempt;
  }
}

}  // namespace
}  // namespace moat
