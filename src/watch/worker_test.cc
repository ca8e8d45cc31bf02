#include "watch/worker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "testing/fake_clock.h"

namespace moat::watch {
namespace {

class FakeQueue : public Queue {
 public:
  Result<std::vector<aws::SqsMessage>> Receive(int, int, int) override {
    std::lock_guard lock(mu);
    if (!errors.empty()) {
      Error e = errors.front();
      errors.pop_front();
      return Fail(std::move(e));
    }
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
  std::deque<Error> errors;  // answered first, one per receive
  std::deque<std::vector<aws::SqsMessage>> batches;
  std::vector<std::string> deleted;
  std::vector<std::pair<std::string, int>> extended;
};

const char* const kSchedule = R"({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}})";

TEST(WorkerTest, HandledDeletedFailedLeftInvalidDeleted) {
  FakeQueue q;
  moat::testing::FakeClock clock;
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
      WorkerOptions{1, 0, 60, std::chrono::milliseconds(1000), 3}, clock, nullptr, nullptr,
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

TEST(WorkerTest, ObjectsOfBucketsNotConfiguredAreRefusedLoggedAndTheMessageConsumed) {
  FakeQueue q;
  moat::testing::FakeClock clock;
  const std::string event = R"({"Records": [
    {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "flow-logs"}, "object": {"key": "AWSLogs/a.log.gz"}}},
    {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "other-bucket"}, "object": {"key": "AWSLogs/b.log.gz"}}}]})";
  q.batches = {{{"m1", "h1", event, 1}}};
  WorkerOptions options{1, 0, 60, std::chrono::milliseconds(1000), 1};
  options.sources = {{"flow-logs"}};
  std::vector<events::ObjectRef> handed;
  std::vector<std::string> logged;
  auto stats = RunWorker(
      q, q,
      [&](const events::EventWork& w, const aws::SqsMessage&) {
        handed = w.objects;
        return true;
      },
      options, clock, nullptr, nullptr, [&](const std::string& l) { logged.push_back(l); });
  ASSERT_TRUE(stats) << stats.error().message;
  ASSERT_EQ(handed.size(), 1u);  // only the configured bucket's object is worked on
  EXPECT_EQ(handed[0].bucket, "flow-logs");
  EXPECT_EQ(stats->refused, 1);
  EXPECT_EQ(q.deleted, std::vector<std::string>{"h1"});  // not redelivered: a refusal cannot change
  EXPECT_EQ(logged, std::vector<std::string>{
                        "moat: watch: sqs message m1: Records[1].s3: \"s3://other-bucket/AWSLogs/b.log.gz\": refused: "
                        "not a configured flow-log bucket (--flow-log-bucket, MOAT_FLOW_LOG_BUCKET)"});
}

// Waits (really, briefly) until `done` says so; false after 10 s.
bool Eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 1000 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return done();
}

TEST(WorkerTest, VisibilityIsExtendedEveryPeriodWhileWorking) {
  FakeQueue q, beat;
  moat::testing::FakeClock clock;
  q.batches = {{{"m1", "h1", kSchedule, 1}}};
  const auto extensions = [&] {
    std::lock_guard lock(beat.mu);
    return beat.extended.size();
  };
  auto stats = RunWorker(
      q, beat,
      [&](const events::EventWork&, const aws::SqsMessage&) {
        clock.Advance(std::chrono::milliseconds(19999));
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        EXPECT_EQ(extensions(), 0u);  // not yet a period
        clock.Advance(std::chrono::milliseconds(1));
        EXPECT_TRUE(Eventually([&] { return extensions() == 1; }));
        clock.Advance(std::chrono::milliseconds(20000));
        EXPECT_TRUE(Eventually([&] { return extensions() == 2; }));
        return true;
      },
      WorkerOptions{1, 0, 45, std::chrono::milliseconds(20000), 1}, clock, nullptr, nullptr, nullptr);
  ASSERT_TRUE(stats);
  std::lock_guard lock(beat.mu);
  ASSERT_EQ(beat.extended.size(), 2u);
  EXPECT_EQ(beat.extended[0], (std::pair<std::string, int>{"h1", 45}));
}

