// The completion scripts and the man page, rendered from the commands' options and help texts
// (cli/help.h).
#include <fmt/format.h>

#include "cli/help.h"

namespace moat::cli {
namespace {

std::string Join(const std::vector<std::string>& words, const char* sep) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : sep) + w;
  return out;
}

std::vector<std::string> OptionNames(const CommandInfo& c) {
  std::vector<std::string> names;
  for (const OptionInfo& o : c.options) names.insert(names.end(), o.names.begin(), o.names.end());
  return names;
}

// The subcommand paths ("policy show"), as the scripts match them.
std::vector<std::string> TwoWordPaths(const std::vector<CommandInfo>& commands) {
  std::vector<std::string> paths;
  for (const CommandInfo& c : commands) {
    if (c.path.find(' ') != std::string::npos) paths.push_back("\"" + c.path + "\"");
  }
  return paths;
}

// `s` inside single quotes for a shell.
std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// `s` as roff text: backslashes and hyphens escaped, no line taken for a request.
std::string Roff(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out = "\\&" + out;
  return out;
}

// A block of roff whose lines starting with '.' are requests (their arguments escaped as text).
std::string RoffBlock(const std::string& text) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = std::min(text.find('\n', start), text.size());
    const std::string line = text.substr(start, end - start);
    out += (line.starts_with(".") ? "." + Roff(line.substr(1)) : Roff(line)) + "\n";
    start = end + 1;
  }
  return out;
}

std::string RoffLines(const std::string& text) {
  std::string out = ".RS\n.nf\n";
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = std::min(text.find('\n', start), text.size());
    out += Roff(text.substr(start, end - start)) + "\n";
    start = end + 1;
  }
  return out + ".fi\n.RE\n";
}

std::string ManCommand(const CommandInfo& c) {
  const HelpText* text = FindHelpText(c.path);
  std::string out = ".SS \"" + Roff(text != nullptr ? "moat " + std::string(text->usage) : "moat " + c.path) + "\"\n";
  out += Roff(c.description) + "\n";
  for (const OptionInfo& o : c.options) {
    out += ".TP\n.B " + Roff(o.flags) + "\n" + Roff(o.description) + "\n";
  }
  if (text != nullptr) {
    out += ".PP\nExamples:\n" + RoffLines(text->examples);
    out += ".PP\nExit status:\n" + RoffLines(text->exit_status);
  }
  return out;
}

}  // namespace

std::string RenderBashCompletion(const std::vector<CommandSummary>& top, const std::vector<CommandInfo>& commands) {
  std::vector<std::string> names;
  names.reserve(top.size());
  for (const CommandSummary& c : top) names.push_back(c.name);
  std::string out = fmt::format(
      "# bash completion for moat (moat completion bash)\n"
      "_moat() {{\n"
      "  local cur=${{COMP_WORDS[COMP_CWORD]}} key=${{COMP_WORDS[1]}} opts=''\n"
      "  if [[ $COMP_CWORD -eq 1 ]]; then\n"
      "    COMPREPLY=($(compgen -W '{}' -- \"$cur\"))\n"
      "    return\n"
      "  fi\n"
      "  if [[ $COMP_CWORD -eq 2 ]]; then\n"
      "    case $key in\n",
      Join(names, " "));
  for (const CommandSummary& c : top) {
    if (c.words.empty()) continue;
    out += fmt::format("      {}) COMPREPLY=($(compgen -W '{}' -- \"$cur\")); return ;;\n", c.name, Join(c.words, " "));
  }
  out += "    esac\n  fi\n";
  if (const auto paths = TwoWordPaths(commands); !paths.empty()) {
    out += fmt::format("  case \"$key ${{COMP_WORDS[2]}}\" in\n    {}) key=\"$key ${{COMP_WORDS[2]}}\" ;;\n  esac\n",
                       Join(paths, "|"));
  }
  out += "  case $key in\n";
  for (const CommandInfo& c : commands) {
    out += fmt::format("    \"{}\") opts='{}' ;;\n", c.path, Join(OptionNames(c), " "));
  }
  out +=
      "  esac\n"
      "  if [[ $cur == -* ]]; then\n"
      "    COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
      "  else\n"
      "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
      "  fi\n"
      "}\n"
      "complete -o filenames -o bashdefault -F _moat moat\n";
  return out;
}

