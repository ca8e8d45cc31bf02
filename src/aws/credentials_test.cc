#include "aws/credentials.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "testing/fake_clock.h"

namespace moat::aws {
namespace {

// Hands out ASIA1, ASIA2, ... each valid for `lifetime_seconds` from the clock's now (0: forever).
struct Source {
  moat::testing::FakeClock& clock;
  int64_t lifetime_seconds;
  std::atomic<int> calls{0};
  bool failing = false;
  Result<Credentials> operator()() {
    const int n = ++calls;
    if (failing) return Fail(Transient("container credentials: connection refused"));
    return Credentials{"ASIA" + std::to_string(n), "secret", "token",
                       lifetime_seconds == 0 ? 0 : clock.WallSeconds() + lifetime_seconds};
  }
};

TEST(CredentialsTest, ExpiringCredentialsAreRenewedWhenLessThanFiveMinutesRemain) {
  moat::testing::FakeClock clock;
  Source source{clock, 3600};
  RefreshingCredentials provider([&] { return source(); }, clock);
  EXPECT_EQ(provider.Get()->access_key_id, "ASIA1");
  clock.Advance(std::chrono::seconds(3600 - 300));  // exactly 5 minutes left
  EXPECT_EQ(provider.Get()->access_key_id, "ASIA1");
  clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(provider.Get()->access_key_id, "ASIA2");
  EXPECT_EQ(provider.Get()->access_key_id, "ASIA2");
  EXPECT_EQ(provider.fetches(), 2);
}

TEST(CredentialsTest, CredentialsWithoutExpiryAreNeverRenewedByTime) {
  moat::testing::FakeClock clock;
  Source source{clock, 0};
  RefreshingCredentials provider([&] { return source(); }, clock);
  EXPECT_EQ(provider.Get()->access_key_id, "ASIA1");
  clock.Advance(std::chrono::hours(24 * 400));
  EXPECT_EQ(provider.Get()->access_key_id, "ASIA1");
  EXPECT_EQ(provider.fetches(), 1);
}

TEST(CredentialsTest, AFailedRenewalKeepsTheOldCredentialsWhileTheyStillWork) {
  moat::testing::FakeClock clock;
  Source source{clock, 600};
  RefreshingCredentials provider([&] { return source(); }, clock);
  ASSERT_EQ(provider.Get()->access_key_id, "ASIA1");
  source.failing = true;
  clock.Advance(std::chrono::seconds(400));  // 200 s left: renewal due, and failing
  EXPECT_EQ(provider.Get()->access_key_id, "ASIA1");
  clock.Advance(std::chrono::seconds(200));  // expired: the failure is the answer
  auto c = provider.Get();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message, "container credentials: connection refused");
}

TEST(CredentialsTest, RefreshAfterARejectionFetchesOnceForAllThreads) {
  moat::testing::FakeClock clock;
  Source source{clock, 3600};
  RefreshingCredentials provider([&] { return source(); }, clock);
  const Credentials first = *provider.Get();
  std::vector<std::thread> threads;
  threads.reserve(8);
  std::vector<std::string> seen(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] { seen[i] = provider.Refresh(first)->access_key_id; });
  }
  for (auto& t : threads) t.join();
  for (const std::string& id : seen) EXPECT_EQ(id, "ASIA2");
  EXPECT_EQ(provider.fetches(), 2);
}

TEST(CredentialsTest, StaticCredentialsStayTheSameOnRefresh) {
  StaticCredentials provider({"AKID", "secret", ""});
  EXPECT_TRUE(SameCredentials(*provider.Refresh(*provider.Get()), Credentials{"AKID", "secret", ""}));
}

}  // namespace
}  // namespace moat::aws
