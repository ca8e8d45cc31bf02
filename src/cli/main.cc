// moat's command line: argv -> request -> app -> exit code. The commands are one static table;
// each maps its options to a request, calls the app layer, and writes the result. Errors are one
// line on stderr: "moat: <what>: <why>".
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "app/aws.h"
#include "app/enforce.h"
#include "app/flows.h"
#include "app/handle.h"
#include "app/map.h"
#include "app/observed.h"
#include "app/pce.h"
#include "app/pce_sync.h"
#include "app/policy.h"
#include "app/suggest.h"
#include "apply/audit.h"
#include "aws/s3.h"
#include "base/progress.h"
#include "base/strings.h"
#include "cli/options.h"
#include "compile/render.h"
#include "lambda/runtime.h"
#include "store/local_store.h"
#include "store/state.h"
#include "traffic/report.h"
#include "watch/worker.h"

namespace moat::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;

int Error(const std::string& what, const std::string& why) {
  std::fprintf(stderr, "moat: %s: %s\n", what.c_str(), why.c_str());
  return kExitError;
}

void WriteOut(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

// Parses `args` (after the command name) into `app`, adding options from the environment.
// Returns an exit code when the command is done already (help, or an error).
std::optional<int> Parse(CLI::App& app, const std::string& command, std::vector<std::string> args) {
  const auto getenv = [](const char* n) { return std::getenv(n); };
  std::string table = command;
  std::replace(table.begin(), table.end(), ' ', '_');
  std::string config_file;
  app.add_option("--config", config_file, "a TOML file of options: a_b = value, top level or in [" + table + "]");
  auto env = ArgsFromEnvironment(app, args, getenv);
  if (!env) return Error(command, env.error().message);
  args.insert(args.end(), env->begin(), env->end());
  if (const std::string path = ConfigPath(args, getenv); !path.empty()) {
    std::ifstream in(path);
    if (!in) return Error(command, path + ": the config file cannot be read");
    std::stringstream text;
    text << in.rdbuf();
    // What the environment sets wins over the file, a false flag included.
    std::vector<std::string> given = args;
    for (const CLI::Option* opt : app.get_options()) {
      if (!opt->get_lnames().empty() && getenv(EnvName(opt->get_lnames().front()).c_str()) != nullptr) {
        given.push_back("--" + opt->get_lnames().front());
      }
    }
    auto file = ArgsFromConfig(app, table, given, text.str(), path);
    if (!file) return Error(command, file.error().message);
    args.insert(args.end(), file->begin(), file->end());
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes them last-first
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp&) {
    WriteOut(app.help());
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    return Error(command, e.what());
  }
  return std::nullopt;
}

int Flows(const std::vector<std::string>& args) {
  CLI::App app("Read VPC flow logs and summarise who talks to whom.", "moat flows");
  app.set_help_flag("-h,--help", "show this help");
  app::FlowsRequest req;
  bool json = false;
  traffic::TextOptions text;
  app.add_option("source", req.sources,
                 "flow-log files (.log, .log.gz), directories (recursive), s3://bucket/prefix, or - for stdin")
      ->required();
  app.add_flag("--json", json, "print JSON (keys documented in docs/formats.md)");
  app.add_option("--threads", req.threads, "reading threads (default: one per core)")->check(CLI::Range(0u, 256u));
  app.add_option("--service-port", req.service_ports,
                 "a port that marks the responding side (repeatable; ports below 1024 always do)")
      ->expected(1, 1 << 16);
  app.add_option("--top", text.max_initiators_per_responder, "initiators shown per responder (text)");
  app.add_option("--limit", text.max_responders, "responders shown (text)");
  if (auto done = Parse(app, "flows", args)) return *done;

  store::LocalStore local;
  app::FlowsDeps deps{&local, &store::NewStdinStream, nullptr};
  app::AwsServices aws;
  if (std::any_of(req.sources.begin(), req.sources.end(), [](const auto& s) { return s.starts_with("s3://"); })) {
    auto s3 = aws.S3();
    if (!s3) return Error("flows", s3.error().message);
    deps.s3 = *s3;
  }
  auto report = app::RunFlows(req, deps);
  if (!report) return Error("flows", report.error().message);
  WriteOut(json ? traffic::RenderJson(*report) : traffic::RenderText(*report, text));
  std::fflush(stdout);
  if (report->stats.files == 0) {
    return Error("flows", "no flow-log files found (directories are searched for *.log and *.log.gz)");
  }
  if (report->stats.files_read == 0) {
    return Error("flows", fmt::format("nothing could be read ({} of {} sources skipped)", report->stats.TotalSkipped(),
                                      report->stats.files));
  }
  return kExitOk;
}

int Help(const std::vector<std::string>& args);

app::PceDeps RealPceDeps() {
  app::PceDeps deps;
  deps.getenv = [](const char* n) { return std::getenv(n); };
  deps.transport = [](const http::TlsOptions& tls) { return http::NewCurlTransport(tls); };
  deps.secret = [](const std::string& arn) -> Result<std::string> {
    static app::AwsServices aws;  // read once per process: the Lambda function's PCE key
    static std::map<std::string, std::string> cache;
    if (auto it = cache.find(arn); it != cache.end()) return it->second;
    auto value = aws.Secret(arn);
    if (value) cache[arn] = *value;
    return value;
  };
  return deps;
}

int PolicyShow(const std::vector<std::string>& args) {
  CLI::App app("Load and validate a policy; print the targets it protects and their allow sets.", "moat policy show");
  app.set_help_flag("-h,--help", "show this help");
  app::PolicyShowRequest req;
  bool json = false;
  app.add_option("--policy", req.policy, "pce, or a policy bundle file (PCE collections in one JSON object)");
  app.add_option("--policy-version", req.version, "active (default), draft, or a policy version number");
  app.add_option("--target", req.targets, "only this target: name, endpoint, or RDS identifier (repeatable)")
      ->expected(1, 1 << 16);
  app.add_flag("--json", json, "print JSON (keys documented in docs/formats.md)");
  if (auto done = Parse(app, "policy show", args)) return *done;
  store::LocalStore local;
  app::PolicyDeps deps{&local, [](const std::string& v) { return app::FetchPcePolicy(v, RealPceDeps()); }};
  auto compiled = app::RunPolicyShow(req, deps);
  if (!compiled) return Error("policy show", compiled.error().message);
  WriteOut(json ? compile::RenderJson(*compiled) : compile::RenderText(*compiled));
  const auto refused = std::count_if(compiled->targets.begin(), compiled->targets.end(),
                                     [](const compile::Target& t) { return !t.error.empty(); });
  if (refused > 0) {
    return Error("policy show", std::to_string(refused) +
                                    " target(s) cannot be compiled exactly (their '!' lines name the rule, the field "
                                    "and why); plan and apply keep what moat last applied to them");
  }
  return kExitOk;
}

int Policy(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    WriteOut("usage: moat policy show --policy SRC [--policy-version V] [--target ID]... [--json]\n");
    return args.empty() ? kExitError : kExitOk;
  }
  if (args[0] != "show") return Error("policy", "unknown subcommand '" + args[0] + "'; expected 'show'");
  return PolicyShow(std::vector<std::string>(args.begin() + 1, args.end()));
}

