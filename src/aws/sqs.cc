#include "aws/sqs.h"

#include <cstdint>

namespace moat::aws {
namespace {

constexpr int kMaxVisibilitySeconds = 43200;  // 12 hours, SQS's limit

Result<SqsMessage> ParseMessage(const pugi::xml_node& m) {
  SqsMessage out;
  out.id = Sub(m, "MessageId").text().get();
  out.receipt_handle = Sub(m, "ReceiptHandle").text().get();
  out.body = Sub(m, "Body").text().get();
  for (const auto& a : Children(m, "Attribute")) {
    if (std::string_view(Sub(a, "Name").text().get()) == "ApproximateReceiveCount") {
      auto count = IntElement(a, "Value", "sqs ReceiveMessage: ApproximateReceiveCount", 0, 0, INT32_MAX);
      if (!count) return Fail(std::move(count).error());
      out.receive_count = static_cast<int>(*count);
    }
  }
  return out;
}

}  // namespace

Result<pugi::xml_document> Sqs::Call(const std::string& action, Params params) {
  params.insert(params.begin(), {"QueueUrl", queue_url_});
  auto doc = client_.Call(action, params);
  if (!doc) {
    Error e = std::move(doc).error();
    // QueryClient puts the service's error code after the action: "sqs ReceiveMessage: <code>: ...".
    if (e.code == ErrorCode::kInvalidInput &&
        e.message.find(": AWS.SimpleQueueService.NonExistentQueue") != std::string::npos) {
      e.code = ErrorCode::kNotFound;
    }
    return Fail(std::move(e));
  }
  return doc;
}

Result<std::vector<SqsMessage>> Sqs::Receive(int max_messages, int wait_seconds, int visibility_timeout) {
  if (max_messages < 1 || max_messages > 10 || wait_seconds < 0 || wait_seconds > 20 || visibility_timeout < -1 ||
      visibility_timeout > kMaxVisibilitySeconds) {
    return Fail(InvalidInput("sqs ReceiveMessage: " + std::to_string(max_messages) + " messages, wait " +
                             std::to_string(wait_seconds) + " s, visibility " + std::to_string(visibility_timeout) +
                             " s: out of range (1..10 messages, 0..20 s wait, 0..43200 s visibility)"));
  }
  Params params = {{"MaxNumberOfMessages", std::to_string(max_messages)},
                   {"WaitTimeSeconds", std::to_string(wait_seconds)},
                   {"AttributeName.1", "ApproximateReceiveCount"}};
  if (visibility_timeout >= 0) params.emplace_back("VisibilityTimeout", std::to_string(visibility_timeout));
  auto doc = Call("ReceiveMessage", std::move(params));
  if (!doc) return Fail(std::move(doc).error());
  std::vector<SqsMessage> out;
  for (const auto& m : Children(Child(*doc, "ReceiveMessageResult"), "Message")) {
    auto message = ParseMessage(m);
    if (!message) return Fail(std::move(message).error());
    out.push_back(std::move(*message));
  }
  return out;
}

Status Sqs::Delete(const std::string& receipt_handle) {
  auto doc = Call("DeleteMessage", {{"ReceiptHandle", receipt_handle}});
  if (!doc) return Fail(std::move(doc).error());
  return {};
}

Result<std::string> Sqs::Send(const std::string& body) {
  auto doc = Call("SendMessage", {{"MessageBody", body}});
  if (!doc) return Fail(std::move(doc).error());
  std::string id = Text(*doc, "MessageId");
  if (id.empty()) return Fail(InvalidInput("sqs SendMessage: the answer has no MessageId"));
  return id;
}

Status Sqs::ChangeVisibility(const std::string& receipt_handle, int timeout_seconds) {
  if (timeout_seconds < 0 || timeout_seconds > kMaxVisibilitySeconds) {
    return Fail(InvalidInput("sqs ChangeMessageVisibility: visibility " + std::to_string(timeout_seconds) +
                             " s: out of range (0..43200 s)"));
  }
  auto doc = Call("ChangeMessageVisibility",
                  {{"ReceiptHandle", receipt_handle}, {"VisibilityTimeout", std::to_string(timeout_seconds)}});
  if (!doc) return Fail(std::move(doc).error());
  return {};
}

}  // namespace moat::aws
