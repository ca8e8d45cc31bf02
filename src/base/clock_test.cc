#include "base/clock.h"

#include <gtest/gtest.h>

#include "testing/fake_clock.h"

namespace moat {
namespace {

TEST(ClockTest, SystemClockMovesForwardAndAgreesWithTheWall) {
  Clock& clock = SystemClock();
  const int64_t m1 = clock.MonotonicMs();
  clock.Sleep(std::chrono::milliseconds(2));
  EXPECT_GE(clock.MonotonicMs() - m1, 2);
  EXPECT_GT(clock.WallSeconds(), 1700000000);  // after 2023-11
}

TEST(ClockTest, FakeClockSleepsAdvanceTimeAtOnce) {
  testing::FakeClock clock(1000000);
  clock.Sleep(std::chrono::milliseconds(1500));
  clock.Advance(std::chrono::milliseconds(500));
  EXPECT_EQ(clock.WallMs(), 1002000);
  EXPECT_EQ(clock.WallSeconds(), 1002);
  ASSERT_EQ(clock.sleeps().size(), 1u);
  EXPECT_EQ(clock.sleeps()[0], std::chrono::milliseconds(1500));
}

}  // namespace
}  // namespace moat
