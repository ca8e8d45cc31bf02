#include "watch/worker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>

namespace moat::watch {
namespace {

class FakeQueue : public Queue {
 public:
  Result<std::vector<aws::SqsMessage>> Receive(int, int, int) override {
    std::lock_guard lock(mu);
    if (batches.empty()) return std::vector<aws::SqsMessage>{};
    auto b = batches.front();
    batches.pop_front();
    return b;
  }
  Status Delete(const std::string& h) override {
    std::lock_guard lock(mu);
    deleted.push_back(h);
    return {};
  }
  Status Extend(const std::string& h, int seconds) override {
    std::lock_guard lock(mu);
    extended.emplace_back(h, seconds);
    return {};
  }
  std::mutex mu;
  std::deque<std::vector<aws::SqsMessage>> batches;
  std::vector<std::string> deleted;
  std::vector<std::pair<std::string, int>> extended;
};

const char* const kSchedule = R"({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}})";

TEST(WorkerTest, HandledDeletedFailedLeftInvalidDeleted) {
  FakeQueue q;
  q.batches = {{{"m1", "h1", kSchedule, 1}}, {{"m2", "h2", "{not json", 1}}, {{"m3", "h3", kSchedule, 2}}};
  int calls = 0;
  std::vector<std::string> logged;
  auto stats = RunWorker(
      q, q,
      [&](const events::EventWork& w, const aws::SqsMessage& m) {
        ++calls;
        EXPECT_TRUE(w.reconcile_all);
        return m.id == "m1";  // m3 fails
      },
      WorkerOptions{1, 0, 60, std::chrono::milliseconds(1000), 3}, nullptr, nullptr,
      [&](const std::string& l) { logged.push_back(l); });
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(stats->handled, 1);
  EXPECT_EQ(stats->failed, 1);
  EXPECT_EQ(stats->invalid, 1);
  EXPECT_EQ(q.deleted, (std::vector<std::string>{"h1", "h2"}));
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_EQ(logged[0], "moat: watch: sqs message m2: not valid JSON (deleted: retrying cannot help it)");
}

TEST(WorkerTest, VisibilityIsExtendedWhileWorking) {
  FakeQueue q, beat;
  q.batches = {{{"m1", "h1", kSchedule, 1}}};
  auto stats = RunWorker(
      q, beat,
      [&](const events::EventWork&, const aws::SqsMessage&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(120));
        return true;
      },
      WorkerOptions{1, 0, 45, std::chrono::milliseconds(20), 1}, nullptr, nullptr, nullptr);
  ASSERT_TRUE(stats);
  std::lock_guard lock(beat.mu);
  ASSERT_GE(beat.extended.size(), 2u);
  EXPECT_EQ(beat.extended[0], (std::pair<std::string, int>{"h1", 45}));
}

TEST(WorkerTest, StopsWhenAsked) {
  FakeQueue q;
  std::atomic<int> receives{0};
  auto stats = RunWorker(
      q, q, [](const events::EventWork&, const aws::SqsMessage&) { return true; }, WorkerOptions{1, 0, 60, {}, 0},
      [&] { return ++receives > 3; }, nullptr, nullptr);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->receives, 3);
}

}  // namespace
}  // namespace moat::watch
