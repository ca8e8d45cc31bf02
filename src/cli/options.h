// Options from the environment: every option `--a-b` of a command can also be given as
// MOAT_A_B (DESIGN.md §4, §8). Flags on the command line win over the environment. Repeatable
// options are comma-separated there (`\,` escapes a comma); booleans are true|false|1|0.
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

}  // namespace moat::cli
