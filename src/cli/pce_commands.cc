// `moat policy show` and `moat pce export | upload-flows | sync`: the commands that read the
// policy or work with an Illumio PCE (reached with the ILLUMIO_* environment).
#include <fmt/format.h>
#include <unistd.h>

#include "app/pce.h"
#include "app/pce_sync.h"
#include "app/policy.h"
#include "cli/command.h"
#include "compile/render.h"

namespace moat::cli {
namespace {

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
  AddAwsOptions(app);
  if (auto done = Parse(app, "policy show", args)) return *done;
  app::Services services;
  auto compiled = app::RunPolicyShow(req, services.Policy());
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

}  // namespace

int Policy(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") return SubcommandUsage("policy", !args.empty());
  if (args[0] != "show") return UnknownSubcommand("policy", args[0]);
  return PolicyShow(std::vector<std::string>(args.begin() + 1, args.end()));
}

namespace {

int PceExport(const std::vector<std::string>& args) {
  CLI::App app("Snapshot the PCE's policy into a policy bundle file (--policy FILE loads it).", "moat pce export");
  app.set_help_flag("-h,--help", "show this help");
  app::PceExportRequest req;
  app.add_option("--out", req.out, "the bundle file to write")->required();
  app.add_option("--policy-version", req.version, "active (default), draft, or a policy version number");
  AddAwsOptions(app);
  if (auto done = Parse(app, "pce export", args)) return *done;
  app::Services services;
  auto size = app::RunPceExport(req, services.Pce());
  if (!size) return Error("pce export", size.error().message);
  std::fprintf(stderr, "moat: pce export: wrote %s (%zu bytes, %s policy)\n", req.out.c_str(), *size,
               req.version.c_str());
  return kExitOk;
}

int PceUploadFlows(const std::vector<std::string>& args) {
  CLI::App app("Send the distinct flows of flow logs to the PCE's bulk traffic loader.", "moat pce upload-flows");
  app.set_help_flag("-h,--help", "show this help");
  app::PceUploadRequest req;
  app.add_option("source", req.flows.sources, "flow-log files, directories, s3://bucket/prefix, or - for stdin")
      ->required();
  app.add_option("--threads", req.flows.threads, "reading threads (default: one per core)")->check(WholeNumber(0, 256));
  app.add_option("--service-port", req.flows.service_ports, "a port that marks the responding side (repeatable)")
      ->expected(1, 1 << 16)
      ->check(WholeNumber(1, 65535));
  app.add_flag("--include-rejected", req.include_rejected, "send REJECT flows too");
  AddAwsOptions(app);
  if (auto done = Parse(app, "pce upload-flows", args)) return *done;
  app::Services services;
  auto flows = services.FlowsFor(req.flows.sources);  // S3 as for `moat flows`
  if (!flows) return Error("pce upload-flows", flows.error().message);
  auto report = app::RunPceUpload(req, *flows, services.Pce());
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
  bool plan_only = false, json = false, detailed = false, yes = false, no_color = false;
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
  AddColorOption(app, no_color);
  AddAwsOptions(app);
  app::FleetOptions fleet_options;
  AddFleetOptions(app, fleet_options);
  if (auto done = Parse(app, "pce sync", args)) return *done;
  req.execute = !plan_only;
  if (auto st = app::CheckFleetOptions(fleet_options); !st) return Error("pce sync", st.error().message);

  app::Services services;
  app::PceSyncDeps deps;
  deps.aws = &services.aws();
  app::Fleet fleet(services.aws(), fleet_options);
  if (fleet_options.Enabled()) {
    auto places = fleet.Places();
    if (!places) return Error("pce sync", places.error().message);
    deps.places = std::move(*places);
  }
  deps.pce = services.Pce();
  deps.resolve = services.Resolver();
  deps.confirm = [&](const app::PceSyncReport& plan) {
    return Confirm(yes, "pce sync", "writing to the PCE", "Write these changes to the PCE?", json, [&](bool as_json) {
      return as_json ? app::RenderPceSyncJson(plan) : Colored(app::RenderPceSyncText(plan), no_color, false);
    });
  };
  auto report = app::RunPceSync(req, deps);
  if (!report) return Error("pce sync", report.error().message);
  if (report->cancelled) {
    if (isatty(STDIN_FILENO) != 0) WriteOut("Cancelled: nothing was changed.\n");
    return kExitError;
  }
  WriteOut(json ? app::RenderPceSyncJson(*report) : Colored(app::RenderPceSyncText(*report), no_color, false));
  std::fflush(stdout);
  if (!report->errors.empty()) {
    return Error("pce sync", report->executed ? "not every change could be written (see above)"
                                              : "nothing was written (see above)");
  }
  if (!report->skipped.empty()) {
    return Error("pce sync", std::to_string(report->skipped.size()) +
                                 " account-region(s) could not be read and were left as they are in the PCE (see "
                                 "above); the others were " +
                                 (report->executed ? "written" : "planned"));
  }
  if (plan_only && detailed && report->HasWork()) return kExitChanges;
  return kExitOk;
}

}  // namespace

int Pce(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") return SubcommandUsage("pce", !args.empty());
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "export") return PceExport(rest);
  if (args[0] == "upload-flows") return PceUploadFlows(rest);
  if (args[0] == "sync") return PceSync(rest);
  return UnknownSubcommand("pce", args[0]);
}

}  // namespace moat::cli
