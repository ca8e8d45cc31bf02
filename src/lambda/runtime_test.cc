#include "lambda/runtime.h"

#include <gtest/gtest.h>

#include "testing/fake_clock.h"
#include "testing/scripted_transport.h"

namespace moat::lambda {
namespace {

constexpr int64_t kNow = 1'764'398'567'000;

TEST(RuntimeTest, DeadlineIsUnixMillisecondsWithinLambdasLongestTimeout) {
  EXPECT_EQ(*ParseDeadline("1764398627000", kNow), kNow + 60'000);
  EXPECT_EQ(*ParseDeadline(std::to_string(kNow + 1), kNow), kNow + 1);
  EXPECT_EQ(*ParseDeadline(std::to_string(kNow + kMaxDeadlineMs), kNow), kNow + kMaxDeadlineMs);
}

TEST(RuntimeTest, MalformedDeadlineNamesTheHeaderAndItsValue) {
  const struct {
    const char* header;
    const char* message;
  } cases[] = {
      {"", "Lambda-Runtime-Deadline-Ms is missing"},
      {"12abc", "Lambda-Runtime-Deadline-Ms \"12abc\": not a whole number of milliseconds"},
      {"abc", "Lambda-Runtime-Deadline-Ms \"abc\": not a whole number of milliseconds"},
      {" 1764398627000", "Lambda-Runtime-Deadline-Ms \" 1764398627000\": not a whole number of milliseconds"},
      {"+1764398627000", "Lambda-Runtime-Deadline-Ms \"+1764398627000\": not a whole number of milliseconds"},
      {"1764398627000.5", "Lambda-Runtime-Deadline-Ms \"1764398627000.5\": not a whole number of milliseconds"},
      {"-1764398627000", "Lambda-Runtime-Deadline-Ms \"-1764398627000\": in the past"},
      {"5000", "Lambda-Runtime-Deadline-Ms \"5000\": in the past"},  // an emulator's constant
      {"1764398567000", "Lambda-Runtime-Deadline-Ms \"1764398567000\": in the past"},
      {"1764399527001", "Lambda-Runtime-Deadline-Ms \"1764399527001\": more than 16 minutes away"},
      {"99999999999999999999", "Lambda-Runtime-Deadline-Ms \"99999999999999999999\": more than 16 minutes away"},
  };
  for (const auto& c : cases) {
    auto d = ParseDeadline(c.header, kNow);
    ASSERT_FALSE(d) << c.header;
    EXPECT_EQ(d.error().message, c.message);
  }
}

// One invocation through RunLoop: what the handler is given as its deadline, and what is logged.
struct OneInvocation {
  int64_t deadline_ms = 0;
  std::vector<std::string> log;
};

OneInvocation RunOne(const char* deadline_header) {
  moat::testing::ScriptedTransport t;
  http::Response next;
  next.status = 200;
  next.headers = {{"lambda-runtime-aws-request-id", "r1"}};
  if (deadline_header != nullptr) next.headers.push_back({"lambda-runtime-deadline-ms", deadline_header});
  next.body = "{}";
  t.replies.push_back(next);
  t.replies.push_back({202, {}, ""});
  OneInvocation out;
  int handled = 0;
  RuntimeDeps deps;
  deps.transport = &t;
  testing::FakeClock clock(kNow);
  deps.clock = &clock;
  deps.stopping = [&] { return handled > 0; };
  deps.log = [&](const std::string& line) { out.log.push_back(line); };
  Status st = RunLoop(
      "127.0.0.1:9",
      [&](const Invocation& inv) {
        ++handled;
        out.deadline_ms = inv.deadline_ms;
        return Outcome{};
      },
      deps);
  EXPECT_TRUE(st) << st.error().message;
  EXPECT_EQ(handled, 1);
  EXPECT_EQ(t.seen.size(), 2u);
  return out;
}

TEST(RuntimeTest, MalformedDeadlineIsLoggedAndADefaultKeepsTheWatchdogArmed) {
  const OneInvocation bad = RunOne("12abc");
  EXPECT_EQ(bad.deadline_ms, kNow + kDefaultDeadlineMs);
  EXPECT_EQ(bad.log, (std::vector<std::string>{"moat: lambda: invocation r1: Lambda-Runtime-Deadline-Ms \"12abc\": "
                                               "not a whole number of milliseconds; using a deadline 60 s from now"}));
  const OneInvocation missing = RunOne(nullptr);
  EXPECT_EQ(missing.deadline_ms, kNow + kDefaultDeadlineMs);
  EXPECT_EQ(missing.log, (std::vector<std::string>{"moat: lambda: invocation r1: Lambda-Runtime-Deadline-Ms is "
                                                   "missing; using a deadline 60 s from now"}));
}

TEST(RuntimeTest, ValidDeadlineReachesTheHandlerUnchanged) {
  const OneInvocation ok = RunOne("1764398867000");
  EXPECT_EQ(ok.deadline_ms, kNow + 300'000);
  EXPECT_TRUE(ok.log.empty());
}

}  // namespace
}  // namespace moat::lambda
