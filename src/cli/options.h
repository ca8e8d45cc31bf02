// Options from the environment and from a config file: every option `--a-b` of a command can also
// be given as MOAT_A_B (DESIGN.md §4, §8), or as `a_b` in a TOML file named by --config (or
// MOAT_CONFIG), at the top level or in the command's table (`[plan]`, `[policy_show]`). Flags on
// the command line win over the environment, the environment over the file. Repeatable options are
// comma-separated in the environment (`\,` escapes a comma) and arrays in the file; booleans are
// true|false|1|0 in the environment and true|false in the file.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "base/result.h"

namespace moat::cli {

// "service-port" -> "MOAT_SERVICE_PORT".
std::string EnvName(const std::string& long_name);

// The arguments to add after `args` for the options of `command` that are set in the
// environment (looked up through `getenv`) and not on the command line.
Result<std::vector<std::string>> ArgsFromEnvironment(const CLI::App& command, const std::vector<std::string>& args,
                                                     const std::function<const char*(const char*)>& getenv);

// The arguments to add for the options of `command` set in the TOML `text` (read from `path`) and
// not in `given` (the command line plus what the environment added). `table` is the command's
// table name ("plan", "policy_show"). A key of that table that names no option is an error; a
// top-level one is left for the commands that have it.
Result<std::vector<std::string>> ArgsFromConfig(const CLI::App& command, const std::string& table,
                                                const std::vector<std::string>& given, const std::string& text,
                                                const std::string& path);

// The config file named on the command line (--config F, --config=F), else by MOAT_CONFIG; "" for none.
std::string ConfigPath(const std::vector<std::string>& args, const std::function<const char*(const char*)>& getenv);

}  // namespace moat::cli
