// moat's command line: argv -> request -> app -> exit code. The commands are one static table;
// each maps its options to a request, calls the app layer, and writes the result (cli/command.h).
// Errors are one line on stderr: "moat: <what>: <why>".
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "app/flows.h"
#include "cli/command.h"
#include "cli/help.h"
#include "traffic/report.h"

namespace moat::cli {

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
  app.add_option("--threads", req.threads, "reading threads (default: one per core)")->check(WholeNumber(0, 256));
  app.add_option("--service-port", req.service_ports,
                 "a port that marks the responding side (repeatable; ports below 1024 always do)")
      ->expected(1, 1 << 16)
      ->check(WholeNumber(1, 65535));
  app.add_option("--top", text.max_initiators_per_responder, "initiators shown per responder (text; default 5)")
      ->check(WholeNumber(0, INT32_MAX));
  app.add_option("--limit", text.max_responders, "responders shown (text; default 20)")
      ->check(WholeNumber(0, INT32_MAX));
  AddAwsOptions(app);
  if (auto done = Parse(app, "flows", args)) return *done;

  app::Services services;
  auto deps = services.FlowsFor(req.sources);
  if (!deps) return Error("flows", deps.error().message);
  auto report = app::RunFlows(req, *deps);
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

namespace {

int Help(const std::vector<std::string>& args);
int Man(const std::vector<std::string>& args);

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>& args);
};

constexpr Command kCommands[] = {
    {"flows", "read flow logs (files, -, directories, s3://bucket/prefix) -> summary table; --json", Flows},
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
    {"completion", "completion bash|zsh: print a shell completion script", Completion},
    {"help", "print this table; help COMMAND prints a command's help", Help},
};

// Run only by the build, to write the man page; not listed.
constexpr Command kHidden[] = {{"__man", "print the man page (roff)", Man}};

const Command* Find(const std::string& name) {
  for (const Command& c : kCommands) {
    if (name == c.name) return &c;
  }
  for (const Command& c : kHidden) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

std::vector<std::string> CommandNames() {
  std::vector<std::string> names;
  for (const Command& c : kCommands) names.emplace_back(c.name);
  return names;
}

// Every command's options and description, as Parse sees them (each command run in describe mode).
std::vector<CommandInfo> AllCommands() {
  std::vector<CommandInfo> out;
  SetDescriber([&out](const CLI::App& app, const std::string& command) { out.push_back(Describe(app, command)); });
  for (const HelpText& h : HelpTexts()) {
    std::vector<std::string> words;
    for (std::string_view rest = h.path; !rest.empty();) {
      const size_t space = std::min(rest.find(' '), rest.size());
      words.emplace_back(rest.substr(0, space));
      rest.remove_prefix(std::min(space + 1, rest.size()));
    }
    const std::string name = words.front();
    words.erase(words.begin());
    Find(name)->run(words);
  }
  SetDescriber(nullptr);
  return out;
}

// The first-level commands with the words that may follow each.
std::vector<CommandSummary> TopCommands() {
  std::vector<CommandSummary> top;
  for (const Command& c : kCommands) {
    CommandSummary s{c.name, c.summary, {}};
    for (const HelpText& h : HelpTexts()) {
      if (const std::string_view path = h.path; path.starts_with(s.name + " ")) {
        s.words.emplace_back(path.substr(s.name.size() + 1));
      }
    }
    if (s.name == "completion") s.words = {"bash", "zsh"};
    if (s.name == "help") s.words = CommandNames();
    top.push_back(std::move(s));
  }
  return top;
}

std::string Usage() {
  std::string out =
      "Usage: moat COMMAND [options]\n\n"
      "moat keeps network access to managed databases equal to a label-based policy,\n"
      "and shows who actually talks to them.\n\nCommands:\n";
  for (const Command& c : kCommands) out += fmt::format("  {:<11} {}\n", c.name, c.summary);
  out +=
      "\n'moat COMMAND --help' prints a command's options, examples and exit status.\n"
      "Every option --a-b can also be set as MOAT_A_B in the environment.\n"
      "moat --version prints the version.\n";
  return out;
}

int Help(const std::vector<std::string>& args) {
  if (!args.empty()) {
    const Command* c = Find(args[0]);
    if (c == nullptr) {
      const std::string near = DidYouMean(args[0], CommandNames());
      return Error("help", "unknown command '" + args[0] + "'" + (near.empty() ? "" : " (did you mean " + near + "?)"));
    }
    std::vector<std::string> rest(args.begin() + 1, args.end());
    rest.emplace_back("--help");
    return c->run(rest);
  }
  WriteOut(Usage());
  return kExitOk;
}

int Man(const std::vector<std::string>& /*args*/) {
  WriteOut(RenderManPage(TopCommands(), AllCommands(), MOAT_VERSION));
  return kExitOk;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::fputs(Usage().c_str(), stderr);
    return kExitUsage;
  }
  const std::string first = args.front();
  args.erase(args.begin());
  if (first == "--version" || first == "-V" || first == "version") {
    WriteOut(fmt::format("moat {}\n", MOAT_VERSION));
    return kExitOk;
  }
  if (first == "--help" || first == "-h") return Help({});
  const Command* c = Find(first);
  if (c == nullptr) {
    const std::string near = DidYouMean(first, CommandNames());
    return Error(first, near.empty() ? "unknown command; 'moat help' lists the commands"
                                     : "unknown command (did you mean " + near + "?)");
  }
  return c->run(args);
}

}  // namespace

int Completion(const std::vector<std::string>& args) {
  CLI::App app("Print a completion script for bash or zsh: the commands, subcommands and options of moat.",
               "moat completion");
  app.set_help_flag("-h,--help", "show this help");
  std::string shell;
  app.add_option("shell", shell, "bash or zsh")->required()->check(CLI::IsMember({"bash", "zsh"}));
  if (auto done = Parse(app, "completion", args)) return *done;
  const std::vector<CommandInfo> commands = AllCommands();
  WriteOut(shell == "bash" ? RenderBashCompletion(TopCommands(), commands)
                           : RenderZshCompletion(TopCommands(), commands));
  return kExitOk;
}

}  // namespace moat::cli

int main(int argc, char** argv) { return moat::cli::Main(argc, argv); }
