// Test helper: a Clock that moves only when told to, or when something sleeps on it (a sleep
// returns at once, the time advanced by its length). Records the sleeps it was asked for.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <vector>

#include "base/clock.h"

namespace moat::testing {

class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t wall_ms = 1764547200000 /* 2025-12-01T00:00:00Z */) : wall_ms_(wall_ms) {}

  int64_t WallMs() const override { return wall_ms_.load(); }
  int64_t MonotonicMs() const override { return monotonic_ms_.load(); }
  void Sleep(std::chrono::milliseconds duration) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      sleeps_.push_back(duration);
    }
    Advance(duration);
  }

  void Advance(std::chrono::milliseconds duration) {
    wall_ms_ += duration.count();
    monotonic_ms_ += duration.count();
  }
  std::vector<std::chrono::milliseconds> sleeps() const {
    std::lock_guard<std::mutex> lock(mu_);
    return sleeps_;
  }

 private:
  std::atomic<int64_t> wall_ms_;
  std::atomic<int64_t> monotonic_ms_{1000000};
  mutable std::mutex mu_;
  std::vector<std::chrono::milliseconds> sleeps_;
};

}  // namespace moat::testing
