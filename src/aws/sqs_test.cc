#include "aws/sqs.h"

#include <gtest/gtest.h>

#include <tuple>

#include "testing/fake_clock.h"
#include "testing/scripted_transport.h"

namespace moat::aws {
namespace {

using moat::testing::ScriptedTransport;

constexpr const char* kQueue = "https://sqs.us-east-1.amazonaws.com/123456789012/flow-logs";
constexpr const char* kQueueForm = "QueueUrl=https%3A%2F%2Fsqs.us-east-1.amazonaws.com%2F123456789012%2Fflow-logs";

struct Fixture {
  ScriptedTransport transport;
  moat::testing::FakeClock clock{1440938160000};
  QueryClient client{{"sqs", "https://sqs.us-east-1.amazonaws.com", "us-east-1", kSqsApiVersion},
                     std::make_shared<StaticCredentials>(Credentials{"AKID", "SECRETKEY", ""}),
                     transport,
                     clock};
  Sqs sqs{client, kQueue};
};

http::Response SqsError(int status, const std::string& code, const std::string& message) {
  return {status,
          {},
          "<ErrorResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\"><Error><Type>Sender</Type><Code>" +
              code + "</Code><Message>" + message +
              "</Message><Detail/></Error><RequestId>r</RequestId></ErrorResponse>"};
}

constexpr const char* kTwoMessages = R"(<?xml version="1.0"?>
<ReceiveMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">
  <ReceiveMessageResult>
    <Message>
      <MessageId>5fea7756-0ea4-451a-a703-a558b933e274</MessageId>
      <ReceiptHandle>MbZj6wDWli+JvwwJaBV+3dcjk2YW2vA3+STFFljTM8tJJg6HRG6PYSasuWXPJB+Cw</ReceiptHandle>
      <MD5OfBody>fafb00f5732ab283681e124bf8747ed1</MD5OfBody>
      <Body>{&quot;Records&quot;:[{&quot;s3&quot;:{}}]}</Body>
      <Attribute><Name>SenderId</Name><Value>195004372649</Value></Attribute>
      <Attribute><Name>ApproximateReceiveCount</Name><Value>3</Value></Attribute>
    </Message>
    <Message>
      <MessageId>second</MessageId>
      <ReceiptHandle>rh-2</ReceiptHandle>
      <Body>plain</Body>
    </Message>
  </ReceiveMessageResult>
  <ResponseMetadata><RequestId>b6633655-283d-45b4-aee4-4e84e0ae6afa</RequestId></ResponseMetadata>
</ReceiveMessageResponse>)";

TEST(SqsTest, ReceiveAsksForTheReceiveCountAndParsesEveryMessage) {
  Fixture f;
  f.transport.replies.push_back({200, {}, kTwoMessages});
  auto got = f.sqs.Receive(10, 20, 300);
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_EQ(f.transport.seen.size(), 1u);
  EXPECT_EQ(f.transport.seen[0].url, "https://sqs.us-east-1.amazonaws.com/");
  EXPECT_EQ(f.transport.seen[0].body, std::string("Action=ReceiveMessage&Version=2012-11-05&") + kQueueForm +
                                          "&MaxNumberOfMessages=10&WaitTimeSeconds=20"
                                          "&AttributeName.1=ApproximateReceiveCount&VisibilityTimeout=300");
  EXPECT_GT(f.transport.seen[0].timeout_ms, 20000);
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].id, "5fea7756-0ea4-451a-a703-a558b933e274");
  EXPECT_EQ((*got)[0].receipt_handle, "MbZj6wDWli+JvwwJaBV+3dcjk2YW2vA3+STFFljTM8tJJg6HRG6PYSasuWXPJB+Cw");
  EXPECT_EQ((*got)[0].body, R"({"Records":[{"s3":{}}]})");
  EXPECT_EQ((*got)[0].receive_count, 3);
  EXPECT_EQ((*got)[1].body, "plain");
  EXPECT_EQ((*got)[1].receive_count, 0);
}

