// The AWS Lambda custom runtime loop (Runtime API 2018-06-01, reference/aws-apis.md §6):
// GET /runtime/invocation/next -> the handler -> POST .../response, or .../error with
// Lambda-Runtime-Function-Error-Type. An initialization failure goes to /runtime/init/error
// before the first `next`. The deadline header is passed to the handler, which stops its work
// before it; a handler still running at the deadline is reported as an error (Timeout) by a
// watchdog, and the process exits so that Lambda starts a fresh one. A deadline header that is
// missing or malformed is logged and replaced by one kDefaultDeadlineMs away: the watchdog is
// never disarmed by what the network sent.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/result.h"
#include "http/transport.h"

namespace moat::lambda {

struct Invocation {
  std::string request_id;
  int64_t deadline_ms = 0;  // unix milliseconds (Lambda-Runtime-Deadline-Ms)
  std::string function_arn;
  std::string trace_id;
  std::string event;  // the JSON payload
};

struct Outcome {
  bool ok = true;
  std::string payload;     // the response JSON when ok
  std::string error_type;  // when not ok: "InvalidEvent", "HandlerError"...
  std::string error;       // when not ok: one line
};

struct RuntimeDeps {
  http::Transport* transport = nullptr;  // the runtime API is plain HTTP on the sandbox's loopback
  Clock* clock = &SystemClock();         // the deadline watchdog measures wall time against it
  std::function<bool()> stopping;        // SIGTERM / SIGINT seen: finish the work in hand, then stop
  std::function<void(bool)> busy;        // told true when an invocation arrives, false once it is answered
  std::function<void(const std::string& line)> log;
};

// The deadline used when Lambda-Runtime-Deadline-Ms cannot be believed. Lambda sets no variable
// holding the function's timeout (AWS_LAMBDA_FUNCTION_TIMEOUT is the emulator's, not Lambda's), so
// a fixed minute: short enough that the work stops and reports what is left within the timeout of
// the deployed function (5 minutes), long enough for one event's usual work.
inline constexpr int64_t kDefaultDeadlineMs = 60'000;
// Lambda's longest function timeout (15 minutes), and a minute for the clocks to disagree.
inline constexpr int64_t kMaxDeadlineMs = 16 * 60'000;

// The invocation's deadline from the Lambda-Runtime-Deadline-Ms header: unix milliseconds, digits
// only (std::from_chars over the whole value), after `now_ms` and at most kMaxDeadlineMs after it.
// Otherwise an error naming the header and its value, quoted: Lambda-Runtime-Deadline-Ms "12abc":
// not a whole number of milliseconds. Missing, negative, past (an emulator's constant "5000") and
// absurdly far are errors too.
Result<int64_t> ParseDeadline(std::string_view header, int64_t now_ms);

// `api` is AWS_LAMBDA_RUNTIME_API (host:port). Returns when `stopping` is true after an
// invocation, or with an error when the runtime API cannot be reached.
Status RunLoop(const std::string& api, const std::function<Outcome(const Invocation&)>& handler,
               const RuntimeDeps& deps);

// Reports an initialization failure (POST /runtime/init/error).
Status ReportInitError(const std::string& api, const std::string& error_type, const std::string& message,
                       http::Transport& transport);

// {"errorMessage": ..., "errorType": ..., "stackTrace": []}
std::string ErrorBody(const std::string& error_type, const std::string& message);

}  // namespace moat::lambda