constexpr int kExitChanges = 2;

// Whether to write what the plan shows: yes with --yes; else asked on a terminal (only "yes" goes
// on); without one, refused after printing the plan (`render(json)`: as text, or as JSON).
bool Confirm(bool yes, const std::string& command, const std::string& doing, const std::string& question, bool json,
             const std::function<std::string(bool json)>& render) {
  if (yes) return true;
  if (isatty(STDIN_FILENO) == 0) {
    WriteOut(render(json));
    std::fflush(stdout);
    Error(command, "not " + doing + " without --yes: standard input is not a terminal to ask on");
    return false;
  }
  WriteOut(render(false));
  WriteOut("\n" + question + " Only 'yes' is accepted: ");
  std::fflush(stdout);
  std::string answer;
  std::getline(std::cin, answer);
  return answer == "yes";
}

// The options of every command that reconciles databases (plan, apply, lambda, watch).
void AddEnforceOptions(CLI::App& app, app::EnforceRequest& req, std::string& state, std::string& audit_log) {
  app.add_option("--policy", req.policy, "pce, or a policy bundle file (PCE collections in one JSON object)");
  app.add_option("--policy-version", req.version, "active (default), draft, or a policy version number");
  app.add_option("--target", req.targets,
                 "a database: DBInstanceIdentifier, cluster/<DBClusterIdentifier>, or tag:KEY=VALUE (repeatable; "
                 "default: every database the policy protects)")
      ->expected(1, 1 << 16);
  app.add_option("--keep-group", req.keep_groups, "a foreign group (id or name) to leave attached (repeatable)")
      ->expected(1, 1 << 16);
  app.add_option("--mode", req.mode, "enforce (default), or visibility: compute and report, never write");
  app.add_option("--state", state, "state directory (default $XDG_STATE_HOME/moat or ~/.local/state/moat)");
  app.add_option("--audit-log", audit_log, "where apply appends its JSON lines (default STATE/audit.log)");
  app.add_option("--max-revoke-share", req.guards.max_revoke_share,
                 "hold back a policy change that revokes more than this share of a target's rules (default 0.5)");
  app.add_flag("--allow-large-revoke", req.guards.allow_large_revoke, "apply such a change anyway");
  app.add_flag("--allow-empty", req.guards.allow_empty, "apply a policy that leaves a target with no rules");
  app.add_flag("--allow-breaking", req.guards.allow_breaking,
               "apply a policy change that cuts observed traffic the enforced state admitted");
  app.add_option("--rules-per-group", req.quotas.rules_per_group, "inbound rules per security group (default 60)");
  app.add_option("--groups-per-interface", req.quotas.groups_per_interface,
                 "security groups per network interface (default 5)");
  app.add_option("--max-rules-times-groups", req.quotas.max_rules_times_groups,
                 "rules per group x groups per interface limit (default 1000)");
  app.add_option("--over-permission-budget", req.over_permission_budget,
                 "extra addresses a target may admit when its exact rules do not fit (default 0: never; every "
                 "widening is reported)");
}

