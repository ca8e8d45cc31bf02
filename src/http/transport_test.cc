#include "http/transport.h"

#include <gtest/gtest.h>

namespace moat::http {
namespace {

TEST(TransportTest, ResponseHeadersByLowerCaseName) {
  Response r;
  r.headers = {{"x-total-count", "1200"}, {"retry-after", "2"}};
  EXPECT_EQ(r.Header("x-total-count"), "1200");
  EXPECT_EQ(r.Header("location"), "");
}

TEST(TransportTest, RefusedConnectionIsTransient) {
  auto t = NewCurlTransport({});
  Request req;
  req.url = "http://127.0.0.1:9/";  // discard port: nothing listens
  req.timeout_ms = 2000;
  auto r = t->Send(req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTransient);
  EXPECT_TRUE(r.error().message.starts_with("GET http://127.0.0.1:9/: ")) << r.error().message;
}

TEST(TransportTest, SystemCaBundleFollowsTheEnvironmentThenKnownPlaces) {
  const auto none = [](const char*) -> const char* { return nullptr; };
  const auto amazon_linux = [](const std::string& p) { return p == "/etc/pki/tls/certs/ca-bundle.crt"; };
  EXPECT_EQ(SystemCaBundle(none, amazon_linux), "/etc/pki/tls/certs/ca-bundle.crt");
  const auto set = [](const char* n) -> const char* {
    return std::string_view(n) == "SSL_CERT_FILE" ? "/custom/ca.pem" : nullptr;
  };
  EXPECT_EQ(SystemCaBundle(set, amazon_linux), "/custom/ca.pem");
  EXPECT_EQ(SystemCaBundle(none, [](const std::string&) { return false; }), "");
}

}  // namespace
}  // namespace moat::http
