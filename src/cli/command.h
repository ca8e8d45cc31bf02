// What moat's commands share: the one-line error ("moat: <what>: <why>" on stderr, exit 1),
// writing to standard output, parsing options (argv, then MOAT_* variables, then a --config TOML
// file), asking before a write, and the option groups of the commands that plan or read the flow
// history. Each command maps its options to a request, calls its app::Run*, and prints the result.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "app/enforce.h"
#include "app/fleet.h"
#include "app/observed.h"
#include "app/services.h"

namespace moat::cli {

constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitChanges = 2;
// `moat`, `moat policy` and `moat pce` without a command: the usage, on stderr.
constexpr int kExitUsage = 2;

int Error(const std::string& what, const std::string& why);
void WriteOut(const std::string& s);
// The usage of `moat PREFIX` (its subcommands) on stderr, exit kExitUsage; on stdout, exit 0, when
// `help`. An unknown subcommand `word` is an error naming the nearest one.
int SubcommandUsage(const std::string& prefix, bool help);
int UnknownSubcommand(const std::string& prefix, const std::string& word);

// Parses `args` (after the command name) into `app`, adding options from the environment and a
// --config file. Returns an exit code when the command is done already (help, or an error). An
// option the command does not have is refused with the nearest one it has ("did you mean").
std::optional<int> Parse(CLI::App& app, const std::string& command, std::vector<std::string> args);

// While set, Parse gives each command's options (and the command's path, "pce sync") to
// `describe` and returns 0 at once: how the completion scripts and the man page see every
// command's options without running it. Not thread-safe; set and cleared by one thread.
void SetDescriber(std::function<void(const CLI::App& app, const std::string& command)> describe);

// --region and --profile, for the commands that reach AWS: once parsed, they set AWS_REGION and
// AWS_PROFILE for this process (--profile also sets aside the AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN of the environment, as the AWS CLI does).
void AddAwsOptions(CLI::App& app);
// --accounts, --ou, --regions, --role-name, --external-id: the places of a run (app/fleet.h).
void AddFleetOptions(CLI::App& app, app::FleetOptions& fleet);
// --no-color, and `text` as standard output shows it: coloured (cli/color.h) on a terminal unless
// `no_color`, `json` or NO_COLOR says not to.
void AddColorOption(CLI::App& app, bool& no_color);
std::string Colored(const std::string& text, bool no_color, bool json);

// Validators of numeric options, checked on the text (so "-1" is never read as a huge unsigned
// number): a whole number from `min` to `max`, or any number from `min` to `max`.
CLI::Validator WholeNumber(int64_t min, int64_t max);
CLI::Validator Number(double min, double max);

// Whether to write what the plan shows: yes with --yes; else asked on a terminal (only "yes" goes
// on); without one, refused after printing the plan (`render(json)`: as text, or as JSON).
bool Confirm(bool yes, const std::string& command, const std::string& doing, const std::string& question, bool json,
             const std::function<std::string(bool json)>& render);

// The options that shape a plan (plan, apply, map --plan, lambda, watch): the policy, the
// targets, the kept groups, the state, the guards, the quotas and the over-permission budget.
void AddPlanOptions(CLI::App& app, app::EnforceRequest& req, std::string& state);
// The options only a run that writes uses (apply, lambda, watch): --mode and --audit-log.
void AddApplyOptions(CLI::App& app, app::EnforceRequest& req, std::string& audit_log);

// The flow history options of plan, apply, map and suggest (app/observed.h).
struct HistoryOptions {
  std::vector<std::string> flows;
  std::string since = "30d";
  unsigned threads = 0;
  bool quiet = false;
};
void AddHistoryOptions(CLI::App& app, HistoryOptions& h);
// The request for the flow history; `deps` gets S3 when a source is there.
// "moat: map: 7 of 12 recorded flow(s) fall in the window (since …); the history spans …", and a
// warning when the window holds none of them; nothing without a flow history.
void SayWindow(const char* command, uint64_t window_flows, const app::Observed& observed);

Result<app::ObservedRequest> HistoryRequest(const HistoryOptions& h, const std::string& state_dir, const char* command,
                                            app::Services& services, app::FlowsDeps& deps);

// The state directory of --state (default $XDG_STATE_HOME/moat or ~/.local/state/moat).
std::string StateDirectory(const std::string& option);

// The commands (each gets the arguments after its name).
int Flows(const std::vector<std::string>& args);
int Policy(const std::vector<std::string>& args);
int Enforce(const std::vector<std::string>& args, bool execute);
int Map(const std::vector<std::string>& args);
int Suggest(const std::vector<std::string>& args);
int Pce(const std::vector<std::string>& args);
int Lambda(const std::vector<std::string>& args);
int Watch(const std::vector<std::string>& args);
int Completion(const std::vector<std::string>& args);

}  // namespace moat::cli
