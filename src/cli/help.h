// The words around moat's commands: one help format for every command (usage, description,
// options by group, examples, exit status), the bash and zsh completion scripts and the man page,
// all rendered from the same tables — the commands' CLI11 options and kHelpTexts below — and the
// "did you mean" of a mistyped command or option. Pure functions over values; nothing here prints.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace moat::cli {

// What a command's help says besides its options.
struct HelpText {
  const char* path;         // "plan", "pce sync"
  const char* usage;        // after "moat ": "plan [options]"
  const char* examples;     // lines of "command" or "# comment", separated by '\n'
  const char* exit_status;  // lines of "CODE  meaning", separated by '\n'
};

// The help texts of every command, in the order `moat help` lists them.
const std::vector<HelpText>& HelpTexts();
// The help text of `path`; nullptr when there is none.
const HelpText* FindHelpText(const std::string& path);

// One option as the help shows it.
struct OptionInfo {
  std::string flags;               // "--policy SRC", "-h, --help", "SOURCE..."
  std::vector<std::string> names;  // "--policy" (what a shell completes); empty for arguments
  std::string description;
  std::string group;  // "Policy", "Flow logs", ...
};

// A command: its path, description and options (from its CLI::App).
struct CommandInfo {
  std::string path;
  std::string description;
  std::vector<OptionInfo> options;
};
CommandInfo Describe(const CLI::App& app, const std::string& path);

// `moat PATH --help`: usage, description, options by group, examples, exit status.
std::string RenderHelp(const CommandInfo& command, const HelpText& text);

// The bash and zsh completion scripts and the man page (roff) of these commands, `top` being the
// first-level commands with their summaries (for the subcommands: "policy show" is under "policy").
struct CommandSummary {
  std::string name;
  std::string summary;
  std::vector<std::string> words;  // what may follow it: subcommands ("show"), or fixed arguments ("bash")
};
std::string RenderBashCompletion(const std::vector<CommandSummary>& top, const std::vector<CommandInfo>& commands);
std::string RenderZshCompletion(const std::vector<CommandSummary>& top, const std::vector<CommandInfo>& commands);
std::string RenderManPage(const std::vector<CommandSummary>& top, const std::vector<CommandInfo>& commands,
                          const std::string& version);

// The candidate nearest to `word` by edit distance when it is near enough to be a typo; "" if none.
std::string DidYouMean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace moat::cli
