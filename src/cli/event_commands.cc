// `moat lambda` (the Lambda function's bootstrap) and `moat watch` (the SQS worker): events
// handled by app::EventRunner, applied without asking; options as for apply, from MOAT_* in the
// environment of the function or the worker, plus the flow-log buckets whose objects they read.
// A setting they cannot use stops them at start (for Lambda: an init error to the Runtime API).
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "app/event_runner.h"
#include "cli/command.h"
#include "lambda/runtime.h"
#include "watch/worker.h"

namespace moat::cli {
namespace {

std::atomic<bool> g_stopping{false};
std::atomic<bool> g_busy{false};
std::atomic<int> g_signal{0};
// The lines written when a signal stops an idle process (SIGTERM, SIGINT); set before the handler is.
const char* g_idle_stop[2] = {nullptr, nullptr};

// SIGTERM / SIGINT: with work in hand, finish it and stop; idle (waiting for work), say so and stop now.
void OnStopSignal(int signal) {
  g_signal = signal;
  if (!g_busy) {
    if (const char* line = g_idle_stop[signal == SIGTERM ? 0 : 1]; line != nullptr) {
      (void)!write(STDERR_FILENO, line, std::strlen(line));  // async-signal-safe
    }
    _exit(0);
  }
  g_stopping = true;
}

void OnStopSignals(const char* on_term, const char* on_int) {
  g_idle_stop[0] = on_term;
  g_idle_stop[1] = on_int;
  std::signal(SIGTERM, OnStopSignal);
  std::signal(SIGINT, OnStopSignal);
}

void Log(const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); }

// The options of both shells besides those of apply.
void AddEventOptions(CLI::App& app, app::EventRunnerOptions& options) {
  app.add_option("--service-port", options.service_ports, "a port that marks the responding side (repeatable)")
      ->expected(1, 1 << 16)
      ->check(WholeNumber(1, 65535));
  app.add_option("--flow-log-bucket", options.sources.buckets,
                 "an S3 bucket whose new flow-log objects are read (repeatable); S3 events naming any other bucket "
                 "are refused, and all of them when none is given")
      ->expected(1, 1 << 16);
  AddAwsOptions(app);
  AddFleetOptions(app, options.fleet);
  app.add_option("--reconcile-queue", options.reconcile_queue,
                 "with --accounts or --regions: the SQS queue a schedule sends one reconcile message per "
                 "account-region to (default: a schedule reconciles each in turn)");
}

// "flow-log buckets a, b" or what happens without any.
std::string Buckets(const events::Sources& sources) {
  if (sources.buckets.empty()) return "no flow-log bucket (S3 events are refused)";
  std::string out = sources.buckets.size() == 1 ? "flow-log bucket " : "flow-log buckets ";
  for (size_t i = 0; i < sources.buckets.size(); ++i) out += (i == 0 ? "" : ", ") + sources.buckets[i];
  return out;
}

// The handler of one Lambda invocation.
std::function<lambda::Outcome(const lambda::Invocation&)> LambdaHandler(app::EventRunner& runner,
                                                                        const events::Sources& sources) {
  return [&runner, &sources](const lambda::Invocation& inv) {
    auto work = events::ParseEvent(inv.event, "event", sources);
    if (!work) {
      Log("moat: lambda: " + work.error().message);
      return lambda::Outcome{false, "", "InvalidEvent", work.error().message};
    }
    for (const std::string& line : work->refused) Log("moat: lambda: invocation " + inv.request_id + ": " + line);
    auto report = runner.Handle(*work, inv.deadline_ms, inv.request_id);
    if (!report) return lambda::Outcome{false, "", "HandlerError", report.error().message};
    const std::string json = report->Json();
    Log("moat: lambda: " + json);
    if (report->Failed()) return lambda::Outcome{false, "", "Incomplete", json};
    return lambda::Outcome{true, json, "", ""};
  };
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
  AddEventOptions(app, options);
  const char* api_env = std::getenv("AWS_LAMBDA_RUNTIME_API");
  const std::string api = api_env != nullptr ? api_env : "";
  auto init_transport = http::NewCurlTransport({});
  // Lambda is told (POST /runtime/init/error) and the process exits 1: it never polls for events
  // with a configuration it cannot use.
  const auto init_failed = [&](const std::string& type, const std::string& why) {
    if (!api.empty()) {
      if (auto st = lambda::ReportInitError(api, type, why, *init_transport); !st)
        Log("moat: lambda: " + st.error().message);
    }
    return Error("lambda", why);
  };
  // Help and option errors print as for any command; option errors are also reported to Lambda.
  if (auto done = Parse(app, "lambda", args)) {
    if (*done != kExitOk)
      (void)init_failed("InvalidConfiguration", "the function's options are not valid (see its log)");
    return *done;
  }
  if (api.empty()) return Error("lambda", "runs inside AWS Lambda: AWS_LAMBDA_RUNTIME_API is not set");
  if (req.policy.empty())
    return init_failed("InvalidConfiguration", "no policy given: set MOAT_POLICY to pce or a bundle file");
  req.state_dir = state.empty() ? "/tmp/moat" : state;
  req.execute = true;
  options.enforce = req;
  if (auto st = app::CheckEventOptions(options); !st) return init_failed("InvalidConfiguration", st.error().message);

  app::Services services;
  auto runner = app::EventRunner::Open(options, services);
  if (!runner) return init_failed("InitError", runner.error().message);

  OnStopSignals("moat: lambda: stopped: SIGTERM while waiting for an invocation\n",
                "moat: lambda: stopped: SIGINT while waiting for an invocation\n");
  auto transport = http::NewCurlTransport({});
  lambda::RuntimeDeps rt;
  rt.transport = transport.get();
  Clock& clock = services.clock();
  rt.clock = &clock;
  rt.stopping = [] { return g_stopping.load(); };
  rt.log = Log;
  rt.busy = [](bool busy) { g_busy = busy; };
  Log("moat: lambda: started: " + Buckets(options.sources) + ", mode " + req.mode + ", state " + req.state_dir);
  if (auto st = lambda::RunLoop(api, LambdaHandler(**runner, options.sources), rt); !st) {
    return Error("lambda", "stopped: " + st.error().message);
  }
  Log(std::string("moat: lambda: stopped: ") + (g_signal == SIGINT ? "SIGINT" : "SIGTERM") +
      ", after the invocation in hand");
  return kExitOk;
}

namespace {

// Why the worker stopped, for its last line.
std::string StopReason(const watch::WorkerStats& stats) {
  const std::string counts = fmt::format("{} handled, {} failed, {} invalid, {} object(s) refused", stats.handled,
                                         stats.failed, stats.invalid, stats.refused);
  if (g_signal != 0) {
    return fmt::format("{}, after the message in hand: {}", g_signal == SIGINT ? "SIGINT" : "SIGTERM", counts);
  }
  return fmt::format("after {} receive(s): {}", stats.receives, counts);
}

}  // namespace

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
  AddEventOptions(app, runner_options);
  app.add_option("--queue", queue_url, "the queue's URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)");
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
  options.sources = runner_options.sources;
  runner_options.enforce = req;
  if (auto st = app::CheckEventOptions(runner_options); !st) return Error("watch", st.error().message);

