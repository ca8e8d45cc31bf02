// Progress: a one-line progress bar on the terminal for long work (reading many flow-log objects,
// loading a large flow history). Drawn on stderr, at most ten times a second, and only when
// enabled — ProgressWanted(): both stdout and stderr are terminals and --quiet was not given — so
// pipes, files and CI logs never see it. One thread draws.
#pragma once

#include <cstdint>
#include <string>

#include "base/clock.h"

namespace moat {

bool ProgressWanted(bool quiet);

class Progress {
 public:
  Progress(std::string label, uint64_t total, bool enabled, Clock& clock = SystemClock());
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void Set(uint64_t done, uint64_t total);
  void Set(uint64_t done) { Set(done, total_); }
  void Add(uint64_t n) { Set(done_ + n, total_); }
  // Clears the line (the work's own output follows).
  void Finish();

  // The line as drawn, for tests: "reading flow logs [#########-----------]  45%  9/20".
  static std::string Render(const std::string& label, uint64_t done, uint64_t total, int width);

 private:
  void Draw();

  std::string label_;
  uint64_t total_ = 0, done_ = 0;
  bool enabled_ = false, drawn_ = false;
  Clock& clock_;
  int64_t last_ms_ = 0;  // monotonic time of the last draw
};

}  // namespace moat
