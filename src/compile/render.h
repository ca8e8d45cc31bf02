// `moat policy show` output: the targets and their allow sets as JSON (the keys of DESIGN.md §4
// are a contract) or as text. Pure functions.
#pragma once

#include <string>

#include "compile/compile.h"

namespace moat::compile {

std::string RenderJson(const Compiled& compiled);
std::string RenderText(const Compiled& compiled);

}  // namespace moat::compile
