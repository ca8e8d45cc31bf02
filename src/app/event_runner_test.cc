#include "app/event_runner.h"

#include <gtest/gtest.h>

#include "testing/fake_clock.h"

namespace moat::app {
namespace {

// A handler that makes `changes` audited changes, as apply does.
EventRunner::Handler Changing(int changes) {
  return [changes](const events::EventWork&, const HandleRequest&, const HandleDeps& deps) -> Result<HandleReport> {
    for (int i = 0; i < changes; ++i) {
      apply::AuditEntry e;
      e.target = "orders-db";
      e.group = "sg-m1";
      e.change = "revoke";
      e.rule = "tcp 5432 from 0.0.0.0/0";
      e.drift = true;
      if (auto st = deps.enforce.audit->Write(e); !st) return Fail(std::move(st).error());
    }
    return HandleReport{};
  };
}

struct Puts {
  std::vector<std::pair<std::string, std::string>> objects;
  bool fail = false;
  EventRunner::PutObject Fn() {
    return [this](const std::string& name, const std::string& bytes) -> Status {
      if (fail) return Fail(Transient("SlowDown: reduce your request rate"));
      objects.emplace_back(name, bytes);
      return {};
    };
  }
};

EventRunner Runner(const std::string& state_dir, EventRunner::Handler handler, Puts& puts, Clock& clock,
                   apply::MemoryAuditLog** lines) {
  EventRunnerOptions options;
  options.enforce.state_dir = state_dir;
  auto log = std::make_unique<apply::MemoryAuditLog>();
  *lines = log.get();
  return EventRunner(options, HandleDeps{}, std::move(handler), puts.Fn(), clock, std::move(log), nullptr);
}

TEST(EventRunnerTest, WithTheStateInS3EachEventsChangesAreOneObject) {
  testing::FakeClock clock(1764547200000);
  Puts puts;
  apply::MemoryAuditLog* lines = nullptr;
  EventRunner runner = Runner("s3://moat-state/moat/state/", Changing(2), puts, clock, &lines);
  EXPECT_EQ(runner.audit_prefix(), "s3://moat-state/moat/audit/");
  auto report = runner.Handle(events::EventWork{}, 0, "req-1");
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_FALSE(report->Failed());
  EXPECT_EQ(lines->entries.size(), 2u);  // the function's log has every change too
  ASSERT_EQ(puts.objects.size(), 1u);
  EXPECT_EQ(puts.objects[0].first, "s3://moat-state/moat/audit/1764547200-req-1.jsonl");
  const std::string& body = puts.objects[0].second;
  EXPECT_EQ(std::count(body.begin(), body.end(), '\n'), 2);
  EXPECT_NE(body.find("\"time\":\"2025-12-01T00:00:00Z\""), std::string::npos) << body;

  // The next event starts a new object with only its own changes; one with none writes none.
  clock.Advance(std::chrono::seconds(5));
  ASSERT_TRUE(runner.Handle(events::EventWork{}, 0, "req-2"));
  ASSERT_EQ(puts.objects.size(), 2u);
  EXPECT_EQ(puts.objects[1].first, "s3://moat-state/moat/audit/1764547205-req-2.jsonl");
  EXPECT_EQ(std::count(puts.objects[1].second.begin(), puts.objects[1].second.end(), '\n'), 2);
}

TEST(EventRunnerTest, AnEventWithoutChangesWritesNoAuditObject) {
  testing::FakeClock clock;
  Puts puts;
  apply::MemoryAuditLog* lines = nullptr;
  EventRunner runner = Runner("s3://moat-state/moat/state/", Changing(0), puts, clock, &lines);
  ASSERT_TRUE(runner.Handle(events::EventWork{}, 0, "req-1"));
  EXPECT_TRUE(puts.objects.empty());
}

TEST(EventRunnerTest, AnAuditObjectThatCannotBeWrittenFailsTheEventAndSaysWhatIsUnaudited) {
  testing::FakeClock clock(1764547200000);
  Puts puts;
  puts.fail = true;
  apply::MemoryAuditLog* lines = nullptr;
  EventRunner runner = Runner("s3://moat-state/moat/state/", Changing(3), puts, clock, &lines);
  auto report = runner.Handle(events::EventWork{}, 0, "req-1");
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->Failed());
  ASSERT_EQ(report->errors.size(), 1u);
  EXPECT_EQ(report->errors[0],
            "audit log s3://moat-state/moat/audit/1764547200-req-1.jsonl: SlowDown: reduce your request rate; 3 "
            "change(s) made by this event are not in it");
}

TEST(EventRunnerTest, WithALocalStateThereAreNoAuditObjects) {
  testing::FakeClock clock;
  Puts puts;
  apply::MemoryAuditLog* lines = nullptr;
  EventRunner runner = Runner("/var/lib/moat", Changing(1), puts, clock, &lines);
  EXPECT_EQ(runner.audit_prefix(), "");
  ASSERT_TRUE(runner.Handle(events::EventWork{}, 0, "req-1"));
  EXPECT_TRUE(puts.objects.empty());
  EXPECT_EQ(lines->entries.size(), 1u);
}

TEST(EventRunnerTest, SettingsAreCheckedOnceAtStartNamingTheOption) {
  EventRunnerOptions options;
  options.enforce.policy = "pce";
  options.sources.buckets = {"flow-logs", "other.logs"};
  EXPECT_TRUE(CheckEventOptions(options));
  options.enforce.mode = "bogus";
  auto mode = CheckEventOptions(options);
  ASSERT_FALSE(mode);
  EXPECT_EQ(mode.error().message, "--mode: expected enforce or visibility, got \"bogus\"");
  options.enforce.mode = "visibility";
  options.sources.buckets.push_back("Flow_Logs");
  auto bucket = CheckEventOptions(options);
  ASSERT_FALSE(bucket);
  EXPECT_EQ(bucket.error().message,
            "--flow-log-bucket \"Flow_Logs\": not a valid S3 bucket name: expected only lowercase letters, digits, "
            "'.' and '-'");
  options.sources.buckets.clear();  // none: S3 events refused, not a setting error
  options.enforce.version = "latest";
  auto version = CheckEventOptions(options);
  ASSERT_FALSE(version);
  EXPECT_EQ(version.error().message, "--policy-version: expected active, draft or a version number, got \"latest\"");
}

}  // namespace
}  // namespace moat::app
