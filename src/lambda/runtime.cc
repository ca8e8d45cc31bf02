#include "lambda/runtime.h"

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/strings.h"

namespace moat::lambda {
namespace {

std::string Base(const std::string& api) { return "http://" + api + "/2018-06-01/runtime"; }

Status Post(http::Transport& t, const std::string& url, const std::string& body, const http::Headers& extra = {}) {
  http::Request r;
  r.method = "POST";
  r.url = url;
  r.body = body;
  r.headers = {{"Content-Type", "application/json"}};
  r.headers.insert(r.headers.end(), extra.begin(), extra.end());
  auto resp = t.Send(r);
  if (!resp) return Fail(std::move(resp).error().Context("POST " + url));
  if (resp->status != 202 && resp->status != 200) {
    return Fail(InvalidInput("POST " + url + ": HTTP " + std::to_string(resp->status)));
  }
  return {};
}

// Reports the invocation in hand as timed out if the handler is still at it at the deadline,
// then ends the process (Lambda would freeze or kill it; a fresh one starts clean).
class Watchdog {
 public:
  Watchdog(const std::string& api, const RuntimeDeps& deps) : api_(api), deps_(deps), thread_([this] { Run(); }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void Arm(const Invocation& inv) {
    std::lock_guard lock(mu_);
    request_id_ = inv.request_id;
    deadline_ms_ = inv.deadline_ms;
    cv_.notify_all();
  }
  void Disarm() {
    std::lock_guard lock(mu_);
    request_id_.clear();
    cv_.notify_all();
  }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    while (!quit_) {
      if (request_id_.empty() || deadline_ms_ <= 0) {
        cv_.wait(lock);
        continue;
      }
      const int64_t wait = deadline_ms_ - deps_.clock->WallMs();
      if (wait > 0) {
        cv_.wait_for(lock, std::chrono::milliseconds(wait));
        continue;
      }
      const std::string id = request_id_;
      lock.unlock();
      if (deps_.log) deps_.log("moat: lambda: invocation " + id + " still running at its deadline; stopping");
      auto transport = http::NewCurlTransport({});
      (void)Post(*transport, Base(api_) + "/invocation/" + id + "/error",
                 ErrorBody("Timeout", "the invocation was still running at its deadline"),
                 {{"Lambda-Runtime-Function-Error-Type", "Timeout"}});
      std::_Exit(1);
    }
  }

  std::string api_;
  const RuntimeDeps& deps_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string request_id_;
  int64_t deadline_ms_ = 0;
  bool quit_ = false;
  std::thread thread_;
};

constexpr std::string_view kDeadlineHeader = "Lambda-Runtime-Deadline-Ms";

}  // namespace

Result<int64_t> ParseDeadline(std::string_view header, int64_t now_ms) {
  if (header.empty()) return Fail(InvalidInput(std::string(kDeadlineHeader) + " is missing"));
  const std::string where = std::string(kDeadlineHeader) + " " + Quote(header);
  int64_t ms = 0;
  const auto [end, ec] = std::from_chars(header.data(), header.data() + header.size(), ms);
  if (ec == std::errc::result_out_of_range) return Fail(InvalidInput(where + ": more than 16 minutes away"));
  if (ec != std::errc() || end != header.data() + header.size()) {
    return Fail(InvalidInput(where + ": not a whole number of milliseconds"));
  }
  if (ms <= now_ms) return Fail(InvalidInput(where + ": in the past"));
  if (ms - now_ms > kMaxDeadlineMs) return Fail(InvalidInput(where + ": more than 16 minutes away"));
  return ms;
}

std::string ErrorBody(const std::string& error_type, const std::string& message) {
  return nlohmann::json{{"errorMessage", message}, {"errorType", error_type}, {"stackTrace", nlohmann::json::array()}}
      .dump();
}

Status ReportInitError(const std::string& api, const std::string& error_type, const std::string& message,
                       http::Transport& transport) {
  return Post(transport, Base(api) + "/init/error", ErrorBody(error_type, message),
              {{"Lambda-Runtime-Function-Error-Type", error_type}});
}

Status RunLoop(const std::string& api, const std::function<Outcome(const Invocation&)>& handler,
               const RuntimeDeps& deps) {
  Watchdog watchdog(api, deps);
  while (!(deps.stopping && deps.stopping())) {
    http::Request next;
    next.url = Base(api) + "/invocation/next";
    next.timeout_ms = 0;  // blocks until an invocation comes
    auto resp = deps.transport->Send(next);
    if (!resp) return Fail(std::move(resp).error().Context("GET " + next.url));
    if (resp->status != 200) {
      return Fail(InvalidInput("GET " + next.url + ": HTTP " + std::to_string(resp->status)));
    }
    if (deps.busy) deps.busy(true);
    Invocation inv;
    inv.request_id = resp->Header("lambda-runtime-aws-request-id");
    inv.function_arn = resp->Header("lambda-runtime-invoked-function-arn");
    inv.trace_id = resp->Header("lambda-runtime-trace-id");
    inv.event = std::move(resp->body);
    if (inv.request_id.empty()) return Fail(InvalidInput("GET " + next.url + ": no Lambda-Runtime-Aws-Request-Id"));
    const int64_t now = deps.clock->WallMs();
    if (auto deadline = ParseDeadline(resp->Header("lambda-runtime-deadline-ms"), now)) {
      inv.deadline_ms = *deadline;
    } else {
      inv.deadline_ms = now + kDefaultDeadlineMs;
      if (deps.log) {
        deps.log("moat: lambda: invocation " + inv.request_id + ": " + deadline.error().message +
                 "; using a deadline " + std::to_string(kDefaultDeadlineMs / 1000) + " s from now");
      }
    }
    if (!inv.trace_id.empty()) setenv("_X_AMZN_TRACE_ID", inv.trace_id.c_str(), 1);

    watchdog.Arm(inv);
    Outcome out = handler(inv);
    watchdog.Disarm();
    const std::string url = Base(api) + "/invocation/" + inv.request_id;
    Status posted = out.ok ? Post(*deps.transport, url + "/response", out.payload)
                           : Post(*deps.transport, url + "/error", ErrorBody(out.error_type, out.error),
                                  {{"Lambda-Runtime-Function-Error-Type", out.error_type}});
    if (!posted && deps.log) deps.log("moat: lambda: " + posted.error().message);
    if (deps.busy) deps.busy(false);
  }
  return {};
}

}  // namespace moat::lambda
