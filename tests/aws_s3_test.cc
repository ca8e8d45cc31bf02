// Integration tests of S3 as a flow-log source, against moto_server with signature checking on:
// `moat flows s3://bucket/prefix` reads the bundled samples uploaded there and reports what it
// reports for the same files on disk; objects are read in bounded ranged GETs. (The prefixes here
// have no '/': moto's S3 signature check rejects encoded characters in query values, such as
// prefix=AWSLogs%2F, even from boto3. AWS accepts them.) A key's `.` and `..` segments are sent
// as signed, not normalised away; `moat pce upload-flows s3://…` reads S3 as `moat flows` does.
#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "aws/s3.h"
#include "moto.h"
#include "pce_server.h"

namespace moat::integration {
namespace {

using Json = nlohmann::json;

class S3MotoTest : public ::testing::Test {
 protected:
  S3MotoTest() : moto_("flow-logs", MOAT_SOURCE_DIR "/samples/flowlogs") {}
  void SetUp() override { ASSERT_TRUE(moto_.ok()) << moto_.error(); }
  RunResult Moat(const std::vector<std::string>& args, const std::string& secret) {
    RunOptions o;
    o.cwd = MOAT_SOURCE_DIR;
    o.env = {{"AWS_ACCESS_KEY_ID", moto_.access_key_id()},
             {"AWS_SECRET_ACCESS_KEY", secret},
             {"AWS_REGION", "us-east-1"},
             {"AWS_ENDPOINT_URL", moto_.url()}};
    return RunProcess(MOAT_BINARY, args, o, dir_.path());
  }
  MotoServer moto_;
  TempDir dir_;
};

TEST_F(S3MotoTest, FlowsFromS3EqualFlowsFromTheSameFiles) {
  const RunResult s3 = Moat({"flows", "--json", "s3://flow-logs/AWSLogs"}, moto_.secret_access_key());
  ASSERT_EQ(s3.exit_code, 0) << Describe(s3);
  const RunResult local = Moat({"flows", "--json", "samples/flowlogs"}, moto_.secret_access_key());
  ASSERT_EQ(local.exit_code, 0) << Describe(local);
  const Json a = Json::parse(s3.out), b = Json::parse(local.out);
  EXPECT_EQ(a["totals"], b["totals"]);
  EXPECT_EQ(a["flows"], b["flows"]);
  EXPECT_EQ(a["totals"]["files"], 4);
}

TEST_F(S3MotoTest, WrongSecretIsCountedAsUnreadableWithoutTheSecret) {
  const RunResult r = Moat({"flows", "--json", "s3://flow-logs/AWSLogs"}, "not-the-secret");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("SignatureDoesNotMatch"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("not-the-secret"), std::string::npos);
  EXPECT_EQ(r.err.find("not-the-secret"), std::string::npos);
}

TEST_F(S3MotoTest, ObjectsAreReadInSmallRangesExactly) {
  auto transport = http::NewCurlTransport({});
  const aws::Credentials creds{moto_.access_key_id(), moto_.secret_access_key(), ""};
  aws::S3Store store({moto_.url(), "us-east-1", 777}, std::make_shared<aws::StaticCredentials>(creds), *transport,
                     SystemClock());
  auto listed = store.List("s3://flow-logs/AWSLogs");
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->size(), 4u);
  for (const ObjectInfo& o : *listed) {
    auto stream = store.Open(o.name);
    ASSERT_TRUE(stream);
    std::string got, buf(500, '\0');
    for (;;) {
      auto n = (*stream)->Read(std::span<char>(buf.data(), buf.size()));
      ASSERT_TRUE(n) << n.error().message;
      if (*n == 0) break;
      got.append(buf.data(), *n);
    }
    // The same bytes as the sample file of that name.
    const std::string base = o.name.substr(o.name.rfind('/') + 1);
    std::string local_path;
    for (const auto& e : std::filesystem::recursive_directory_iterator(MOAT_SOURCE_DIR "/samples/flowlogs")) {
      if (e.path().filename() == base) local_path = e.path().string();
    }
    EXPECT_EQ(got, ReadFile(local_path)) << o.name;
  }
  auto missing = store.List("s3://flow-logs/nothing-here");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

// The key of one of the samples, from the bucket's root.
std::string Sample() {
  for (const auto& e : std::filesystem::recursive_directory_iterator(MOAT_SOURCE_DIR "/samples/flowlogs")) {
    if (e.path().extension() == ".gz") {
      return std::filesystem::relative(e.path(), MOAT_SOURCE_DIR "/samples/flowlogs").string();
    }
  }
  return "";
}

TEST_F(S3MotoTest, AKeyWithDotSegmentsNamesExactlyThatObject) {
  auto transport = http::NewCurlTransport({});
  const aws::Credentials creds{moto_.access_key_id(), moto_.secret_access_key(), ""};
  aws::S3Store store({moto_.url(), "us-east-1"}, std::make_shared<aws::StaticCredentials>(creds), *transport,
                     SystemClock());
  // Normalised, this path would be s3://flow-logs/moat/state/x.json (and its signature wrong).
  const std::string dotted = "s3://flow-logs/AWSLogs/../moat/./state/x.json";
  ASSERT_TRUE(store.Put(dotted, "dotted", "application/json"));
  auto got = store.Get(dotted);
  ASSERT_TRUE(got) << got.error().message;
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, "dotted");
  auto other = store.Get("s3://flow-logs/moat/state/x.json");
  ASSERT_TRUE(other) << other.error().message;
  EXPECT_FALSE(other->has_value());

