// The SQS worker (`moat watch --queue URL`): long-polls a queue of S3 notifications (or of any
// event events/events.h reads) and handles each message:
//   - while a message is worked on, its visibility timeout is extended (a heartbeat), so that no
//     other worker receives it meanwhile;
//   - handled: the message is deleted; failed: it is left, to come back after its visibility
//     timeout and, after the queue's maxReceiveCount, to go to the dead-letter queue;
//   - a message that is not a valid event is reported and deleted: retrying cannot help it;
//   - S3 objects the event names outside the configured flow-log buckets (or with a bad key) are
//     refused, one line each, and never read; the rest of the event is handled as usual, and the
//     message deleted when that succeeds (a refusal cannot change on redelivery);
//   - a receive that fails is retried after capped exponential backoff with jitter, whatever
//     the number of failures (throttling, 5xx and lost connections were already retried by the
//     signed request path, which also renews expired credentials): the worker stops only when
//     told to, or when the queue cannot work as configured (it does not exist, the request is
//     invalid, access is denied), with an error that says so.
// Several workers may share a queue: each message goes to one, and concurrent runs on the same
// database converge (app/enforce.h).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "aws/sqs.h"
#include "base/clock.h"
#include "base/result.h"
#include "events/events.h"

namespace moat::watch {

// The queue calls the worker makes (aws::Sqs, or a fake).
class Queue {
 public:
  virtual ~Queue() = default;
  virtual Result<std::vector<aws::SqsMessage>> Receive(int max_messages, int wait_seconds, int visibility) = 0;
  virtual Status Delete(const std::string& receipt_handle) = 0;
  virtual Status Extend(const std::string& receipt_handle, int seconds) = 0;
};

struct WorkerOptions {
  int max_messages = 1;   // per receive (1..10); one at a time keeps the heartbeat simple
  int wait_seconds = 20;  // long poll
  int visibility_seconds = 60;
  std::chrono::milliseconds heartbeat{20000};  // extend the visibility this often while working
  int max_receives = 0;                        // stop after this many receive calls (tests); 0: until stopped
  std::chrono::milliseconds retry_base{1000};  // wait after a failed receive, doubled per failure in a row
  std::chrono::milliseconds retry_max{60000};  // cap of that wait
  events::Sources sources{};                   // the flow-log buckets; none: every S3 object refused
};

struct WorkerStats {
  int handled = 0, failed = 0, invalid = 0, receives = 0;
  int refused = 0;         // S3 objects refused (events/events.h)
  int receive_errors = 0;  // failed receives, retried
};

// `handle` returns true when the event was handled (the message is then deleted). `heartbeat_queue`
// is used from a second thread: give it its own client. Waits (retries, heartbeat periods) are
// measured on `clock`. Returns on `stopping`, or with an error when the queue cannot work as
// configured (kNotFound, kInvalidInput, kDenied, kInternal from a receive).
Result<WorkerStats> RunWorker(Queue& queue, Queue& heartbeat_queue,
                              const std::function<bool(const events::EventWork&, const aws::SqsMessage&)>& handle,
                              const WorkerOptions& options, Clock& clock, const std::function<bool()>& stopping,
                              const std::function<void(bool busy)>& busy,
                              const std::function<void(const std::string&)>& log);

// aws::Sqs as a Queue.
class SqsQueue : public Queue {
 public:
  explicit SqsQueue(aws::Sqs& sqs) : sqs_(sqs) {}
  Result<std::vector<aws::SqsMessage>> Receive(int max_messages, int wait_seconds, int visibility) override {
    return sqs_.Receive(max_messages, wait_seconds, visibility);
  }
  Status Delete(const std::string& h) override { return sqs_.Delete(h); }
  Status Extend(const std::string& h, int seconds) override { return sqs_.ChangeVisibility(h, seconds); }

 private:
  aws::Sqs& sqs_;
};

}  // namespace moat::watch
