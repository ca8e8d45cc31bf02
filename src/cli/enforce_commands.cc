// `moat plan`, `moat apply`, `moat map` and `moat suggest`: the commands that read the policy
// and the flow history, and (plan, apply, map --plan) the estate.
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <fstream>

#include "app/enforce_fleet.h"
#include "app/map.h"
#include "app/suggest.h"
#include "apply/audit.h"
#include "cli/command.h"
#include "enforce/report.h"

namespace moat::cli {
namespace {

// Ctrl-C or SIGTERM before apply writes ends the process as usual (nothing was changed); once it
// writes, the first one lets it finish the database in hand and stop, the second ends it at once.
std::atomic<bool> g_writing{false};
std::atomic<int> g_interrupted{0};

void OnApplySignal(int signal) {
  if (!g_writing.load() || g_interrupted.load() != 0) {
    std::signal(signal, SIG_DFL);
    std::raise(signal);
    return;
  }
  g_interrupted.store(signal);
}

// On a terminal, one line per database as apply finishes it.
void ShowProgress(const app::TargetReport& t, int done, size_t total) {
  if (isatty(STDERR_FILENO) == 0) return;
  std::string what = !t.error.empty() ? "failed (see below)"
                     : t.applied      ? fmt::format("applied ({} calls)", t.writes)
                                      : "no changes";
  if (t.applied && !t.plan.held.empty()) what += ", policy change held";
  std::fprintf(stderr, "moat: apply: [%d/%zu] %s: %s\n", done, total, t.id.c_str(), what.c_str());
}

// Plan or apply over the places of --accounts and --regions.
int Fleet(const char* name, const app::EnforceRequest& req, const app::EnforceDeps& deps, app::Services& services,
          const app::FleetOptions& options, bool json, bool detailed, bool yes, bool no_color) {
  app::Fleet fleet(services.aws(), options);
  auto places = fleet.Places();
  if (!places) return Error(name, places.error().message);
  for (const app::Place& p : *places) {
    if (p.aws == nullptr) std::fprintf(stderr, "moat: %s: %s: skipped: %s\n", name, p.Name().c_str(), p.error.c_str());
  }
  const auto confirm = [&](const app::FleetReport& plan) {
    const bool go = Confirm(yes, name, "applying", "Apply these changes?", json, [&](bool as_json) {
      return as_json ? app::RenderFleetJson(plan) : Colored(app::RenderFleetText(plan), no_color, false);
    });
    g_writing.store(go);
    return go;
  };
  auto report = app::RunFleetEnforce(req, deps, *places, confirm);
  if (!report) return Error(name, report.error().message);
  if (report->cancelled) {
    if (isatty(STDIN_FILENO) != 0) WriteOut("Cancelled: nothing was changed.\n");
    return kExitError;
  }
  WriteOut(json ? app::RenderFleetJson(*report) : Colored(app::RenderFleetText(*report), no_color, false));
  std::fflush(stdout);
  const app::Outcome outcome = app::FleetOutcome(*report, detailed);
  if (!outcome.error.empty()) Error(name, outcome.error);
  return outcome.exit_code;
}

}  // namespace

// `moat plan` and `moat apply`: the same options; apply executes.
int Enforce(const std::vector<std::string>& args, bool execute) {
  const char* name = execute ? "apply" : "plan";
  CLI::App app(execute ? "Compute the security-group plan and execute it (make-before-break)."
                       : "Compute the security-group plan: what apply would change, and why.",
               std::string("moat ") + name);
  app.set_help_flag("-h,--help", "show this help");
  app::EnforceRequest req;
  req.execute = execute;
  bool json = false, detailed = false, yes = false, no_color = false;
  std::string state, audit_log;
  AddPlanOptions(app, req, state);
  AddApplyOptions(app, req, audit_log);
  HistoryOptions history;
  AddHistoryOptions(app, history);
  app.add_flag("--json", json, "print JSON (keys documented in docs/formats.md)");
  if (execute) {
    app.add_flag("--yes", yes, "do not ask before changing AWS");
  } else {
    app.add_flag("--detailed-exitcode", detailed,
                 "exit 0: no changes, 2: changes, 3: only changes a guard holds back, 1: error");
  }
  AddColorOption(app, no_color);
  AddAwsOptions(app);
  app::FleetOptions fleet_options;
  AddFleetOptions(app, fleet_options);
  if (auto done = Parse(app, name, args)) return *done;
  req.state_dir = StateDirectory(state);
  if (auto st = app::CheckFleetOptions(fleet_options); !st) return Error(name, st.error().message);

  app::Services services;
  app::EnforceDeps deps = services.Enforce();
  std::unique_ptr<apply::FileAuditLog> audit;
  if (execute && req.mode == "enforce") {
    auto opened =
        apply::FileAuditLog::Open(audit_log.empty() ? req.state_dir + "/audit.log" : audit_log, services.clock());
    if (!opened) return Error(name, opened.error().message);
    audit = std::move(*opened);
    deps.audit = audit.get();
  }
  app::FlowsDeps flows_deps;
  auto observed_req = HistoryRequest(history, req.state_dir, name, services, flows_deps);
  if (!observed_req) return Error(name, observed_req.error().message);
  auto observed = app::LoadObserved(*observed_req, flows_deps, services.clock().WallSeconds());
  if (!observed) return Error(name, observed.error().message);
  if (observed->available) {
    req.observed = &observed->flows;
    req.observed_places = &observed->places;
    req.observed_window = observed->window;
    req.history = &*observed;
  }
  if (fleet_options.Enabled()) {
    if (execute) {
      deps.interrupted = &g_interrupted;
      std::signal(SIGINT, OnApplySignal);
      std::signal(SIGTERM, OnApplySignal);
    }
    return Fleet(name, req, deps, services, fleet_options, json, detailed, yes, no_color);
  }
  size_t planned = 0;
  deps.confirm = [&](const app::EnforceReport& plan) {
    planned = plan.targets.size();
    const bool go = Confirm(yes, name, "applying", "Apply these changes?", json, [&](bool as_json) {
      return as_json ? enforce::RenderPlanJson(plan) : Colored(enforce::RenderPlanText(plan), no_color, false);
    });
    g_writing.store(go);
    return go;
  };
  int done = 0;
  deps.progress = [&](const app::TargetReport& t) { ShowProgress(t, ++done, planned); };
  if (execute) {
    deps.interrupted = &g_interrupted;
    std::signal(SIGINT, OnApplySignal);
    std::signal(SIGTERM, OnApplySignal);
  }
  auto report = app::RunEnforce(req, deps);
  if (!report) return Error(name, report.error().message);
  if (report->cancelled) {
    if (isatty(STDIN_FILENO) != 0) WriteOut("Cancelled: nothing was changed.\n");
    return kExitError;
  }
  WriteOut(json ? enforce::RenderPlanJson(*report) : Colored(enforce::RenderPlanText(*report), no_color, false));
  std::fflush(stdout);
  const app::Outcome outcome = app::EnforceOutcome(*report, detailed);
  if (!outcome.error.empty()) Error(name, outcome.error);
  return outcome.exit_code;
}

int Map(const std::vector<std::string>& args) {
  CLI::App app("Draw who talks to each database, and what the policy (and the plan) make of each flow.", "moat map");
  app.set_help_flag("-h,--help", "show this help");
  app::MapRequest req;
  std::string state;
  AddPlanOptions(app, req.enforce, state);
  HistoryOptions history;
  AddHistoryOptions(app, history);
  app.add_option("--out", req.out, "the map: .html (one self-contained page), .svg, .dot or .json")->required();
  app.add_flag("--plan", req.with_plan,
               "read AWS and plan (nothing is written) to mark the flows the plan would cut; the databases are "
               "then every RDS instance and Aurora cluster, protected or not");
  app.add_option("--top", req.top,
                 "consumer groups drawn per database, busiest first; the rest fold into one 'others' node (0: all)")
      ->check(CLI::Range(0, 100000));
  AddAwsOptions(app);
  app::FleetOptions fleet_options;
  AddFleetOptions(app, fleet_options);
  if (auto done = Parse(app, "map", args)) return *done;
  req.enforce.state_dir = StateDirectory(state);
  if (auto st = app::CheckFleetOptions(fleet_options); !st) return Error("map", st.error().message);
  if (fleet_options.Enabled() && !req.with_plan) {
    return Error("map", "--accounts and --regions need --plan: the databases of each account-region are read from AWS");
  }
  req.policy = req.enforce.policy;
  req.version = req.enforce.version;

  app::Services services;
  const int64_t now = services.clock().WallSeconds();
  app::FlowsDeps flows_deps;
  auto observed = HistoryRequest(history, req.enforce.state_dir, "map", services, flows_deps);
  if (!observed) return Error("map", observed.error().message);
  req.observed = std::move(*observed);
  req.progress = req.observed.progress;
  const app::EnforceDeps deps = services.Enforce();
  app::Fleet fleet(services.aws(), fleet_options);
  if (fleet_options.Enabled()) {
    auto places = fleet.Places();
    if (!places) return Error("map", places.error().message);
    req.places = std::move(*places);
  }
  auto report = app::RunMap(req, services.Policy(), flows_deps, &deps, now);
  if (!report) return Error("map", report.error().message);
  SayWindow("map", report->window_flows, report->observed);
  size_t counts[4] = {0, 0, 0, 0};
  for (const map::MapEdge& e : report->map.edges) ++counts[static_cast<int>(e.decision)];
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
      "database, and no unobserved workload; with --push, write them to the PCE's draft policy.",
      "moat suggest");
  app.set_help_flag("-h,--help", "show this help");
  app::SuggestRunRequest req;
  std::string state, out;
  app.add_option("--policy", req.policy, "pce, or a policy bundle file (PCE collections in one JSON object)");
  app.add_option("--policy-version", req.version, "active (default), draft, or a policy version number");
  app.add_option("--target", req.targets,
                 "a database of the policy: a virtual service or provider workload, by name, FQDN or RDS "
                 "identifier (repeatable; default: all)")
      ->expected(1, 1 << 16);
  app.add_option("--state", state, "state directory (default $XDG_STATE_HOME/moat or ~/.local/state/moat)");
  app.add_option("--out", out, "write the suggestions to this file (default: standard output, without --push)");
  app.add_flag("--push", req.push,
               "write the suggestions to the PCE's draft policy (never provisioned), updating moat's earlier ones");
  app.add_flag("--plan", req.push_plan, "with --push: say what it would create, update or leave; write nothing");
  HistoryOptions history;
  AddHistoryOptions(app, history);
  AddAwsOptions(app);
  if (auto done = Parse(app, "suggest", args)) return *done;
  if (req.push_plan) req.push = true;  // --plan alone plans the push
  const std::string state_dir = StateDirectory(state);
  app::Services services;
  const int64_t now = services.clock().WallSeconds();
  app::FlowsDeps flows_deps;
  auto observed = HistoryRequest(history, state_dir, "suggest", services, flows_deps);
  if (!observed) return Error("suggest", observed.error().message);
  req.observed = std::move(*observed);
  const app::PceDeps pce = services.Pce();
  auto report = app::RunSuggest(req, services.Policy(), flows_deps, now, &pce);
  if (!report) return Error("suggest", report.error().message);
  if (!report->observed.available) {
    return Error("suggest",
                 "no flow history yet: give --flows SOURCE to record flow logs (" + req.observed.store + ")");
  }
  SayWindow("suggest", report->window_flows, report->observed);
  if (!out.empty()) {
    std::ofstream file(out, std::ios::binary | std::ios::trunc);
    file << report->document;
    file.close();
    if (!file) return Error("suggest", out + ": cannot be written");
  } else if (!req.push) {
    WriteOut(report->document);
  }
  std::fprintf(stderr, "moat: suggest: %zu rule set(s) with %zu rule(s) and %zu IP list(s) covering %zu flow(s) (%s)\n",
               report->rule_sets, report->rules, report->ip_lists, report->flows, report->observed.window.c_str());
  if (!req.push) return kExitOk;
  const app::SuggestPushReport& push = report->push;
  std::string lines;
  for (const std::string& line : push.lines) lines += line + "\n";
  WriteOut(lines);
  if (!push.error.empty()) return Error("suggest: --push", push.error);
  if (req.push_plan) {
    WriteOut("plan only: nothing was written to the PCE\n");
  } else {
    WriteOut(fmt::format(
        "{} created, {} updated, {} unchanged in the PCE's draft policy{}: review them in the PCE and provision "
        "them there (moat does not provision)\n",
        push.created, push.updated, push.unchanged,
        push.conflicts > 0 ? fmt::format(", {} conflict(s) left alone", push.conflicts) : ""));
  }
  return kExitOk;
}

}  // namespace moat::cli
