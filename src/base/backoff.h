// Backoff: how long to wait before retry number `attempt` (1 for the first retry): the base
// doubled per attempt, capped, then a uniform 50-100 % of that (jitter, so that many clients
// throttled together do not come back together). The one retry schedule of moat's clients.
// Not thread-safe; one per client.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace moat {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds max) : base_(base), max_(max) {}

  std::chrono::milliseconds Delay(int attempt) {
    const auto full = std::min<std::chrono::milliseconds>(base_ * (int64_t{1} << std::clamp(attempt - 1, 0, 20)), max_);
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;  // a small LCG is jitter enough
    const int64_t half = full.count() / 2;
    return std::chrono::milliseconds(half + static_cast<int64_t>((state_ >> 33) % static_cast<uint64_t>(half + 1)));
  }

 private:
  std::chrono::milliseconds base_, max_;
  uint64_t state_ = 0x9e3779b97f4a7c15ULL;
};

}  // namespace moat