std::string RenderZshCompletion(const std::vector<CommandSummary>& top, const std::vector<CommandInfo>& commands) {
  std::string out =
      "#compdef moat\n"
      "# zsh completion for moat (moat completion zsh)\n"
      "_moat() {\n"
      "  local -a items\n"
      "  local key=${words[2]}\n"
      "  if (( CURRENT == 2 )); then\n"
      "    items=(\n";
  for (const CommandSummary& c : top) out += "      " + ShellQuote(c.name + ":" + c.summary) + "\n";
  out +=
      "    )\n"
      "    _describe -t commands 'moat command' items\n"
      "    return\n"
      "  fi\n"
      "  if (( CURRENT == 3 )); then\n"
      "    case $key in\n";
  for (const CommandSummary& c : top) {
    if (!c.words.empty()) out += fmt::format("      {}) items=({}) ;;\n", c.name, Join(c.words, " "));
  }
  out += "    esac\n    if (( ${#items} )); then\n      compadd -a items\n      return\n    fi\n  fi\n";
  if (const auto paths = TwoWordPaths(commands); !paths.empty()) {
    out += fmt::format("  case \"$key ${{words[3]}}\" in\n    {}) key=\"$key ${{words[3]}}\" ;;\n  esac\n",
                       Join(paths, "|"));
  }
  out += "  case $key in\n";
  for (const CommandInfo& c : commands) {
    out += fmt::format("    \"{}\") items=(", c.path);
    for (const OptionInfo& o : c.options) {
      for (const std::string& n : o.names) out += "\n      " + ShellQuote(n + ":" + o.description);
    }
    out += "\n    ) ;;\n";
  }
  out +=
      "  esac\n"
      "  if [[ $PREFIX == -* ]]; then\n"
      "    _describe -t options 'option' items\n"
      "  else\n"
      "    _files\n"
      "  fi\n"
      "}\n"
      "_moat \"$@\"\n";
  return out;
}

std::string RenderManPage(const std::vector<CommandSummary>& top, const std::vector<CommandInfo>& commands,
                          const std::string& version) {
  std::string out = fmt::format(
      ".TH MOAT 1 \"\" \"moat {}\" \"User Commands\"\n"
      ".SH NAME\n"
      "moat \\- keep network access to managed databases equal to a label\\-based policy\n"
      ".SH SYNOPSIS\n"
      ".B moat\n"
      ".I COMMAND\n"
      "[options]\n"
      ".SH DESCRIPTION\n"
      "moat keeps the security groups of AWS RDS databases equal to an Illumio segmentation policy, and "
      "shows who actually talks to them. The commands:\n",
      Roff(version));
  for (const CommandSummary& c : top) out += ".TP\n.B " + Roff(c.name) + "\n" + Roff(c.summary) + "\n";
  out += ".SH COMMANDS\n";
  for (const CommandInfo& c : commands) out += ManCommand(c);
  out += RoffBlock(
      ".SH ENVIRONMENT\n"
      "Every option --a-b can also be set as MOAT_A_B in the environment (repeatable options "
      "comma-separated), or as a_b in the TOML file of --config; flags win over the environment, the "
      "environment over the file.\n"
      ".TP\n.B AWS_REGION, AWS_DEFAULT_REGION, AWS_PROFILE\n"
      "The AWS region and profile (--region and --profile set them), with AWS_ACCESS_KEY_ID, "
      "AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, the shared credentials and config files, container "
      "credentials, IMDSv2, AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>.\n"
      ".TP\n.B ILLUMIO_PCE_HOST, ILLUMIO_PCE_PORT, ILLUMIO_PCE_ORG_ID\n"
      "The Illumio PCE, with ILLUMIO_API_KEY_USERNAME, ILLUMIO_API_KEY_SECRET, ILLUMIO_CA_FILE and "
      "ILLUMIO_ALLOW_INSECURE_TLS.\n"
      ".TP\n.B NO_COLOR\n"
      "When set and not empty, plan and apply never colour their output (as --no-color).\n"
      ".SH EXIT STATUS\n"
      "0 success (no changes with --detailed-exitcode); 1 error; 2 changes present (with "
      "--detailed-exitcode), or usage printed for moat, moat policy and moat pce without a command. "
      "Each command above lists its own.\n"
      ".SH SEE ALSO\n"
      "docs/operations.md and docs/formats.md in moat's source.\n");
  return out;
}

}  // namespace moat::cli