// The flow history options of plan, apply, map and suggest (app/observed.h).
struct HistoryOptions {
  std::vector<std::string> flows;
  std::string since = "30d";
  unsigned threads = 0;
  bool quiet = false;
};

void AddHistoryOptions(CLI::App& app, HistoryOptions& h) {
  app.add_option("--flows", h.flows,
                 "flow logs to record in the flow history first (files, directories, s3://bucket/prefix; "
                 "repeatable); each object is recorded once")
      ->expected(1, 1 << 16);
  app.add_option("--since", h.since,
                 "the window of flow history to use: 30m, 12h, 7d, 2w, a date (2026-11-01), a UTC time, or all "
                 "(default 30d)");
  app.add_option("--threads", h.threads, "flow-log objects read at once (default: one per core)")
      ->check(CLI::Range(0u, 256u));
  app.add_flag("--quiet", h.quiet, "no progress bar");
}

// The flow history's file: in the state directory, or (state in S3) the local default one.
std::string FlowStorePath(const std::string& state_dir) {
  const std::string dir = state_dir.starts_with("s3://")
                              ? store::StateDirectory("", std::getenv("XDG_STATE_HOME"), std::getenv("HOME"))
                              : state_dir;
  return dir + "/flows.sqlite";
}

// The request for the flow history of plan, apply, map and suggest; `deps` gets S3 when a
// source is there.
Result<app::ObservedRequest> HistoryRequest(const HistoryOptions& h, const std::string& state_dir, const char* command,
                                            app::AwsServices& aws, app::FlowsDeps& deps, int64_t now) {
  auto since = ParseSince(h.since, now);
  if (!since) return Fail(InvalidInput("--since: " + since.error().message));
  if (std::any_of(h.flows.begin(), h.flows.end(), [](const auto& s) { return s.starts_with("s3://"); })) {
    auto s3 = aws.S3();
    if (!s3) return Fail(std::move(s3).error());
    deps.s3 = *s3;
  }
  return app::ObservedRequest{h.flows, FlowStorePath(state_dir), *since, command, h.threads, ProgressWanted(h.quiet)};
}

// `moat plan` and `moat apply`: the same options; apply executes.
int Enforce(const std::vector<std::string>& args, bool execute) {
  const char* name = execute ? "apply" : "plan";
  CLI::App app(execute ? "Compute the security-group plan and execute it (make-before-break)."
                       : "Compute the security-group plan: what apply would change, and why.",
               std::string("moat ") + name);
  app.set_help_flag("-h,--help", "show this help");
  app::EnforceRequest req;
  req.execute = execute;
  bool json = false, detailed = false, yes = false;
  std::string state, audit_log;
  AddEnforceOptions(app, req, state, audit_log);
  HistoryOptions history;
  AddHistoryOptions(app, history);
  app.add_flag("--json", json, "print JSON (keys documented in docs/formats.md)");
  if (execute) {
    app.add_flag("--yes", yes, "do not ask before changing AWS");
  } else {
    app.add_flag("--detailed-exitcode", detailed, "exit 0: no changes, 2: changes, 1: error");
  }
  if (auto done = Parse(app, name, args)) return *done;
  req.state_dir = store::StateDirectory(state, std::getenv("XDG_STATE_HOME"), std::getenv("HOME"));

  store::LocalStore local;
  app::AwsServices aws;
  app::EnforceDeps deps;
  deps.policy = {&local, nullptr};
  deps.fetch_pce_bundle = [](const std::string& v) { return app::FetchPceBundle(v, RealPceDeps()); };
  deps.aws = &aws;
  if (!aws.CustomRdsEndpoint()) deps.resolve = app::ResolveHost;
  deps.now = [] { return static_cast<int64_t>(std::time(nullptr)); };
  deps.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  std::unique_ptr<apply::FileAuditLog> audit;
  if (execute && req.mode == "enforce") {
    auto opened = apply::FileAuditLog::Open(audit_log.empty() ? req.state_dir + "/audit.log" : audit_log, deps.now);
    if (!opened) return Error(name, opened.error().message);
    audit = std::move(*opened);
    deps.audit = audit.get();
  }
  app::FlowsDeps flows_deps{&local, nullptr, nullptr};
  auto observed_req = HistoryRequest(history, req.state_dir, name, aws, flows_deps, deps.now());
  if (!observed_req) return Error(name, observed_req.error().message);
  auto observed = app::LoadObserved(*observed_req, flows_deps, deps.now());
  if (!observed) return Error(name, observed.error().message);
  if (observed->available) {
    req.observed = &observed->flows;
    req.observed_window = observed->window;
  }
  deps.confirm = [&](const app::EnforceReport& plan) {
    return Confirm(yes, name, "applying", "Apply these changes?", json,
                   [&](bool as_json) { return as_json ? app::RenderPlanJson(plan) : app::RenderPlanText(plan); });
  };
  auto report = app::RunEnforce(req, deps);
  if (!report) return Error(name, report.error().message);
  if (report->cancelled) {
    if (isatty(STDIN_FILENO) != 0) WriteOut("Cancelled: nothing was changed.\n");
    return kExitError;
  }
  WriteOut(json ? app::RenderPlanJson(*report) : app::RenderPlanText(*report));
  std::fflush(stdout);
  if (!report->policy_error.empty()) {
    return Error(name, "the policy could not be used (" + report->policy_error +
                           "); only drift against the last known good was reverted");
  }
  if (report->Failed()) {
    const auto held = std::count_if(report->targets.begin(), report->targets.end(),
                                    [](const app::TargetReport& t) { return t.error.empty() && !t.plan.held.empty(); });
    if (held > 0 && report->errors.empty() &&
        std::all_of(report->targets.begin(), report->targets.end(),
                    [](const app::TargetReport& t) { return t.error.empty(); })) {
      return Error(name, fmt::format("{} database(s) held back by a guard (see '! held' above): the policy change "
                                     "was not applied to them",
                                     held));
    }
    return Error(name, "not every target could be planned or applied (see above)");
  }
  if (!execute && detailed && report->HasChanges()) return kExitChanges;
  return kExitOk;
}

