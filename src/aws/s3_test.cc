#include "aws/s3.h"

#include <gtest/gtest.h>

#include "testing/fake_clock.h"
#include "testing/scripted_transport.h"

namespace moat::aws {
namespace {

using moat::testing::ScriptedTransport;

TEST(S3Test, ParsesS3Urls) {
  std::string b, k;
  ASSERT_TRUE(ParseS3Url("s3://flow-logs/AWSLogs/1/", &b, &k));
  EXPECT_EQ(b, "flow-logs");
  EXPECT_EQ(k, "AWSLogs/1/");
  ASSERT_TRUE(ParseS3Url("s3://bucket", &b, &k));
  EXPECT_EQ(k, "");
  EXPECT_FALSE(ParseS3Url("s3:///key", &b, &k));
  EXPECT_FALSE(ParseS3Url("/tmp/x", &b, &k));
}

TEST(S3Test, ListsFlowLogObjectsAcrossPagesLeavingOutMoatState) {
  ScriptedTransport t;
  moat::testing::FakeClock clock{1440938160000};
  t.replies.push_back(
      {200, {}, R"(<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>tok/1</NextContinuationToken>
<Contents><Key>logs/b.log.gz</Key><Size>10</Size></Contents><Contents><Key>moat/state/x.log.gz</Key><Size>1</Size></Contents>
<Contents><Key>logs/readme.txt</Key><Size>1</Size></Contents></ListBucketResult>)"});
  t.replies.push_back({200, {}, R"(<ListBucketResult><IsTruncated>false</IsTruncated>
<Contents><Key>logs/a.log</Key><Size>5</Size></Contents></ListBucketResult>)"});
  S3Store s({"http://127.0.0.1:1", "us-east-1"}, std::make_shared<StaticCredentials>(Credentials{"AKID", "S", ""}), t,
            clock);
  auto l = s.List("s3://bkt/");
  ASSERT_TRUE(l) << l.error().message;
  ASSERT_EQ(l->size(), 2u);
  EXPECT_EQ((*l)[0].name, "s3://bkt/logs/a.log");
  EXPECT_EQ((*l)[1].name, "s3://bkt/logs/b.log.gz");
  EXPECT_EQ((*l)[1].size, 10u);
  EXPECT_EQ(t.seen[0].url, "http://127.0.0.1:1/bkt?list-type=2&prefix=");
  EXPECT_EQ(t.seen[1].url, "http://127.0.0.1:1/bkt?list-type=2&prefix=&continuation-token=tok%2F1");
}

TEST(S3Test, ReadsInRangesUntilAShortPart) {
  ScriptedTransport t;
  moat::testing::FakeClock clock{1440938160000};
  t.replies.push_back({206, {}, "abcd"});
  t.replies.push_back({206, {}, "ef"});
  S3Store s({"http://127.0.0.1:1", "us-east-1", 4}, std::make_shared<StaticCredentials>(Credentials{"AKID", "S", ""}),
            t, clock);
  auto stream = s.Open("s3://bkt/k.log");
  ASSERT_TRUE(stream);
  std::string got, buf(3, '\0');
  for (;;) {
    auto n = (*stream)->Read(std::span<char>(buf.data(), buf.size()));
    ASSERT_TRUE(n);
    if (*n == 0) break;
    got.append(buf.data(), *n);
  }
  EXPECT_EQ(got, "abcdef");
  ASSERT_EQ(t.seen.size(), 2u);
  bool range = false;
  for (const auto& [k, v] : t.seen[1].headers) range |= k == "Range" && v == "bytes=4-7";
  EXPECT_TRUE(range);
}

TEST(S3Test, MissingObjectIsNotFoundNamingIt) {
  ScriptedTransport t;
  moat::testing::FakeClock clock{1440938160000};
  t.replies.push_back({404, {}, "<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>"});
  S3Store s({"http://127.0.0.1:1", "us-east-1"}, std::make_shared<StaticCredentials>(Credentials{"AKID", "S", ""}), t,
            clock);
  auto stream = s.Open("s3://bkt/k.log");
  ASSERT_TRUE(stream);
  char c;
  auto n = (*stream)->Read(std::span<char>(&c, 1));
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(n.error().message, "s3://bkt/k.log: NoSuchKey: gone");
}

}  // namespace
}  // namespace moat::aws