TEST(SqsTest, SendPostsTheBodyAndGivesTheMessageId) {
  Fixture f;
  f.transport.replies.push_back({200,
                                 {},
                                 "<SendMessageResponse><SendMessageResult><MD5OfMessageBody>x</MD5OfMessageBody>"
                                 "<MessageId>m-1</MessageId></SendMessageResult></SendMessageResponse>"});
  auto id = f.sqs.Send(R"({"moat":"reconcile"})");
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, "m-1");
  EXPECT_NE(f.transport.seen[0].body.find("Action=SendMessage"), std::string::npos);
  EXPECT_NE(f.transport.seen[0].body.find("MessageBody=%7B%22moat%22%3A%22reconcile%22%7D"), std::string::npos)
      << f.transport.seen[0].body;
  f.transport.replies.push_back({200, {}, "<SendMessageResponse/>"});
  EXPECT_FALSE(f.sqs.Send("x"));
}

TEST(SqsTest, QueueDefaultVisibilityIsNotSent) {
  Fixture f;
  f.transport.replies.push_back({200, {}, "<ReceiveMessageResponse><ReceiveMessageResult/></ReceiveMessageResponse>"});
  auto got = f.sqs.Receive(1, 0);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_TRUE(got->empty());
  EXPECT_EQ(f.transport.seen[0].body.find("VisibilityTimeout"), std::string::npos) << f.transport.seen[0].body;
}

TEST(SqsTest, OutOfRangeArgumentsAreRefusedWithoutARequest) {
  Fixture f;
  const std::vector<std::tuple<int, int, int>> bad = {{0, 0, -1}, {11, 0, -1}, {1, 21, -1}, {1, -1, -1}, {1, 0, 43201}};
  for (const auto& [n, wait, visibility] : bad) {
    auto got = f.sqs.Receive(n, wait, visibility);
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().code, ErrorCode::kInvalidInput);
    EXPECT_TRUE(got.error().message.starts_with("sqs ReceiveMessage: ")) << got.error().message;
  }
  auto change = f.sqs.ChangeVisibility("rh", -1);
  ASSERT_FALSE(change);
  EXPECT_EQ(change.error().code, ErrorCode::kInvalidInput);
  EXPECT_TRUE(f.transport.seen.empty());
}

TEST(SqsTest, DeleteAndChangeVisibilityNameTheMessageByReceiptHandle) {
  Fixture f;
  f.transport.replies = {{200, {}, "<DeleteMessageResponse/>"}, {200, {}, "<ChangeMessageVisibilityResponse/>"}};
  ASSERT_TRUE(f.sqs.Delete("a+b/c="));
  ASSERT_TRUE(f.sqs.ChangeVisibility("rh-2", 0));
  ASSERT_EQ(f.transport.seen.size(), 2u);
  EXPECT_EQ(f.transport.seen[0].body,
            std::string("Action=DeleteMessage&Version=2012-11-05&") + kQueueForm + "&ReceiptHandle=a%2Bb%2Fc%3D");
  EXPECT_EQ(f.transport.seen[1].body, std::string("Action=ChangeMessageVisibility&Version=2012-11-05&") + kQueueForm +
                                          "&ReceiptHandle=rh-2&VisibilityTimeout=0");
}

TEST(SqsTest, BadReceiptHandleIsInvalidInputNamingTheAction) {
  Fixture f;
  f.transport.replies.push_back(SqsError(400, "ReceiptHandleIsInvalid", "The input receipt handle is invalid."));
  auto st = f.sqs.Delete("nonsense");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(st.error().message, "sqs DeleteMessage: ReceiptHandleIsInvalid: The input receipt handle is invalid.");
  EXPECT_EQ(f.transport.seen.size(), 1u);
}

TEST(SqsTest, MissingQueueIsNotFound) {
  Fixture f;
  f.transport.replies.push_back(
      SqsError(400, "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist."));
  auto got = f.sqs.Receive(1, 0);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::kNotFound) << got.error().message;
  EXPECT_TRUE(got.error().message.starts_with("sqs ReceiveMessage: AWS.SimpleQueueService.NonExistentQueue"));
}

TEST(SqsTest, ThrottlingIsRetried) {
  Fixture f;
  f.transport.replies = {SqsError(400, "RequestThrottled", "slow down"), {200, {}, "<DeleteMessageResponse/>"}};
  ASSERT_TRUE(f.sqs.Delete("rh"));
  EXPECT_EQ(f.client.requests(), 2);
}

}  // namespace
}  // namespace moat::aws
