#include "cli/color.h"

#include <string_view>

namespace moat::cli {
namespace {

constexpr std::string_view kReset = "\033[0m";

// The colour of a line, or "" for none.
std::string_view LineColor(std::string_view line) {
  const size_t first = line.find_first_not_of(' ');
  if (first == std::string_view::npos) return "";
  if (first + 1 < line.size() && line[first + 1] != ' ') return "";
  switch (line[first]) {
    case '+':
      return "\033[32m";
    case '-':
    case 'x':
      return "\033[31m";
    case '~':
      return "\033[33m";
    default:
      return "";
  }
}

}  // namespace

bool WantColor(bool no_color_flag, bool json, const char* no_color_env, const char* term, bool stdout_is_tty) {
  if (no_color_flag || json || !stdout_is_tty) return false;
  if (no_color_env != nullptr && *no_color_env != '\0') return false;
  return term == nullptr || std::string_view(term) != "dumb";
}

std::string ColorDiff(const std::string& text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  size_t start = 0;
  while (start < text.size()) {
    const size_t newline = text.find('\n', start);
    const size_t end = newline == std::string::npos ? text.size() : newline;
    const std::string_view line(text.data() + start, end - start);
    const std::string_view color = LineColor(line);
    if (color.empty()) {
      out += line;
    } else {
      out.append(color).append(line).append(kReset);
    }
    if (newline != std::string::npos) out += '\n';
    start = end + 1;
  }
  return out;
}

}  // namespace moat::cli
