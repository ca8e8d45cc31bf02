// moat's command line: argv -> request -> app -> exit code. The commands are one static table;
// each maps its options to a request, calls the app layer, and writes the result (cli/command.h).
// Errors are one line on stderr: "moat: <what>: <why>".
#include <fmt/format.h>

#include <string>
#include <vector>

#include "app/flows.h"
#include "cli/command.h"
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
  app.add_option("--threads", req.threads, "reading threads (default: one per core)")->check(CLI::Range(0u, 256u));
  app.add_option("--service-port", req.service_ports,
                 "a port that marks the responding side (repeatable; ports below 1024 always do)")
      ->expected(1, 1 << 16);
  app.add_option("--top", text.max_initiators_per_responder, "initiators shown per responder (text)");
  app.add_option("--limit", text.max_responders, "responders shown (text)");
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