  // And through moat: the flow log at the dotted key is read, not the junk its normalised path names.
  const std::string sample = ReadFile(MOAT_SOURCE_DIR "/samples/flowlogs/" + Sample());
  ASSERT_TRUE(store.Put("s3://flow-logs/AWSLogs/../dots/./x.log.gz", sample, "application/gzip"));
  ASSERT_TRUE(store.Put("s3://flow-logs/dots/x.log.gz", "not a flow log", "application/gzip"));
  const RunResult r = Moat({"flows", "--json", "s3://flow-logs/AWSLogs"}, moto_.secret_access_key());
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const Json totals = Json::parse(r.out)["totals"];
  EXPECT_EQ(totals["files"], 5);
  EXPECT_EQ(totals["skipped"], 0) << r.out;
}

TEST_F(S3MotoTest, PceUploadFlowsReadsS3AsFlowsDoes) {
  PceServer pce(MOAT_SOURCE_DIR "/samples/policy/orders-db.bundle.json");
  ASSERT_TRUE(pce.ok());
  RunOptions o;
  o.cwd = MOAT_SOURCE_DIR;
  o.env = {{"AWS_ACCESS_KEY_ID", moto_.access_key_id()},
           {"AWS_SECRET_ACCESS_KEY", moto_.secret_access_key()},
           {"AWS_REGION", "us-east-1"},
           {"AWS_ENDPOINT_URL", moto_.url()},
           {"ILLUMIO_PCE_HOST", pce.url()},
           {"ILLUMIO_PCE_ORG_ID", "1"},
           {"ILLUMIO_API_KEY_USERNAME", kPceUser},
           {"ILLUMIO_API_KEY_SECRET", kPceSecret}};
  const RunResult s3 = RunProcess(MOAT_BINARY, {"pce", "upload-flows", "s3://flow-logs/AWSLogs"}, o, dir_.path());
  ASSERT_EQ(s3.exit_code, 0) << Describe(s3);
  const Json from_s3 = Json::parse(pce.Get("flows"));
  EXPECT_NE(s3.out.find("from 4 files"), std::string::npos) << s3.out;
  pce.Post("reset", "{}");
  const RunResult local = RunProcess(MOAT_BINARY, {"pce", "upload-flows", "samples/flowlogs"}, o, dir_.path());
  ASSERT_EQ(local.exit_code, 0) << Describe(local);
  EXPECT_EQ(from_s3, Json::parse(pce.Get("flows")));  // the same flows as from the same files on disk
  EXPECT_GT(from_s3.size(), 5u);
}

}  // namespace
}  // namespace moat::integration