std::atomic<bool> g_stopping{false};
std::atomic<bool> g_busy{false};

// SIGTERM / SIGINT: with work in hand, finish it and stop; idle (waiting for work), stop now.
void OnStopSignal(int /*signal*/) {
  if (!g_busy) _exit(0);
  g_stopping = true;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What `moat lambda` and `moat watch` share: the services, and handling one event with its
// changes logged — to standard output as JSON lines (the function's log), to --audit-log when set,
// and, with the state in S3, as one object per event under <bucket>/moat/audit/ (S3 cannot append).
class EventRunner {
 public:
  Status Setup(const app::EnforceRequest& req, const std::vector<uint16_t>& service_ports, const std::string& audit_log,
               const char* name) {
    req_ = req;
    service_ports_ = service_ports;
    name_ = name;
    auto s3 = aws_.S3();
    if (!s3) return Fail(std::move(s3).error());
    deps_.s3 = *s3;
    deps_.now_ms = NowMs;
    deps_.keep_flows = [this](const std::string& name, const std::string& gzip) -> Status {
      auto objects = aws_.S3Objects();
      if (!objects) return Fail(std::move(objects).error());
      return (*objects)->Put(name, gzip, "application/gzip");
    };
    deps_.enforce.policy = {&local_, nullptr};
    deps_.enforce.fetch_pce_bundle = [](const std::string& v) { return app::FetchPceBundle(v, RealPceDeps()); };
    deps_.enforce.aws = &aws_;
    if (!aws_.CustomRdsEndpoint()) deps_.enforce.resolve = app::ResolveHost;
    deps_.enforce.now = [] { return static_cast<int64_t>(std::time(nullptr)); };
    deps_.enforce.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
    if (const char* host = std::getenv("ILLUMIO_PCE_HOST"); host != nullptr && *host != '\0') {
      deps_.upload = [](const std::vector<std::string>& lines) { return app::UploadToPce(lines, RealPceDeps()); };
    }
    auto to_log = apply::FileAuditLog::Open("/dev/stdout", deps_.enforce.now);
    if (!to_log) return Fail(std::move(to_log).error());
    to_log_ = std::move(*to_log);
    if (!audit_log.empty()) {
      auto opened = apply::FileAuditLog::Open(audit_log, deps_.enforce.now);
      if (!opened) return Fail(std::move(opened).error());
      to_file_ = std::move(*opened);
    }
    audit_ =
        std::make_unique<apply::TeeAuditLog>(std::vector<apply::AuditLog*>{to_log_.get(), to_file_.get(), &one_event_});
    deps_.enforce.audit = audit_.get();
    if (req.state_dir.starts_with("s3://")) {
      std::string bucket, key;
      if (aws::ParseS3Url(req.state_dir, &bucket, &key)) audit_prefix_ = "s3://" + bucket + "/moat/audit/";
    }
    return {};
  }

  Result<app::HandleReport> Handle(const events::EventWork& work, int64_t deadline_ms, const std::string& id) {
    app::HandleRequest hr;
    hr.enforce = req_;
    hr.service_ports = service_ports_;
    hr.deadline_ms = deadline_ms;
    one_event_.entries.clear();
    auto report = app::HandleEvent(work, hr, deps_);
    if (!audit_prefix_.empty() && !one_event_.entries.empty()) {
      std::string lines;
      for (const auto& e : one_event_.entries) {
        apply::AuditEntry stamped = e;
        if (stamped.time == 0) stamped.time = NowMs() / 1000;
        lines += apply::AuditLine(stamped) + "\n";
      }
      auto objects = aws_.S3Objects();
      const std::string object = audit_prefix_ + std::to_string(NowMs() / 1000) + "-" + id + ".jsonl";
      Status put = objects ? (*objects)->Put(object, lines, "application/x-ndjson") : Fail(std::move(objects).error());
      if (!put) std::fprintf(stderr, "moat: %s: audit log: %s\n", name_, put.error().message.c_str());
    }
    return report;
  }

  app::AwsServices& aws() { return aws_; }

 private:
  app::EnforceRequest req_;
  std::vector<uint16_t> service_ports_;
  const char* name_ = "";
  store::LocalStore local_;
  app::AwsServices aws_;
  app::HandleDeps deps_;
  std::unique_ptr<apply::FileAuditLog> to_log_, to_file_;
  apply::MemoryAuditLog one_event_;
  std::unique_ptr<apply::TeeAuditLog> audit_;
  std::string audit_prefix_;
};

// `moat lambda`: the bootstrap of the Lambda function. Options as for apply, from MOAT_* in the
// function's environment; events are applied without asking.
int Lambda(const std::vector<std::string>& args) {
  CLI::App app(
      "Run as the AWS Lambda custom runtime: each event (S3 flow-log objects, CloudTrail calls, schedules) "
      "is read and its databases reconciled.",
      "moat lambda");
  app.set_help_flag("-h,--help", "show this help");
  app::EnforceRequest req;
  std::string state, audit_log;
  std::vector<uint16_t> service_ports;
  AddEnforceOptions(app, req, state, audit_log);
  app.add_option("--service-port", service_ports, "a port that marks the responding side (repeatable)")
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

  EventRunner runner;
  if (auto st = runner.Setup(req, service_ports, audit_log, "lambda"); !st) return init_failed(st.error().message);

  std::signal(SIGTERM, OnStopSignal);
  std::signal(SIGINT, OnStopSignal);
  auto transport = http::NewCurlTransport({});
  lambda::RuntimeDeps rt;
  rt.transport = transport.get();
  rt.now_ms = NowMs;
  rt.stopping = [] { return g_stopping.load(); };
  rt.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  auto handler = [&](const lambda::Invocation& inv) {
    auto work = events::ParseEvent(inv.event, "event");
    if (!work) {
      std::fprintf(stderr, "moat: lambda: %s\n", work.error().message.c_str());
      return lambda::Outcome{false, "", "InvalidEvent", work.error().message};
    }
    auto report = runner.Handle(*work, inv.deadline_ms, inv.request_id);
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
  std::string state, audit_log, queue_url;
  std::vector<uint16_t> service_ports;
  watch::WorkerOptions options;
  AddEnforceOptions(app, req, state, audit_log);
  app.add_option("--queue", queue_url, "the queue's URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)");
  app.add_option("--service-port", service_ports, "a port that marks the responding side (repeatable)")
      ->expected(1, 1 << 16);
  app.add_option("--visibility-timeout", options.visibility_seconds,
                 "seconds a message stays hidden from other workers, renewed while it is worked on (default 60)")
      ->check(CLI::Range(10, 43200));
  app.add_option("--wait-seconds", options.wait_seconds, "long-poll wait (default 20)")->check(CLI::Range(0, 20));
  if (auto done = Parse(app, "watch", args)) return *done;
  if (queue_url.empty()) return Error("watch", "--queue URL is required");
  if (req.policy.empty()) return Error("watch", "no policy given: --policy pce, or --policy FILE");
  req.state_dir = store::StateDirectory(state, std::getenv("XDG_STATE_HOME"), std::getenv("HOME"));
  if (audit_log.empty() && !req.state_dir.starts_with("s3://")) audit_log = req.state_dir + "/audit.log";
  req.execute = true;
  options.heartbeat = std::chrono::milliseconds(options.visibility_seconds * 1000 / 3);

  EventRunner runner;
  if (auto st = runner.Setup(req, service_ports, audit_log, "watch"); !st) return Error("watch", st.error().message);
  auto receive_client = runner.aws().NewSqsClient();
  if (!receive_client) return Error("watch", receive_client.error().message);
  auto beat_client = runner.aws().NewSqsClient();
  if (!beat_client) return Error("watch", beat_client.error().message);
  aws::Sqs receive_sqs(**receive_client, queue_url), beat_sqs(**beat_client, queue_url);
  watch::SqsQueue receive_queue(receive_sqs), beat_queue(beat_sqs);

  std::signal(SIGTERM, OnStopSignal);
  std::signal(SIGINT, OnStopSignal);
  const auto log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
  auto handle = [&](const events::EventWork& work, const aws::SqsMessage& m) {
    auto report = runner.Handle(work, 0, m.id);
    if (!report) {
      log("moat: watch: message " + m.id + ": " + report.error().message);
      return false;
    }
    log("moat: watch: message " + m.id + ": " + report->Json());
    return !report->Failed();
  };
  auto stats = watch::RunWorker(
      receive_queue, beat_queue, handle, options, SystemClock(), [] { return g_stopping.load(); },
      [](bool busy) { g_busy = busy; }, log);
  if (!stats) return Error("watch", stats.error().message);
  log("moat: watch: stopped: " + std::to_string(stats->handled) + " handled, " + std::to_string(stats->failed) +
      " failed, " + std::to_string(stats->invalid) + " invalid");
  return kExitOk;
}

int Map(const std::vector<std::string>& args) {
  CLI::App app("Draw who talks to each database, and what the policy (and the plan) make of each flow.", "moat map");
  app.set_help_flag("-h,--help", "show this help");
  app::MapRequest req;
  std::string state, audit_log;
  AddEnforceOptions(app, req.enforce, state, audit_log);
  HistoryOptions history;
  AddHistoryOptions(app, history);
  app.add_option("--out", req.out, "the map: .html (one self-contained page), .svg, .dot or .json")->required();
  app.add_flag("--plan", req.with_plan,
               "read AWS and plan (nothing is written) to mark the flows the plan would cut; the databases are "
               "then RDS's");
  if (auto done = Parse(app, "map", args)) return *done;
  req.enforce.state_dir = store::StateDirectory(state, std::getenv("XDG_STATE_HOME"), std::getenv("HOME"));
  req.policy = req.enforce.policy;
  req.version = req.enforce.version;

  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  store::LocalStore local;
  app::AwsServices aws;
  app::FlowsDeps flows_deps{&local, nullptr, nullptr};
  auto observed = HistoryRequest(history, req.enforce.state_dir, "map", aws, flows_deps, now);
  if (!observed) return Error("map", observed.error().message);
  req.observed = std::move(*observed);
  app::EnforceDeps deps;
  deps.policy = {&local, nullptr};
  deps.fetch_pce_bundle = [](const std::string& v) { return app::FetchPceBundle(v, RealPceDeps()); };
  deps.aws = &aws;
  if (!aws.CustomRdsEndpoint()) deps.resolve = app::ResolveHost;
  deps.now = [now] { return now; };
  deps.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  app::PolicyDeps policy_deps{&local, [](const std::string& v) { return app::FetchPcePolicy(v, RealPceDeps()); }};
  auto report = app::RunMap(req, policy_deps, flows_deps, &deps, now);
  if (!report) return Error("map", report.error().message);
  size_t counts[4] = {0, 0, 0, 0};
  for (const traffic::MapEdge& e : report->map.edges) ++counts[static_cast<int>(e.decision)];
  std::fprintf(stderr,
               "moat: map: wrote %s (%zu bytes): %zu nodes, %zu edges (%zu allowed, %zu not allowed, %zu rejected, "
               "%zu would be cut); flows %s\n",
               req.out.c_str(), report->bytes, report->map.nodes.size(), report->map.edges.size(), counts[0], counts[1],
               counts[2], counts[3], report->observed.window.c_str());
  for (const std::string& n : report->map.notes) std::fprintf(stderr, "moat: map: note: %s\n", n.c_str());
  return kExitOk;
}

int Suggest(const std::vector<std::string>& args) {
  CLI::App app(
      "Propose label-based rules (PCE draft rule sets and IP lists) that admit the traffic observed to each "
      "database, and no unobserved workload.",
      "moat suggest");
  app.set_help_flag("-h,--help", "show this help");
  app::SuggestRunRequest req;
  std::string state, out;
  app.add_option("--policy", req.policy, "pce, or a policy bundle file (PCE collections in one JSON object)");
  app.add_option("--policy-version", req.version, "active (default), draft, or a policy version number");
  app.add_option("--target", req.targets, "a target of the policy: name or FQDN (repeatable; default: all)")
      ->expected(1, 1 << 16);
  app.add_option("--state", state, "state directory (default $XDG_STATE_HOME/moat or ~/.local/state/moat)");
  app.add_option("--out", out, "write the suggestions to this file (default: standard output)");
  HistoryOptions history;
  AddHistoryOptions(app, history);
  if (auto done = Parse(app, "suggest", args)) return *done;
  const std::string state_dir = store::StateDirectory(state, std::getenv("XDG_STATE_HOME"), std::getenv("HOME"));
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  store::LocalStore local;
  app::AwsServices aws;
  app::FlowsDeps flows_deps{&local, nullptr, nullptr};
  auto observed = HistoryRequest(history, state_dir, "suggest", aws, flows_deps, now);
  if (!observed) return Error("suggest", observed.error().message);
  req.observed = std::move(*observed);
  app::PolicyDeps policy_deps{&local, [](const std::string& v) { return app::FetchPcePolicy(v, RealPceDeps()); }};
  auto report = app::RunSuggest(req, policy_deps, flows_deps, now);
  if (!report) return Error("suggest", report.error().message);
  if (!report->observed.available) {
    return Error("suggest",
                 "no flow history yet: give --flows SOURCE to record flow logs (" + req.observed.store + ")");
  }
  if (out.empty()) {
    WriteOut(report->document);
  } else {
    std::ofstream file(out, std::ios::binary | std::ios::trunc);
    file << report->document;
    file.close();
    if (!file) return Error("suggest", out + ": cannot be written");
  }
  std::fprintf(stderr, "moat: suggest: %zu rule set(s) with %zu rule(s) and %zu IP list(s) covering %zu flow(s) (%s)\n",
               report->rule_sets, report->rules, report->ip_lists, report->flows, report->observed.window.c_str());
  return kExitOk;
}

int PceExport(const std::vector<std::string>& args) {
  CLI::App app("Snapshot the PCE's policy into a policy bundle file (--policy FILE loads it).", "moat pce export");
  app.set_help_flag("-h,--help", "show this help");
  app::PceExportRequest req;
  app.add_option("--out", req.out, "the bundle file to write")->required();
  app.add_option("--policy-version", req.version, "active (default), draft, or a policy version number");
  if (auto done = Parse(app, "pce export", args)) return *done;
  auto size = app::RunPceExport(req, RealPceDeps());
  if (!size) return Error("pce export", size.error().message);
  std::fprintf(stderr, "moat: pce export: wrote %s (%zu bytes, %s policy)\n", req.out.c_str(), *size,
               req.version.c_str());
  return kExitOk;
}

int PceUploadFlows(const std::vector<std::string>& args) {
  CLI::App app("Send the distinct flows of flow logs to the PCE's bulk traffic loader.", "moat pce upload-flows");
  app.set_help_flag("-h,--help", "show this help");
  app::PceUploadRequest req;
  app.add_option("source", req.flows.sources, "flow-log files, directories, or - for stdin")->required();
  app.add_option("--threads", req.flows.threads, "reading threads (default: one per core)");
  app.add_option("--service-port", req.flows.service_ports, "a port that marks the responding side (repeatable)")
      ->expected(1, 1 << 16);
  app.add_flag("--include-rejected", req.include_rejected, "send REJECT flows too");
  if (auto done = Parse(app, "pce upload-flows", args)) return *done;
  store::LocalStore local;
  const app::FlowsDeps flows_deps{&local, &store::NewStdinStream};
  auto report = app::RunPceUpload(req, flows_deps, RealPceDeps());
  if (!report) return Error("pce upload-flows", report.error().message);
  const auto& u = report->upload;
  WriteOut(
      fmt::format("read {} records from {} files: {} distinct flows sent in {} requests; the PCE received {}, "
                  "rejected {}\n",
                  report->flows.stats.records, report->flows.stats.files, u.sent, u.requests, u.received, u.failed));
  for (const auto& f : u.failed_flows) WriteOut("  rejected: " + f + "\n");
  if (report->flows.stats.TotalSkipped() > 0) {
    WriteOut(fmt::format("{} input lines or files were skipped (moat flows shows why)\n",
                         report->flows.stats.TotalSkipped()));
  }
  return u.failed > 0 ? kExitError : kExitOk;
}

int PceSync(const std::vector<std::string>& args) {
  CLI::App app(
      "Model the RDS databases in the PCE: an unmanaged workload, a draft virtual service and (once that is active) "
      "a service binding per database, labelled from its tags. Shows the plan, then asks before writing.",
      "moat pce sync");
  app.set_help_flag("-h,--help", "show this help");
  app::PceSyncRequest req;
  bool plan_only = false, json = false, detailed = false, yes = false;
  app.add_option("--target", req.targets,
                 "a database: DBInstanceIdentifier, cluster/<DBClusterIdentifier>, or tag:KEY=VALUE (repeatable; "
                 "default: every database)")
      ->expected(1, 1 << 16);
  app.add_option("--label-map", req.label_map,
                 "tag key -> label key, with value rewrites: a JSON file, or the JSON itself: {\"TagKey\": {\"label\": "
                 "\"app\", \"values\": {\"tag value\": \"Label value\"}}}");
  app.add_flag("--prune", req.prune, "delete moat's objects of databases that no longer exist");
  app.add_flag("--provision", req.provision,
               "provision the draft virtual services moat changed (a change subset, with a commit message naming "
               "moat), then bind them");
  app.add_flag("--plan", plan_only, "only show the plan; write nothing");
  app.add_flag("--detailed-exitcode", detailed, "with --plan: exit 0: no changes, 2: changes, 1: error");
  app.add_flag("--yes", yes, "do not ask before changing the PCE");
  app.add_flag("--json", json, "print JSON (keys documented in docs/formats.md)");
  if (auto done = Parse(app, "pce sync", args)) return *done;
  req.execute = !plan_only;

  app::AwsServices aws;
  app::PceSyncDeps deps;
  deps.aws = &aws;
  deps.pce = RealPceDeps();
  if (!aws.CustomRdsEndpoint()) deps.resolve = app::ResolveHost;
  deps.confirm = [&](const app::PceSyncReport& plan) {
    return Confirm(yes, "pce sync", "writing to the PCE", "Write these changes to the PCE?", json,
                   [&](bool as_json) { return as_json ? app::RenderPceSyncJson(plan) : app::RenderPceSyncText(plan); });
  };
  auto report = app::RunPceSync(req, deps);
  if (!report) return Error("pce sync", report.error().message);
  if (report->cancelled) {
    if (isatty(STDIN_FILENO) != 0) WriteOut("Cancelled: nothing was changed.\n");
    return kExitError;
  }
  WriteOut(json ? app::RenderPceSyncJson(*report) : app::RenderPceSyncText(*report));
  std::fflush(stdout);
  if (!report->errors.empty()) {
    return Error("pce sync", report->executed ? "not every change could be written (see above)"
                                              : "nothing was written (see above)");
  }
  if (plan_only && detailed && report->HasWork()) return kExitChanges;
  return kExitOk;
}

int Pce(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    WriteOut(
        "usage: moat pce export --out FILE [--policy-version V]\n"
        "       moat pce upload-flows SOURCE... [--include-rejected]\n"
        "       moat pce sync [--label-map FILE] [--target ID]... [--prune] [--provision] [--plan] [--yes]\n"
        "The PCE is reached with ILLUMIO_PCE_HOST, ILLUMIO_PCE_PORT, ILLUMIO_PCE_ORG_ID,\n"
        "ILLUMIO_API_KEY_USERNAME, ILLUMIO_API_KEY_SECRET, ILLUMIO_CA_FILE, ILLUMIO_ALLOW_INSECURE_TLS.\n");
    return args.empty() ? kExitError : kExitOk;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "export") return PceExport(rest);
  if (args[0] == "upload-flows") return PceUploadFlows(rest);
  if (args[0] == "sync") return PceSync(rest);
  return Error("pce", "unknown subcommand '" + args[0] + "'; expected 'export', 'upload-flows' or 'sync'");
}

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>& args);
};

