#include "cli/help.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <string_view>

namespace moat::cli {
namespace {

constexpr size_t kWidth = 100;       // help lines wrap here
constexpr size_t kFlagsColumn = 30;  // descriptions start here

const std::vector<HelpText> kHelpTexts = {
    {"flows", "flows [options] SOURCE...",
     "# summarise every .log and .log.gz under a directory\n"
     "moat flows vpc-flow-logs/\n"
     "# the same from S3, as JSON\n"
     "moat flows --json s3://my-flow-logs/AWSLogs/ > flows.json\n"
     "zcat eni-0a1b.log.gz | moat flows -",
     "0  the flow logs were read\n"
     "1  an error, or no flow-log file found or readable"},
    {"policy show", "policy show --policy SRC [options]",
     "moat policy show --policy pce\n"
     "moat policy show --policy bundle.json --target orders-db --json",
     "0  every target compiled exactly\n"
     "1  an error, or a target that cannot be compiled exactly"},
    {"plan", "plan [options]",
     "# what apply would change on every database the policy protects\n"
     "moat plan --policy pce\n"
     "# one database, judged against the flows of the last week\n"
     "moat plan --policy bundle.json --target orders-db --flows s3://my-flow-logs/ --since 7d\n"
     "moat plan --policy pce --detailed-exitcode --json > plan.json\n"
     "# every active account of the organisation, in every region it has enabled\n"
     "moat plan --policy pce --accounts org --regions all --external-id \"$MOAT_EXTERNAL_ID\"",
     "0  success (with --detailed-exitcode: no changes)\n"
     "1  an error, or a database (or an account-region) that could not be planned\n"
     "2  changes present (only with --detailed-exitcode)\n"
     "3  the only changes are held back by a guard (only with --detailed-exitcode)"},
    {"apply", "apply [options]",
     "moat apply --policy pce\n"
     "moat apply --policy pce --target tag:team=payments --yes\n"
     "# compute and report, never write\n"
     "moat apply --policy pce --mode visibility\n"
     "# one database of one member account\n"
     "moat apply --policy pce --accounts 111122223333 --target 111122223333/eu-west-1/orders-db",
     "0    applied, or nothing to change\n"
     "1    an error, cancelled, or a database (or an account-region) not applied\n"
     "130  interrupted by SIGINT after finishing the database in hand (143: SIGTERM)"},
    {"map", "map --out FILE [options]",
     "moat map --policy pce --flows s3://my-flow-logs/ --out map.html\n"
     "# every RDS database, protected or not, and the flows the plan would cut (reads AWS, writes nothing)\n"
     "moat map --policy bundle.json --plan --out map.html\n"
     "# one database, its 30 busiest consumer groups, as JSON\n"
     "moat map --policy pce --target orders-db --top 30 --out orders-db.json",
     "0  the map was written\n"
     "1  an error (a --target that names no database among them)"},
    {"suggest", "suggest [options]",
     "moat suggest --policy pce --flows vpc-flow-logs/ --out draft-rules.json\n"
     "moat suggest --policy pce --target orders-db --push --plan\n"
     "moat suggest --policy pce --target orders-db --push   # then review and provision in the PCE",
     "0  suggestions written (with --push: written to the draft policy, or planned with --plan)\n"
     "1  an error, no flow history yet, a --target that names no database, or a write the PCE refused"},
    {"pce export", "pce export --out FILE [options]",
     "moat pce export --out bundle.json\n"
     "moat pce export --policy-version draft --out draft.json",
     "0  the bundle was written\n"
     "1  an error"},
    {"pce upload-flows", "pce upload-flows [options] SOURCE...",
     "moat pce upload-flows vpc-flow-logs/\n"
     "moat pce upload-flows --include-rejected s3://my-flow-logs/AWSLogs/",
     "0  every flow was received\n"
     "1  an error, or flows the PCE rejected"},
    {"pce sync", "pce sync [options]",
     "moat pce sync --plan --label-map labels.json\n"
     "moat pce sync --label-map labels.json --provision --yes",
     "0  success (with --plan --detailed-exitcode: no changes)\n"
     "1  an error, cancelled, or a change that could not be written\n"
     "2  changes present (only with --plan --detailed-exitcode)"},
    {"lambda", "lambda [options]",
     "# the function's bootstrap; Lambda sets AWS_LAMBDA_RUNTIME_API, the stack sets MOAT_*\n"
     "MOAT_POLICY=pce MOAT_FLOW_LOG_BUCKET=my-flow-logs moat lambda",
     "0  stopped by SIGTERM or SIGINT\n"
     "1  an error (a setting it cannot use is also reported to Lambda as an init error)"},
    {"watch", "watch --queue URL [options]",
     "moat watch --policy pce --flow-log-bucket my-flow-logs \\\n"
     "    --queue https://sqs.eu-west-1.amazonaws.com/123456789012/moat-events",
     "0  stopped by SIGTERM or SIGINT, after the message in hand\n"
     "1  an error"},
    {"completion", "completion bash|zsh",
     "moat completion bash > ~/.local/share/bash-completion/completions/moat\n"
     "moat completion zsh > ~/.zfunc/_moat",
     "0  the script was written\n"
     "1  an error"},
};

struct Grouping {
  std::string_view option;
  std::string_view group;
  std::string_view metavar;  // "" for a flag or the type's own
};

constexpr Grouping kGroupings[] = {
    {"--policy", "Policy", "SRC"},
    {"--policy-version", "Policy", "VERSION"},
    {"--policy-timeout", "Policy", "SECONDS"},
    {"--target", "Policy", "ID"},
    {"--keep-group", "Policy", "GROUP"},
    {"--label-map", "Policy", "FILE|JSON"},
    {"--push", "Policy", ""},
    {"--flows", "Flow logs", "SOURCE"},
    {"--since", "Flow logs", "WHEN"},
    {"--threads", "Flow logs", "N"},
    {"--service-port", "Flow logs", "PORT"},
    {"--flow-log-bucket", "Flow logs", "BUCKET"},
    {"--include-rejected", "Flow logs", ""},
    {"--max-revoke-share", "Safety guards", "SHARE"},
    {"--allow-large-revoke", "Safety guards", ""},
    {"--allow-empty", "Safety guards", ""},
    {"--allow-breaking", "Safety guards", ""},
    {"--over-permission-budget", "Safety guards", "N"},
    {"--allow-other-account", "Safety guards", ""},
    {"--rules-per-group", "AWS quotas", "N"},
    {"--groups-per-interface", "AWS quotas", "N"},
    {"--max-rules-times-groups", "AWS quotas", "N"},
    {"--region", "AWS", "REGION"},
    {"--profile", "AWS", "NAME"},
    {"--accounts", "AWS", "IDS|org"},
    {"--ou", "AWS", "OU"},
    {"--regions", "AWS", "REGIONS|all"},
    {"--role-name", "AWS", "NAME"},
    {"--external-id", "AWS", "ID"},
    {"--reconcile-queue", "AWS", "URL"},
    {"--queue", "AWS", "URL"},
    {"--visibility-timeout", "AWS", "SECONDS"},
    {"--wait-seconds", "AWS", "SECONDS"},
    {"--json", "Output", ""},
    {"--detailed-exitcode", "Output", ""},
    {"--no-color", "Output", ""},
    {"--out", "Output", "FILE"},
    {"--top", "Output", "N"},
    {"--limit", "Output", "N"},
    {"--quiet", "Output", ""},
    {"--state", "General", "DIR"},
    {"--audit-log", "General", "FILE"},
    {"--mode", "General", "MODE"},
    {"--config", "General", "FILE"},
};

constexpr std::string_view kGroupOrder[] = {"Arguments",  "Policy", "Flow logs", "Safety guards",
                                            "AWS quotas", "AWS",    "Output",    "General"};

const Grouping* FindGrouping(const std::string& option) {
  for (const Grouping& g : kGroupings) {
    if (g.option == option) return &g;
  }
  return nullptr;
}

std::string Upper(std::string s) {
  for (char& c : s) c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// A value's placeholder: the option's own, else one by its type.
std::string Metavar(const CLI::Option& opt, const Grouping* g) {
  if (g != nullptr && !g->metavar.empty()) return std::string(g->metavar);
  const std::string type = opt.get_type_name();
  if (type == "INT" || type == "UINT") return "N";
  if (type == "FLOAT") return "NUMBER";
  return "VALUE";
}

OptionInfo DescribeOption(const CLI::Option& opt) {
  OptionInfo info;
  info.description = opt.get_description();
  if (opt.get_lnames().empty() && opt.get_snames().empty()) {
    info.flags = Upper(opt.get_name()) + (opt.get_items_expected_max() > 1 ? "..." : "");
    info.group = "Arguments";
    return info;
  }
  for (const std::string& s : opt.get_snames()) {
    info.flags += "-" + s + ", ";
    info.names.push_back("-" + s);
  }
  const std::string first = opt.get_lnames().empty() ? "" : "--" + opt.get_lnames().front();
  for (const std::string& l : opt.get_lnames()) info.names.push_back("--" + l);
  info.flags += first;
  const Grouping* g = FindGrouping(first);
  if (opt.get_expected_max() != 0) info.flags += " " + Metavar(opt, g);
  info.group = g != nullptr ? std::string(g->group) : "General";
  return info;
}

// `text` word-wrapped to `width` columns, every line after the first indented by `indent`.
std::string Wrap(const std::string& text, size_t indent, size_t first_column) {
  std::string out;
  size_t column = first_column;
  size_t i = 0;
  while (i < text.size()) {
    const size_t end = std::min(text.find(' ', i), text.size());
    const std::string_view word(text.data() + i, end - i);
    if (column > indent && column + 1 + word.size() > kWidth) {
      out += "\n" + std::string(indent, ' ');
      column = indent;
    } else if (column > indent) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    i = end + 1;
  }
  return out;
}

std::vector<std::string> Lines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find('\n', start), text.size());
    lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// The groups of `options` in kGroupOrder, each with its options in their order.
std::vector<std::pair<std::string, std::vector<const OptionInfo*>>> Grouped(const std::vector<OptionInfo>& options) {
  std::vector<std::pair<std::string, std::vector<const OptionInfo*>>> groups;
  for (std::string_view name : kGroupOrder) {
    std::vector<const OptionInfo*> in;
    for (const OptionInfo& o : options) {
      if (o.group == name) in.push_back(&o);
    }
    if (!in.empty()) groups.emplace_back(std::string(name), std::move(in));
  }
  return groups;
}

size_t Distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: insertions, deletions, substitutions and adjacent transpositions.
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

const std::vector<HelpText>& HelpTexts() { return kHelpTexts; }

const HelpText* FindHelpText(const std::string& path) {
  for (const HelpText& h : kHelpTexts) {
    if (path == h.path) return &h;
  }
  return nullptr;
}

CommandInfo Describe(const CLI::App& app, const std::string& path) {
  CommandInfo info{path, app.get_description(), {}};
  for (const CLI::Option* opt : app.get_options()) info.options.push_back(DescribeOption(*opt));
  return info;
}

std::string RenderHelp(const CommandInfo& command, const HelpText& text) {
  std::string out = fmt::format("Usage: moat {}\n\n{}\n", text.usage, Wrap(command.description, 0, 0));
  for (const auto& [group, options] : Grouped(command.options)) {
    out += "\n" + group + ":\n";
    for (const OptionInfo* o : options) {
      std::string line = "  " + o->flags;
      if (line.size() + 2 > kFlagsColumn) {
        line += "\n" + std::string(kFlagsColumn, ' ');
      } else {
        line.resize(kFlagsColumn, ' ');
      }
      out += line + Wrap(o->description, kFlagsColumn, kFlagsColumn) + "\n";
    }
  }
  out += "\nExamples:\n";
  for (const std::string& l : Lines(text.examples)) out += "  " + l + "\n";
  out += "\nExit status:\n";
  for (const std::string& l : Lines(text.exit_status)) out += "  " + l + "\n";
  return out;
}

std::string DidYouMean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = word.size() >= 6 ? 3 : word.size() >= 4 ? 2 : 1;  // the first distance not accepted
  for (const std::string& c : candidates) {
    if (const size_t d = Distance(word, c); d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

}  // namespace moat::cli
