// The AWS Lambda custom runtime loop (Runtime API 2018-06-01, reference/aws-apis.md §6):
// GET /runtime/invocation/next -> the handler -> POST .../response, or .../error with
// Lambda-Runtime-Function-Error-Type. An initialization failure goes to /runtime/init/error
// before the first `next`. The deadline header is passed to the handler, which stops its work
// before it; a handler still running at the deadline is reported as an error (Timeout) by a
// watchdog, and the process exits so that Lambda starts a fresh one.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

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
  std::function<int64_t()> now_ms;
  std::function<bool()> stopping;  // SIGTERM / SIGINT seen: finish the work in hand, then stop
  std::function<void(bool)> busy;  // told true when an invocation arrives, false once it is answered
  std::function<void(const std::string& line)> log;
};

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
