#include "watch/worker.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "base/backoff.h"

namespace moat::watch {
namespace {

// How often, at most, the heartbeat thread looks at the clock (real time): the clock may be a
// fake that jumps.
constexpr std::chrono::milliseconds kHeartbeatPoll{200};
// The longest piece of a retry wait: `stopping` is looked at in between.
constexpr std::chrono::milliseconds kStopPoll{1000};

// Extends one message's visibility every `period` (on `clock`) until destroyed.
class Heartbeat {
 public:
  Heartbeat(Queue& queue, std::string handle, int seconds, std::chrono::milliseconds period, Clock& clock,
            const std::function<void(const std::string&)>& log)
      : thread_([this, &queue, handle = std::move(handle), seconds, period, &clock, &log,
                 due = clock.MonotonicMs() + period.count()]() mutable {
          std::unique_lock lock(mu_);
          while (!done_) {
            const int64_t now = clock.MonotonicMs();
            if (now < due) {
              cv_.wait_for(lock, std::min(std::chrono::milliseconds(due - now), kHeartbeatPoll));
              continue;
            }
            due = now + period.count();
            lock.unlock();
            if (auto st = queue.Extend(handle, seconds); !st && log) {
              log("moat: watch: extending a message's visibility: " + st.error().message);
            }
            lock.lock();
          }
        }) {}
  ~Heartbeat() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// Whether a failed receive may succeed later without anyone changing the configuration.
bool ReceiveMayRecover(ErrorCode code) { return code == ErrorCode::kTransient; }

// Sleeps `wait` on `clock` in pieces, returning early once `stopping` says so.
void WaitUnlessStopping(Clock& clock, std::chrono::milliseconds wait, const std::function<bool()>& stopping) {
  while (wait.count() > 0 && !(stopping && stopping())) {
    const auto piece = std::min(wait, kStopPoll);
    clock.Sleep(piece);
    wait -= piece;
  }
}

// Handles one received message: parse, work (with a heartbeat), delete when done or invalid.
void HandleMessage(const aws::SqsMessage& m, Queue& queue, Queue& heartbeat_queue,
                   const std::function<bool(const events::EventWork&, const aws::SqsMessage&)>& handle,
                   const WorkerOptions& o, Clock& clock, const std::function<void(const std::string&)>& log,
                   WorkerStats& stats) {
  auto work = events::ParseEvent(m.body, "sqs message " + m.id, o.sources);
  if (!work) {
    ++stats.invalid;
    if (log) log("moat: watch: " + work.error().message + " (deleted: retrying cannot help it)");
    if (auto st = queue.Delete(m.receipt_handle); !st && log) log("moat: watch: " + st.error().message);
    return;
  }
  stats.refused += static_cast<int>(work->refused.size());
  if (log) {
    for (const std::string& line : work->refused) log("moat: watch: " + line);
  }
  bool ok = false;
  {
    Heartbeat beat(heartbeat_queue, m.receipt_handle, o.visibility_seconds, o.heartbeat, clock, log);
    ok = handle(*work, m);
  }
  if (!ok) {
    ++stats.failed;  // left to come back, and to the queue's redrive policy
    return;
  }
  ++stats.handled;
  if (auto st = queue.Delete(m.receipt_handle); !st && log) log("moat: watch: " + st.error().message);
}

}  // namespace

Result<WorkerStats> RunWorker(Queue& queue, Queue& heartbeat_queue,
                              const std::function<bool(const events::EventWork&, const aws::SqsMessage&)>& handle,
                              const WorkerOptions& o, Clock& clock, const std::function<bool()>& stopping,
                              const std::function<void(bool busy)>& busy,
                              const std::function<void(const std::string&)>& log) {
  WorkerStats stats;
  Backoff backoff(o.retry_base, o.retry_max);
  int failures_in_row = 0;
  while (!(stopping && stopping()) && (o.max_receives == 0 || stats.receives < o.max_receives)) {
    auto messages = queue.Receive(o.max_messages, o.wait_seconds, o.visibility_seconds);
    ++stats.receives;
    if (!messages) {
      Error e = std::move(messages).error();
      if (!ReceiveMayRecover(e.code)) {
        return Fail(Error{e.code, e.message + " (the queue cannot be read as configured: not retried)"});
      }
      ++stats.receive_errors;
      const auto wait = backoff.Delay(++failures_in_row);
      if (log) log("moat: watch: " + e.message + " (receiving again in " + std::to_string(wait.count()) + " ms)");
      WaitUnlessStopping(clock, wait, stopping);
      continue;
    }
    failures_in_row = 0;
    if (busy && !messages->empty()) busy(true);
    for (const aws::SqsMessage& m : *messages) HandleMessage(m, queue, heartbeat_queue, handle, o, clock, log, stats);
    if (busy) busy(false);
  }
  return stats;
}

}  // namespace moat::watch
