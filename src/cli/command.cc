#include "cli/command.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "base/progress.h"
#include "base/strings.h"
#include "cli/color.h"
#include "cli/help.h"
#include "cli/options.h"
#include "store/state.h"

namespace moat::cli {

int Error(const std::string& what, const std::string& why) {
  std::fprintf(stderr, "moat: %s: %s\n", what.c_str(), why.c_str());
  return kExitError;
}

void WriteOut(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

namespace {

std::function<void(const CLI::App&, const std::string&)> g_describe;

// The first argument (before any "--") that names no option of `app`, with the nearest one it
// has; nullopt when every one is known. Values never start with "--"; "-" and "-1" are values.
std::optional<std::string> UnknownOption(const CLI::App& app, const std::string& command,
                                         const std::vector<std::string>& args) {
  std::vector<std::string> known;
  for (const OptionInfo& o : Describe(app, command).options) known.insert(known.end(), o.names.begin(), o.names.end());
  for (const std::string& arg : args) {
    if (arg == "--") break;
    if (arg.size() < 2 || arg[0] != '-' || std::isdigit(static_cast<unsigned char>(arg[1])) != 0 || arg[1] == '.') {
      continue;
    }
    const std::string name = arg.substr(0, arg.find('='));
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    if (const std::string near = DidYouMean(name, known); !near.empty()) {
      return "unknown option " + name + " (did you mean " + near + "?)";
    }
    return "unknown option " + name + " ('moat " + command + " --help' lists the options)";
  }
  return std::nullopt;
}

std::string HelpOf(const CLI::App& app, const std::string& command) {
  const HelpText* text = FindHelpText(command);
  return text != nullptr ? RenderHelp(Describe(app, command), *text) : app.help();
}

}  // namespace

int SubcommandUsage(const std::string& prefix, bool help) {
  std::string out;
  for (const HelpText& h : HelpTexts()) {
    if (std::string_view(h.path).starts_with(prefix + " ")) {
      out += fmt::format("{} moat {}\n", out.empty() ? "Usage:" : "      ", h.usage);
    }
  }
  out += "\n'moat " + prefix + " COMMAND --help' prints a command's options, examples and exit status.\n";
  if (prefix == "pce") {
    out +=
        "The PCE is reached with ILLUMIO_PCE_HOST, ILLUMIO_PCE_PORT, ILLUMIO_PCE_ORG_ID,\n"
        "ILLUMIO_API_KEY_USERNAME, ILLUMIO_API_KEY_SECRET, ILLUMIO_CA_FILE, ILLUMIO_ALLOW_INSECURE_TLS.\n";
  }
  if (help) {
    WriteOut(out);
    return kExitOk;
  }
  std::fputs(out.c_str(), stderr);
  return kExitUsage;
}

int UnknownSubcommand(const std::string& prefix, const std::string& word) {
  std::vector<std::string> names;
  for (const HelpText& h : HelpTexts()) {
    if (std::string_view(h.path).starts_with(prefix + " ")) names.emplace_back(h.path + prefix.size() + 1);
  }
  const std::string near = DidYouMean(word, names);
  std::string expected;
  for (size_t i = 0; i < names.size(); ++i) {
    expected += (i == 0 ? "'" : i + 1 == names.size() ? " or '" : ", '") + names[i] + "'";
  }
  return Error(prefix, "unknown command '" + word + "'" +
                           (near.empty() ? "; expected " + expected : " (did you mean " + near + "?)"));
}

void SetDescriber(std::function<void(const CLI::App& app, const std::string& command)> describe) {
  g_describe = std::move(describe);
}

std::optional<int> Parse(CLI::App& app, const std::string& command, std::vector<std::string> args) {
  const auto getenv = [](const char* n) { return std::getenv(n); };
  std::string table = command;
  std::replace(table.begin(), table.end(), ' ', '_');
  std::string config_file;
  app.add_option("--config", config_file, "a TOML file of options: a_b = value, top level or in [" + table + "]");
  if (g_describe) {
    g_describe(app, command);
    return kExitOk;
  }
  if (auto unknown = UnknownOption(app, command, args)) return Error(command, *unknown);
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
    WriteOut(HelpOf(app, command));
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
         "(default 60; under Lambda at most half the invocation's time left)")
      ->check(Number(0.001, 86400));
  app.add_option("--target", req.targets,
                 "a database: DBInstanceIdentifier, cluster/<DBClusterIdentifier>, or tag:KEY=VALUE (repeatable; "
                 "default: every database the policy protects)")
      ->expected(1, 1 << 16);
  app.add_option("--keep-group", req.keep_groups, "a foreign group (id or name) to leave attached (repeatable)")
      ->expected(1, 1 << 16);
  app.add_option("--state", state, "state directory (default $XDG_STATE_HOME/moat or ~/.local/state/moat)");
  app.add_option("--max-revoke-share", req.guards.max_revoke_share,
                 "hold back a policy change that revokes more than this share of a target's rules (default 0.5)")
      ->check(Number(0, 1));
  app.add_flag("--allow-large-revoke", req.guards.allow_large_revoke, "apply such a change anyway");
  app.add_flag("--allow-empty", req.guards.allow_empty, "apply a policy that leaves a target with no rules");
  app.add_flag("--allow-breaking", req.guards.allow_breaking,
               "apply a policy change that cuts observed traffic the enforced state admitted");
  app.add_option("--rules-per-group", req.quotas.rules_per_group, "inbound rules per security group (default 60)")
      ->check(WholeNumber(1, 1000));
  app.add_option("--groups-per-interface", req.quotas.groups_per_interface,
                 "security groups per network interface (default 5)")
      ->check(WholeNumber(1, 16));
  app.add_option("--max-rules-times-groups", req.quotas.max_rules_times_groups,
                 "rules per group x groups per interface limit (default 1000)")
      ->check(WholeNumber(1, INT32_MAX));
  app.add_option("--over-permission-budget", req.over_permission_budget,
                 "extra addresses a target may admit when its exact rules do not fit (default 0: never; every "
                 "widening is reported)")
      ->check(WholeNumber(0, INT64_MAX));
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

void AddAwsOptions(CLI::App& app) {
  app.add_option_function<std::string>(
      "--region", [](const std::string& region) { setenv("AWS_REGION", region.c_str(), 1); },
      "the AWS region (sets AWS_REGION; default: AWS_REGION, AWS_DEFAULT_REGION, or the profile's)");
  app.add_option_function<std::string>(
      "--profile",
      [](const std::string& profile) {
        setenv("AWS_PROFILE", profile.c_str(), 1);
        for (const char* name : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}) unsetenv(name);
      },
      "the profile of the shared AWS config and credentials files (sets AWS_PROFILE; its keys are used instead "
      "of any in the environment)");
}

void AddFleetOptions(CLI::App& app, app::FleetOptions& fleet) {
  app.add_option("--accounts", fleet.accounts,
                 "AWS accounts to work on: 12-digit ids, or org (every active account of the organisation); "
                 "default: the credentials' own")
      ->delimiter(',')
      ->expected(1, 1 << 16);
  app.add_option("--ou", fleet.ou, "with --accounts org: only the accounts under this OU (ou-…) or root (r-…)");
  app.add_option("--regions", fleet.regions,
                 "AWS regions to work on: names, or all (each account's enabled regions); default: the run's region")
      ->delimiter(',')
      ->expected(1, 1 << 10);
  app.add_option("--role-name", fleet.role_name,
                 "the role moat assumes in each member account (default moat-member); the run's own account is "
                 "reached with its own credentials");
  app.add_option("--external-id", fleet.external_id, "the external id the member role's trust policy requires");
}

void AddColorOption(CLI::App& app, bool& no_color) {
  app.add_flag("--no-color", no_color, "never colour the diff (colour is used only on a terminal; NO_COLOR too)");
}

std::string Colored(const std::string& text, bool no_color, bool json) {
  if (!WantColor(no_color, json, std::getenv("NO_COLOR"), std::getenv("TERM"), isatty(STDOUT_FILENO) != 0)) {
    return text;
  }
  return ColorDiff(text);
}

CLI::Validator WholeNumber(int64_t min, int64_t max) {
  return CLI::Validator(
      [min, max](std::string& text) -> std::string {
        int64_t value = 0;
        const char* end = text.data() + text.size();
        if (auto [p, ec] = std::from_chars(text.data(), end, value);
            ec == std::errc() && p == end && value >= min && value <= max) {
          return "";
        }
        return fmt::format("must be a whole number from {} to {}, not '{}'", min, max, text);
      },
      "", "WholeNumber");
}

CLI::Validator Number(double min, double max) {
  return CLI::Validator(
      [min, max](std::string& text) -> std::string {
        char* end = nullptr;
        const double value = std::strtod(text.c_str(), &end);
        if (!text.empty() && end == text.c_str() + text.size() && value >= min && value <= max) return "";
        return fmt::format("must be a number from {} to {}, not '{}'", min, max, text);
      },
      "", "Number");
}

std::string StateDirectory(const std::string& option) {
  return store::StateDirectory(option, std::getenv("XDG_STATE_HOME"), std::getenv("HOME"));
}

void SayWindow(const char* command, uint64_t window_flows, const app::Observed& observed) {
  if (!observed.available) return;
  std::fprintf(stderr, "moat: %s: %s of %s recorded flow(s) fall in the window (%s); %s\n", command,
               WithThousands(window_flows).c_str(), WithThousands(observed.recorded).c_str(), observed.window.c_str(),
               observed.Span().c_str());
  if (window_flows == 0 && observed.recorded > 0) {
    std::fprintf(stderr, "moat: %s: warning: the window holds none of the %s recorded flow(s): give --since\n", command,
                 WithThousands(observed.recorded).c_str());
  }
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