constexpr Command kCommands[] = {
    {"flows", "read flow logs (files, -, directories) -> summary table; --json", Flows},
    {"policy", "policy show --policy SRC: print the targets a policy protects and their allow sets", Policy},
    {"plan", "compute the security-group plan; --json, --detailed-exitcode",
     [](const std::vector<std::string>& a) { return Enforce(a, false); }},
    {"apply", "compute and execute the plan; --yes not to ask",
     [](const std::vector<std::string>& a) { return Enforce(a, true); }},
    {"map", "map --out FILE: traffic map with policy decisions (.html, .svg, .dot, .json)", Map},
    {"suggest", "propose label-based rules (PCE draft JSON) that admit the observed traffic", Suggest},
    {"pce", "pce export --out FILE | pce upload-flows SOURCE... | pce sync: work with an Illumio PCE", Pce},
    {"lambda", "run as the AWS Lambda custom-runtime loop (the bootstrap)", Lambda},
    {"watch", "watch --queue URL: long-poll an SQS queue of S3 notifications", Watch},
    {"help", "print this table; help COMMAND prints a command's options", Help},
};

const Command* Find(const std::string& name) {
  for (const Command& c : kCommands) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

int Help(const std::vector<std::string>& args) {
  if (!args.empty()) {
    const Command* c = Find(args[0]);
    if (c == nullptr) return Error("help", "unknown command '" + args[0] + "'");
    return c->run({"--help"});
  }
  std::string out =
      "usage: moat COMMAND [options]\n\n"
      "moat keeps network access to managed databases equal to a label-based policy,\n"
      "and shows who actually talks to them.\n\ncommands:\n";
  for (const Command& c : kCommands) out += fmt::format("  {:<8} {}\n", c.name, c.summary);
  out +=
      "\nEvery option --a-b can also be set as MOAT_A_B in the environment.\n"
      "moat --version prints the version.\n";
  WriteOut(out);
  return kExitOk;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return Help({});
  const std::string first = args.front();
  args.erase(args.begin());
  if (first == "--version" || first == "-V" || first == "version") {
    WriteOut(fmt::format("moat {}\n", MOAT_VERSION));
    return kExitOk;
  }
  if (first == "--help" || first == "-h") return Help({});
  const Command* c = Find(first);
  if (c == nullptr) return Error(first, "unknown command; 'moat help' lists the commands");
  return c->run(args);
}

}  // namespace
}  // namespace moat::cli

int main(int argc, char** argv) { return moat::cli::Main(argc, argv); }
