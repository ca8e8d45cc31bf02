// Clock: the one source of time for moat's code — wall time (what is recorded and signed), a
// monotonic time (what deadlines and intervals are measured in), and sleeping. Code that reads
// or waits on time takes a Clock&; the process uses SystemClock(), tests a FakeClock
// (testing/fake_clock.h) whose sleeps advance time at once. Implementations are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>

namespace moat {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch (UTC).
  virtual int64_t WallMs() const = 0;
  // Milliseconds since an unspecified start; never goes back.
  virtual int64_t MonotonicMs() const = 0;
  virtual void Sleep(std::chrono::milliseconds duration) = 0;

  // Seconds since the Unix epoch.
  int64_t WallSeconds() const { return WallMs() / 1000; }
};

// The process's clock: system_clock, steady_clock and this_thread::sleep_for.
Clock& SystemClock();

}  // namespace moat
