// One SQS queue, over a QueryClient whose endpoint is the SQS service endpoint
// ("https://sqs.us-east-1.amazonaws.com"; signing name "sqs"): receive (long polling), delete, and
// change the visibility of messages, and send them. Every call names the queue with a QueueUrl parameter, as the
// AWS SDKs do, so one client serves any number of queues. Errors are QueryClient's, naming the
// action ("sqs DeleteMessage: ReceiptHandleIsInvalid: ..."): a bad receipt handle or argument is
// kInvalidInput, a queue that does not exist kNotFound. Borrows the client; not thread-safe.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "aws/query.h"

namespace moat::aws {

inline constexpr const char* kSqsApiVersion = "2012-11-05";

struct SqsMessage {
  std::string id, receipt_handle, body;
  int receive_count = 0;  // ApproximateReceiveCount: 1 on the first delivery
};

class Sqs {
 public:
  // `queue_url` as CreateQueue or GetQueueUrl give it: "https://sqs.<region>.amazonaws.com/<account>/<name>".
  Sqs(QueryClient& client, std::string queue_url) : client_(client), queue_url_(std::move(queue_url)) {}

  // Up to `max_messages` (1..10) messages, waiting up to `wait_seconds` (0..20) for the first one;
  // none is an empty vector. Received messages stay invisible for `visibility_timeout` seconds
  // (0..43200), or the queue's default when it is -1. The HTTP request's timeout (30 s by
  // default) must exceed `wait_seconds`, so the longest poll fits.
  Result<std::vector<SqsMessage>> Receive(int max_messages, int wait_seconds, int visibility_timeout = -1);
  Status Delete(const std::string& receipt_handle);
  // Sends a message (SendMessage); its id.
  Result<std::string> Send(const std::string& body);
  // Makes a received message visible again after `timeout_seconds` (0..43200; 0: at once).
  Status ChangeVisibility(const std::string& receipt_handle, int timeout_seconds);

  const std::string& queue_url() const { return queue_url_; }

 private:
  Result<pugi::xml_document> Call(const std::string& action, Params params);

  QueryClient& client_;
  std::string queue_url_;
};

}  // namespace moat::aws
