#include "cli/command.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "base/progress.h"
#include "base/strings.h"
#include "cli/options.h"
#include "store/state.h"

namespace moat::cli {

int Error(const std::string& what, const std::string& why) {
  std::fprintf(stderr, "moat: %s: %s\n", what.c_str(), why.c_str());
  return kExitError;
}

void WriteOut(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

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

void AddPlanOptions(CLI::App& app, app::EnforceRequest& req, std::string& state) {
  app.add_option("--policy", req.policy, "pce, or a policy bundle file (PCE collections in one JSON object)");
  app.add_option("--policy-version", req.version, "active (default), draft, or a policy version number");
  app.add_option_function<double>(
      "--policy-timeout", [&req](double seconds) { req.policy_timeout_ms = static_cast<int64_t>(seconds * 1000); },
      "seconds the policy source may take, retries included, before what moat last applied is enforced instead "
      "(default 60; under Lambda at most half the invocation's time left)");
  app.add_option("--target", req.targets,
                 "a database: DBInstanceIdentifier, cluster/<DBClusterIdentifier>, or tag:KEY=VALUE (repeatable; "
                 "default: every database the policy protects)")
      ->expected(1, 1 << 16);
  app.add_option("--keep-group", req.keep_groups, "a foreign group (id or name) to leave attached (repeatable)")
      ->expected(1, 1 << 16);
  app.add_option("--state", state, "state directory (default $XDG_STATE_HOME/moat or ~/.local/state/moat)");
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

void AddApplyOptions(CLI::App& app, app::EnforceRequest& req, std::string& audit_log) {
  app.add_option("--mode", req.mode, "enforce (default), or visibility: compute and report, never write");
  app.add_option("--audit-log", audit_log, "where apply appends its JSON lines (default STATE/audit.log)");
  app.add_flag("--allow-other-account", req.allow_other_account,
               "apply with a state last applied in another AWS account or region");
}

void AddHistoryOptions(CLI::App& app, HistoryOptions& h) {
  h.since.clear();  // empty: --since not given, the default window (HistoryRequest)
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

std::string StateDirectory(const std::string& option) {
  return store::StateDirectory(option, std::getenv("XDG_STATE_HOME"), std::getenv("HOME"));
}

Result<app::ObservedRequest> HistoryRequest(const HistoryOptions& h, const std::string& state_dir, const char* command,
                                            app::Services& services, app::FlowsDeps& deps) {
  auto since = ParseSince(h.since.empty() ? "30d" : h.since, services.clock().WallSeconds());
  if (!since) return Fail(InvalidInput("--since: " + since.error().message));
  auto with_s3 = services.FlowsFor(h.flows);
  if (!with_s3) return Fail(std::move(with_s3).error());
  deps = *with_s3;
  deps.open_stdin = nullptr;  // the history records objects, not a stream
  // The flow history's file: in the state directory, or (state in S3) the local default one.
  const std::string dir = state_dir.starts_with("s3://") ? StateDirectory("") : state_dir;
  return app::ObservedRequest{h.flows,   dir + "/flows.sqlite",  *since, !h.since.empty(), command,
                              h.threads, ProgressWanted(h.quiet)};
}

}  // namespace moat::cli
