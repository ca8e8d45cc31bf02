#include "watch/worker.h"

#include <condition_variable>
#include <mutex>
#include <thread>

namespace moat::watch {
namespace {

// Extends one message's visibility every `period` until stopped.
class Heartbeat {
 public:
  Heartbeat(Queue& queue, std::string handle, int seconds, std::chrono::milliseconds period,
            const std::function<void(const std::string&)>& log)
      : thread_([this, &queue, handle = std::move(handle), seconds, period, &log] {
          std::unique_lock lock(mu_);
          while (!cv_.wait_for(lock, period, [this] { return done_; })) {
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

}  // namespace

Result<WorkerStats> RunWorker(Queue& queue, Queue& heartbeat_queue,
                              const std::function<bool(const events::EventWork&, const aws::SqsMessage&)>& handle,
                              const WorkerOptions& o, const std::function<bool()>& stopping,
                              const std::function<void(bool busy)>& busy,
                              const std::function<void(const std::string&)>& log) {
  WorkerStats stats;
  while (!(stopping && stopping()) && (o.max_receives == 0 || stats.receives < o.max_receives)) {
    auto messages = queue.Receive(o.max_messages, o.wait_seconds, o.visibility_seconds);
    ++stats.receives;
    if (!messages) return Fail(std::move(messages).error());
    if (busy && !messages->empty()) busy(true);
    for (const aws::SqsMessage& m : *messages) {
      auto work = events::ParseEvent(m.body, "sqs message " + m.id);
      if (!work) {
        ++stats.invalid;
        if (log) log("moat: watch: " + work.error().message + " (deleted: retrying cannot help it)");
        if (auto st = queue.Delete(m.receipt_handle); !st && log) log("moat: watch: " + st.error().message);
        continue;
      }
      bool ok = false;
      {
        Heartbeat beat(heartbeat_queue, m.receipt_handle, o.visibility_seconds, o.heartbeat, log);
        ok = handle(*work, m);
      }
      if (!ok) {
        ++stats.failed;  // left to come back, and to the queue's redrive policy
        continue;
      }
      ++stats.handled;
      if (auto st = queue.Delete(m.receipt_handle); !st && log) log("moat: watch: " + st.error().message);
    }
    if (busy) busy(false);
  }
  return stats;
}

}  // namespace moat::watch
