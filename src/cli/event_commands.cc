// `moat lambda` (the Lambda function's bootstrap) and `moat watch` (the SQS worker): events
// handled by app::EventRunner, applied without asking; options as for apply, from MOAT_* in the
// environment of the function or the worker.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>

#include "app/event_runner.h"
#include "cli/command.h"
#include "lambda/runtime.h"
#include "watch/worker.h"

namespace moat::cli {
namespace {

std::atomic<bool> g_stopping{false};
std::atomic<bool> g_busy{false};

// SIGTERM / SIGINT: with work in hand, finish it and stop; idle (waiting for work), stop now.
void OnStopSignal(int /*signal*/) {
  if (!g_busy) _exit(0);
  g_stopping = true;
}

}  // namespace

int Lambda(const std::vector<std::string>& args) {
  CLI::App app(
      "Run as the AWS Lambda custom runtime: each event (S3 flow-log objects, CloudTrail calls, schedules) "
      "is read and its databases reconciled.",
      "moat lambda");
  app.set_help_flag("-h,--help", "show this help");
  app::EnforceRequest req;
  std::string state;
  app::EventRunnerOptions options;
  AddPlanOptions(app, req, state);
  AddApplyOptions(app, req, options.audit_log);
  app.add_option("--service-port", options.service_ports, "a port that marks the responding side (repeatable)")
      ->expected(1, 1 << 16);
  const char* api_env = std::getenv("AWS_LAMBDA_RUNTIME_API");
  const std::string api = api_env != nullptr ? api_env : "";
  auto init_transport = http::NewCurlTransport({});
  const auto init_failed = [&](const std::string& why) {
    if (!api.empty()) (void)lambda::ReportInitError(api, "InitError", why, *init_transport);
    return Error("lambda", why);
  };
  // Help and option errors print as for any command; option errors are also reported to Lambda.
  if (auto done = Parse(app, "lambda", args)) {
    if (*done != kExitOk) (void)init_failed("the function's options are not valid (see its log)");
    return *done;
  }
  if (api.empty()) return Error("lambda", "runs inside AWS Lambda: AWS_LAMBDA_RUNTIME_API is not set");
  if (req.policy.empty()) return init_failed("no policy given: set MOAT_POLICY to pce or a bundle file");
  req.state_dir = state.empty() ? "/tmp/moat" : state;
  req.execute = true;

  options.enforce = req;
  app::Services services;
  auto runner = app::EventRunner::Open(options, services);
  if (!runner) return init_failed(runner.error().message);

  std::signal(SIGTERM, OnStopSignal);
  std::signal(SIGINT, OnStopSignal);
  auto transport = http::NewCurlTransport({});
  lambda::RuntimeDeps rt;
  rt.transport = transport.get();
  Clock& clock = services.clock();
  rt.clock = &clock;
  rt.stopping = [] { return g_stopping.load(); };
  rt.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  auto handler = [&](const lambda::Invocation& inv) {
    auto work = events::ParseEvent(inv.event, "event");
    if (!work) {
      std::fprintf(stderr, "moat: lambda: %s\n", work.error().message.c_str());
      return lambda::Outcome{false, "", "InvalidEvent", work.error().message};
    }
    auto report = (*runner)->Handle(*work, inv.deadline_ms, inv.request_id);
    if (!report) return lambda::Outcome{false, "", "HandlerError", report.error().message};
    const std::string json = report->Json();
    std::fprintf(stderr, "moat: lambda: %s\n", json.c_str());
    if (report->Failed()) return lambda::Outcome{false, "", "Incomplete", json};
    return lambda::Outcome{true, json, "", ""};
  };
  rt.busy = [](bool busy) { g_busy = busy; };
  if (auto st = lambda::RunLoop(api, handler, rt); !st) return Error("lambda", st.error().message);
  return kExitOk;
}

// `moat watch --queue URL`: the SQS worker (src/watch/worker.h), applying without asking.
int Watch(const std::vector<std::string>& args) {
  CLI::App app("Long-poll an SQS queue of S3 notifications (or CloudTrail and scheduled events) and handle each.",
               "moat watch");
  app.set_help_flag("-h,--help", "show this help");
  app::EnforceRequest req;
  std::string state, queue_url;
  app::EventRunnerOptions runner_options;
  watch::WorkerOptions options;
  AddPlanOptions(app, req, state);
  AddApplyOptions(app, req, runner_options.audit_log);
  app.add_option("--queue", queue_url, "the queue's URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)");
  app.add_option("--service-port", runner_options.service_ports, "a port that marks the responding side (repeatable)")
      ->expected(1, 1 << 16);
  app.add_option("--visibility-timeout", options.visibility_seconds,
                 "seconds a message stays hidden from other workers, renewed while it is worked on (default 60)")
      ->check(CLI::Range(10, 43200));
  app.add_option("--wait-seconds", options.wait_seconds, "long-poll wait (default 20)")->check(CLI::Range(0, 20));
  if (auto done = Parse(app, "watch", args)) return *done;
  if (queue_url.empty()) return Error("watch", "--queue URL is required");
  if (req.policy.empty()) return Error("watch", "no policy given: --policy pce, or --policy FILE");
  req.state_dir = StateDirectory(state);
  if (runner_options.audit_log.empty() && !req.state_dir.starts_with("s3://")) {
    runner_options.audit_log = req.state_dir + "/audit.log";
  }
  req.execute = true;
  options.heartbeat = std::chrono::milliseconds(options.visibility_seconds * 1000 / 3);

  runner_options.enforce = req;
  app::Services services;
  auto runner = app::EventRunner::Open(runner_options, services);
  if (!runner) return Error("watch", runner.error().message);
  auto receive_client = services.aws().NewSqsClient();
  if (!receive_client) return Error("watch", receive_client.error().message);
  auto beat_client = services.aws().NewSqsClient();
  if (!beat_client) return Error("watch", beat_client.error().message);
  aws::Sqs receive_sqs(**receive_client, queue_url), beat_sqs(**beat_client, queue_url);
  watch::SqsQueue receive_queue(receive_sqs), beat_queue(beat_sqs);

  std::signal(SIGTERM, OnStopSignal);
  std::signal(SIGINT, OnStopSignal);
  const auto log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  auto handle = [&](const events::EventWork& work, const aws::SqsMessage& m) {
    auto report = (*runner)->Handle(work, 0, m.id);
    if (!report) {
      log("moat: watch: message " + m.id + ": " + report.error().message);
      return false;
    }
    log("moat: watch: message " + m.id + ": " + report->Json());
    return !report->Failed();
  };
  auto stats = watch::RunWorker(
      receive_queue, beat_queue, handle, options, services.clock(), [] { return g_stopping.load(); },
      [](bool busy) { g_busy = busy; }, log);
  if (!stats) return Error("watch", stats.error().message);
  log("moat: watch: stopped: " + std::to_string(stats->handled) + " handled, " + std::to_string(stats->failed) +
      " failed, " + std::to_string(stats->invalid) + " invalid");
  return kExitOk;
}

}  // namespace moat::cli