TEST(WorkerTest, FailedReceivesAreRetriedWithBackoffUntilTheQueueAnswers) {
  FakeQueue q;
  moat::testing::FakeClock clock;
  q.errors = {Transient("sqs ReceiveMessage: HTTP 503 (gave up after 6 attempts)"),
              Transient("sqs ReceiveMessage: connection refused (gave up after 6 attempts)"),
              Transient("sqs ReceiveMessage: connection refused (gave up after 6 attempts)")};
  q.batches = {{{"m1", "h1", kSchedule, 1}}};
  std::vector<std::string> logged;
  WorkerOptions o{1, 0, 60, std::chrono::milliseconds(20000), 4};
  o.retry_base = std::chrono::milliseconds(1000);
  o.retry_max = std::chrono::milliseconds(3000);
  auto stats = RunWorker(
      q, q, [](const events::EventWork&, const aws::SqsMessage&) { return true; }, o, clock, nullptr, nullptr,
      [&](const std::string& l) { logged.push_back(l); });
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(stats->receive_errors, 3);
  EXPECT_EQ(stats->handled, 1);
  EXPECT_EQ(q.deleted, std::vector<std::string>{"h1"});
  // 1 s, 2 s, then the 3 s cap, each 50-100 %, slept in pieces of at most a second.
  int64_t slept = 0;
  for (const auto& s : clock.sleeps()) {
    EXPECT_LE(s.count(), 1000);
    slept += s.count();
  }
  EXPECT_GE(slept, 500 + 1000 + 1500);
  EXPECT_LE(slept, 1000 + 2000 + 3000);
  ASSERT_EQ(logged.size(), 3u);
  EXPECT_TRUE(
      logged[0].starts_with("moat: watch: sqs ReceiveMessage: HTTP 503 (gave up after 6 attempts) "
                            "(receiving again in "))
      << logged[0];
}

TEST(WorkerTest, AQueueThatCannotWorkStopsTheWorkerSayingWhy) {
  for (const Error& e : {NotFound("sqs ReceiveMessage: AWS.SimpleQueueService.NonExistentQueue: no queue"),
                         InvalidInput("sqs ReceiveMessage: InvalidAddress: bad url"),
                         Error{ErrorCode::kDenied, "sqs ReceiveMessage: AccessDenied: not allowed"}}) {
    FakeQueue q;
    moat::testing::FakeClock clock;
    q.errors = {e};
    auto stats = RunWorker(
        q, q, [](const events::EventWork&, const aws::SqsMessage&) { return true; }, WorkerOptions{}, clock, nullptr,
        nullptr, nullptr);
    ASSERT_FALSE(stats) << e.message;
    EXPECT_EQ(stats.error().code, e.code);
    EXPECT_EQ(stats.error().message, e.message + " (the queue cannot be read as configured: not retried)");
    EXPECT_TRUE(clock.sleeps().empty());
  }
}

TEST(WorkerTest, AStopDuringABackoffEndsTheWaitEarly) {
  FakeQueue q;
  moat::testing::FakeClock clock;
  for (int i = 0; i < 100; ++i) q.errors.push_back(Transient("sqs ReceiveMessage: connection refused"));
  WorkerOptions o;
  o.retry_base = std::chrono::milliseconds(60000);
  o.retry_max = std::chrono::milliseconds(60000);
  auto stats = RunWorker(
      q, q, [](const events::EventWork&, const aws::SqsMessage&) { return true; }, o, clock,
      [&] { return clock.sleeps().size() >= 3; }, nullptr, nullptr);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->receives, 1);
  EXPECT_EQ(clock.sleeps().size(), 3u);  // three seconds of a 30-60 s wait
}

TEST(WorkerTest, StopsWhenAsked) {
  FakeQueue q;
  moat::testing::FakeClock clock;
  std::atomic<int> receives{0};
  auto stats = RunWorker(
      q, q, [](const events::EventWork&, const aws::SqsMessage&) { return true; }, WorkerOptions{1, 0, 60, {}, 0},
      clock, [&] { return ++receives > 3; }, nullptr, nullptr);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->receives, 3);
}

}  // namespace
}  // namespace moat::watch
