#include "base/progress.h"

#include <unistd.h>

#include <algorithm>

namespace moat {

bool ProgressWanted(bool quiet) { return !quiet && isatty(STDOUT_FILENO) == 1 && isatty(STDERR_FILENO) == 1; }

Progress::Progress(std::string label, uint64_t total, bool enabled, Clock& clock)
    : label_(std::move(label)), total_(total), enabled_(enabled), clock_(clock) {}

Progress::~Progress() { Finish(); }

void Progress::Set(uint64_t done, uint64_t total) {
  done_ = done;
  total_ = total;
  if (!enabled_) return;
  const int64_t now = clock_.MonotonicMs();
  if (drawn_ && now - last_ms_ < 100 && done_ < total_) return;
  last_ms_ = now;
  Draw();
}

void Progress::Finish() {
  if (!enabled_ || !drawn_) return;
  const std::string clear = "\r\033[K";
  (void)!write(STDERR_FILENO, clear.data(), clear.size());
  drawn_ = false;
}

std::string Progress::Render(const std::string& label, uint64_t done, uint64_t total, int width) {
  std::string line = label + " [";
  const int bar = std::max(width, 1);
  if (total > 0) {
    const uint64_t shown = std::min(done, total);
    const int filled = static_cast<int>(shown * static_cast<uint64_t>(bar) / total);
    line += std::string(static_cast<size_t>(filled), '#') + std::string(static_cast<size_t>(bar - filled), '-');
    const uint64_t percent = shown * 100 / total;
    line += "] " +
            std::string(percent < 10    ? "  "
                        : percent < 100 ? " "
                                        : "") +
            std::to_string(percent) + "%  " + std::to_string(done) + "/" + std::to_string(total);
  } else {
    line += std::string(static_cast<size_t>(bar), '-') + "] " + std::to_string(done);
  }
  return line;
}

void Progress::Draw() {
  const std::string line = "\r" + Render(label_, done_, total_, 30) + "\033[K";
  (void)!write(STDERR_FILENO, line.data(), line.size());
  drawn_ = true;
}

}  // namespace moat
