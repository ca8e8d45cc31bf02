// AWS's SigV4 signing test suite (../shared/testdata/sigv4, Apache-2.0, see its NOTICE): every
// case, signed in headers and in the query, must give the expected canonical request, string to
// sign and signature. The suite is read from ../shared and skipped, saying so, when it is not
// there; the example of AWS's signing documentation, written here, is always checked.
#include "aws/sigv4.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace moat::aws {
namespace {

namespace fs = std::filesystem;

const fs::path kSuite = fs::path(MOAT_SOURCE_DIR) / ".." / "shared" / "testdata" / "sigv4";

std::string Read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int64_t ParseTimestamp(const std::string& iso) {  // "2015-08-30T12:36:00Z"
  std::tm tm{};
  strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return timegm(&tm);
}

// request.txt: "METHOD PATH[?QUERY] HTTP/1.1", headers (continuation lines fold into the value),
// a blank line, the body.
Message ParseRequest(const std::string& text) {
  Message m;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  const size_t sp = line.find(' ');
  m.method = line.substr(0, sp);
  std::string target = line.substr(sp + 1, line.rfind(" HTTP/") - sp - 1);
  const size_t q = target.find('?');
  m.path = target.substr(0, q);
  if (q != std::string::npos) m.query = target.substr(q + 1);
  while (std::getline(in, line)) {
    if (line.empty()) break;
    if ((line[0] == ' ' || line[0] == '\t') && !m.headers.empty()) {
      m.headers.back().second += " " + line;
      continue;
    }
    const size_t colon = line.find(':');
    m.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  std::stringstream rest;
  rest << in.rdbuf();
  m.body = rest.str();
  return m;
}

SigningParams Params(const nlohmann::json& ctx) {
  SigningParams p;
  p.credentials.access_key_id = ctx["credentials"]["access_key_id"];
  p.credentials.secret_access_key = ctx["credentials"]["secret_access_key"];
  if (ctx["credentials"].contains("token")) p.credentials.session_token = ctx["credentials"]["token"];
  p.region = ctx["region"];
  p.service = ctx["service"];
  p.unix_time = ParseTimestamp(ctx["timestamp"]);
  p.normalize_path = ctx["normalize"];
  p.sign_body = ctx["sign_body"];
  p.omit_session_token = ctx.value("omit_session_token", false);
  p.expires_seconds = ctx["expiration_in_seconds"];
  return p;
}

std::vector<std::string> Cases() {
  std::vector<std::string> out;
  if (!fs::exists(kSuite)) return out;
  for (const auto& e : fs::directory_iterator(kSuite)) {
    if (e.is_directory()) out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(SigV4SuiteTest, HasEveryCaseAndItsNotice) {
  if (!fs::exists(kSuite)) GTEST_SKIP() << "AWS's SigV4 test suite is not at " << kSuite.string();
  EXPECT_EQ(Cases().size(), 38u);
  EXPECT_TRUE(fs::exists(kSuite / "NOTICE"));
}

class SigV4CaseTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SigV4CaseTest, HeaderSigningMatches) {
  const fs::path dir = kSuite / GetParam();
  const Signature s = SignWithHeaders(ParseRequest(Read(dir / "request.txt")),
                                      Params(nlohmann::json::parse(Read(dir / "context.json"))));
  EXPECT_EQ(s.canonical_request, Read(dir / "header-canonical-request.txt"));
  EXPECT_EQ(s.string_to_sign, Read(dir / "header-string-to-sign.txt"));
  EXPECT_EQ(s.signature, Read(dir / "header-signature.txt"));
}

TEST_P(SigV4CaseTest, QuerySigningMatches) {
  const fs::path dir = kSuite / GetParam();
  const Signature s =
      SignWithQuery(ParseRequest(Read(dir / "request.txt")), Params(nlohmann::json::parse(Read(dir / "context.json"))));
  EXPECT_EQ(s.canonical_request, Read(dir / "query-canonical-request.txt"));
  EXPECT_EQ(s.string_to_sign, Read(dir / "query-string-to-sign.txt"));
  EXPECT_EQ(s.signature, Read(dir / "query-signature.txt"));
}

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(SigV4CaseTest);  // without ../shared
INSTANTIATE_TEST_SUITE_P(Aws, SigV4CaseTest, ::testing::ValuesIn(Cases()), [](const auto& info) {
  std::string n = info.param;
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
});

// The worked example of AWS's SigV4 documentation (IAM ListUsers, 2015-08-30T12:36:00Z, the
// documentation's example key).
TEST(SigV4Test, TheDocumentedExampleGivesTheDocumentedSignature) {
  Message m;
  m.query = "Action=ListUsers&Version=2010-05-08";
  m.headers = {{"Host", "iam.amazonaws.com"}, {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  SigningParams p;
  p.credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  p.region = "us-east-1";
  p.service = "iam";
  p.unix_time = 1440938160;
  const Signature s = SignWithHeaders(m, p);
  EXPECT_EQ(s.canonical_request,
            "GET\n/\nAction=ListUsers&Version=2010-05-08\ncontent-type:application/x-www-form-urlencoded; "
            "charset=utf-8\nhost:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(s.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n"
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
  EXPECT_EQ(s.signature, "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

TEST(SigV4Test, HeaderSigningAddsAuthorizationAndTheToken) {
  Message m;
  m.headers = {{"Host", "ec2.us-east-1.amazonaws.com"}};
  SigningParams p;
  p.credentials = {"AKID", "secret", "token"};
  p.region = "us-east-1";
  p.service = "ec2";
  p.unix_time = 1440938160;
  const Signature s = SignWithHeaders(m, p);
  ASSERT_EQ(s.add_headers.size(), 3u);
  EXPECT_EQ(s.add_headers[0].first, "X-Amz-Date");
  EXPECT_EQ(s.add_headers[1], (std::pair<std::string, std::string>{"X-Amz-Security-Token", "token"}));
  EXPECT_TRUE(s.add_headers[2].second.starts_with(
      "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/ec2/aws4_request, SignedHeaders=host;x-amz-date;"
      "x-amz-security-token, Signature="));
  EXPECT_EQ(s.add_headers[2].second.find("secret"), std::string::npos);
}

}  // namespace
}  // namespace moat::aws
