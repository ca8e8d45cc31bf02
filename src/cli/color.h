// Colour for the plan and apply diffs on a terminal: lines that add (+) in green, remove (-) or
// cut (x) in red, change (~) in yellow. Never with --json, --no-color, NO_COLOR set and not empty,
// TERM=dumb, or when standard output is not a terminal. Pure functions over values.
#pragma once

#include <string>

namespace moat::cli {

// Whether to colour: `no_color_flag` (--no-color), `json` (--json), the values of NO_COLOR and
// TERM (nullptr when unset) and whether standard output is a terminal.
bool WantColor(bool no_color_flag, bool json, const char* no_color_env, const char* term, bool stdout_is_tty);

// `text` with each line whose first non-space character is '+', '-', '~' or 'x' followed by a
// space (or the end of the line) wrapped in that line's ANSI colour; other lines unchanged.
std::string ColorDiff(const std::string& text);

}  // namespace moat::cli
