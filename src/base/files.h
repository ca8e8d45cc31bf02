// Files and directories of moat's own state: created private to the user (the XDG Base
// Directory specification asks 0700 of a state directory).
#pragma once

#include <filesystem>

#include "base/result.h"

namespace moat {

// Creates `dir` and its missing parents, each with mode 0700. An existing directory is left as
// it is; an existing file of that name is an error naming it.
Status MakeDirectories(const std::filesystem::path& dir);

}  // namespace moat
