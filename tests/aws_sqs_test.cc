// Integration tests of the SQS client against moto_server on loopback, with signature checking
// on: a queue made for each test, a message sent to it received with its body, receipt handle and
// receive count, made visible again, deleted; a wrong secret and a bad receipt handle refused.
#include <gtest/gtest.h>

#include <ctime>
#include <memory>

#include "aws/sqs.h"
#include "moto.h"

namespace moat::integration {
namespace {

class SqsMotoTest : public ::testing::Test {
 protected:
  // One moto for the suite: each test makes its own queue, so tests do not share state.
  static void SetUpTestSuite() { moto_ = new MotoServer(); }
  static void TearDownTestSuite() {
    delete moto_;
    moto_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(moto_->ok()) << moto_->error(); }

  aws::QueryClient Client(const std::string& secret) {
    const aws::Credentials creds{moto_->access_key_id(), secret, ""};
    return aws::QueryClient({"sqs", moto_->url(), "us-east-1", aws::kSqsApiVersion},
                            std::make_shared<aws::StaticCredentials>(creds), *transport_, SystemClock());
  }
  // A new queue's URL, from CreateQueue; "" (and a test failure) when it cannot be made.
  std::string CreateQueue(aws::QueryClient& client, const std::string& name) {
    auto doc = client.Call("CreateQueue", {{"QueueName", name}});
    EXPECT_TRUE(doc) << doc.error().message;
    return doc ? aws::Text(*doc, "QueueUrl") : "";
  }
  static void Send(aws::QueryClient& client, const std::string& queue_url, const std::string& body) {
    auto doc = client.Call("SendMessage", {{"QueueUrl", queue_url}, {"MessageBody", body}});
    ASSERT_TRUE(doc) << doc.error().message;
  }

  static MotoServer* moto_;
  std::unique_ptr<http::Transport> transport_ = http::NewCurlTransport({});
};

MotoServer* SqsMotoTest::moto_ = nullptr;

constexpr const char* kEvent = R"({"Records":[{"s3":{"object":{"key":"AWSLogs/1/a b+c.log.gz"}}}]} & <done>)";

TEST_F(SqsMotoTest, SentMessageIsReceivedWithBodyHandleAndCount) {
  auto client = Client(moto_->secret_access_key());
  const std::string url = CreateQueue(client, "receive");
  ASSERT_FALSE(url.empty());
  EXPECT_TRUE(url.ends_with("/receive")) << url;
  Send(client, url, kEvent);
  aws::Sqs sqs(client, url);
  auto got = sqs.Receive(10, 1, 30);
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].body, kEvent);
  EXPECT_FALSE((*got)[0].id.empty());
  EXPECT_FALSE((*got)[0].receipt_handle.empty());
  EXPECT_EQ((*got)[0].receive_count, 1);
  // Invisible now: nothing more to receive.
  auto again = sqs.Receive(10, 0);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(again->empty());
}

TEST_F(SqsMotoTest, MessageMadeVisibleAgainIsReceivedAgainThenDeleted) {
  auto client = Client(moto_->secret_access_key());
  const std::string url = CreateQueue(client, "visibility");
  ASSERT_FALSE(url.empty());
  Send(client, url, "one");
  aws::Sqs sqs(client, url);
  auto first = sqs.Receive(1, 1, 60);
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_EQ(first->size(), 1u);
  ASSERT_TRUE(sqs.ChangeVisibility((*first)[0].receipt_handle, 0));

  auto second = sqs.Receive(1, 1, 60);
  ASSERT_TRUE(second) << second.error().message;
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ((*second)[0].id, (*first)[0].id);
  EXPECT_EQ((*second)[0].body, "one");
  EXPECT_EQ((*second)[0].receive_count, 2);

  ASSERT_TRUE(sqs.Delete((*second)[0].receipt_handle));
  auto gone = sqs.ChangeVisibility((*second)[0].receipt_handle, 0);
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::kInvalidInput) << gone.error().message;
  auto empty = sqs.Receive(10, 0);
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_TRUE(empty->empty());
}

TEST_F(SqsMotoTest, WrongSecretIsRefused) {
  auto good = Client(moto_->secret_access_key());
  const std::string url = CreateQueue(good, "denied");
  ASSERT_FALSE(url.empty());
  auto client = Client("not-the-secret");
  aws::Sqs sqs(client, url);
  auto got = sqs.Receive(1, 0);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::kDenied) << got.error().message;
  EXPECT_TRUE(got.error().message.starts_with("sqs ReceiveMessage: ")) << got.error().message;
  EXPECT_EQ(got.error().message.find("not-the-secret"), std::string::npos);
}

TEST_F(SqsMotoTest, BadReceiptHandleIsAClearError) {
  auto client = Client(moto_->secret_access_key());
  const std::string url = CreateQueue(client, "handles");
  ASSERT_FALSE(url.empty());
  aws::Sqs sqs(client, url);
  auto st = sqs.Delete("not-a-receipt-handle");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(st.error().message, "sqs DeleteMessage: ReceiptHandleIsInvalid: The input receipt handle is invalid.");
  EXPECT_EQ(client.requests(), 2);  // CreateQueue, then DeleteMessage once: not retried
}

TEST_F(SqsMotoTest, MissingQueueIsNotFound) {
  auto client = Client(moto_->secret_access_key());
  aws::Sqs sqs(client, moto_->url() + "/123456789012/no-such-queue");
  auto got = sqs.Receive(1, 0);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::kNotFound) << got.error().message;
}

}  // namespace
}  // namespace moat::integration
