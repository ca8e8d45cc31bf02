// `moat policy show` output: the targets and their allow sets as JSON (the keys of DESIGN.md §4
// are a contract) or as text. Pure functions.
#pragma once

#include <string>
#include <vector>

#include "compile/compile.h"

namespace moat::compile {

// The policy's warnings, then each target's as "<target>: <warning>".
std::vector<std::string> AllWarnings(const Compiled& compiled);

std::string RenderJson(const Compiled& compiled);
std::string RenderText(const Compiled& compiled);

}  // namespace moat::compile