  app::Services services;
  auto runner = app::EventRunner::Open(runner_options, services);
  if (!runner) return Error("watch", runner.error().message);
  auto receive_client = services.aws().NewSqsClient();
  if (!receive_client) return Error("watch", receive_client.error().message);
  auto beat_client = services.aws().NewSqsClient();
  if (!beat_client) return Error("watch", beat_client.error().message);
  aws::Sqs receive_sqs(**receive_client, queue_url), beat_sqs(**beat_client, queue_url);
  watch::SqsQueue receive_queue(receive_sqs), beat_queue(beat_sqs);

  OnStopSignals("moat: watch: stopped: SIGTERM while waiting for messages\n",
                "moat: watch: stopped: SIGINT while waiting for messages\n");
  auto handle = [&](const events::EventWork& work, const aws::SqsMessage& m) {
    auto report = (*runner)->Handle(work, 0, m.id);
    if (!report) {
      Log("moat: watch: message " + m.id + ": " + report.error().message);
      return false;
    }
    Log("moat: watch: message " + m.id + ": " + report->Json());
    return !report->Failed();
  };
  Log("moat: watch: started: queue " + queue_url + ", " + Buckets(options.sources) + ", mode " + req.mode + ", state " +
      req.state_dir);
  auto stats = watch::RunWorker(
      receive_queue, beat_queue, handle, options, services.clock(), [] { return g_stopping.load(); },
      [](bool busy) { g_busy = busy; }, Log);
  if (!stats) return Error("watch", "stopped: " + stats.error().message);
  Log("moat: watch: stopped: " + StopReason(*stats));
  return kExitOk;
}

}  // namespace moat::cli
