#include "pce/client.h"

#include <gtest/gtest.h>

#include <map>

#include "testing/env.h"

namespace moat::pce {
namespace {

using moat::testing::Env;

TEST(PceConfigTest, ReadsTheIllumioEnvironment) {
  Env env{{{"ILLUMIO_PCE_HOST", "pce.example.com"},
           {"ILLUMIO_PCE_PORT", "8443"},
           {"ILLUMIO_PCE_ORG_ID", "3"},
           {"ILLUMIO_API_KEY_USERNAME", "api_1"},
           {"ILLUMIO_API_KEY_SECRET", "s"},
           {"ILLUMIO_CA_FILE", "/etc/pce-ca.pem"}}};
  auto c = Config::FromEnvironment(env.getter());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->base_url, "https://pce.example.com:8443");
  EXPECT_EQ(c->org_id, "3");
  EXPECT_EQ(c->tls.ca_file, "/etc/pce-ca.pem");
  EXPECT_TRUE(c->tls.verify);
}

TEST(PceConfigTest, AUrlKeepsItsSchemeAndPort) {
  Env env{{{"ILLUMIO_PCE_HOST", "http://127.0.0.1:5000/"},
           {"ILLUMIO_PCE_PORT", "8443"},
           {"ILLUMIO_API_KEY_USERNAME", "u"},
           {"ILLUMIO_API_KEY_SECRET", "s"},
           {"ILLUMIO_ALLOW_INSECURE_TLS", "true"}}};
  auto c = Config::FromEnvironment(env.getter());
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->base_url, "http://127.0.0.1:5000");
  EXPECT_EQ(c->org_id, "1");
  EXPECT_FALSE(c->tls.verify);
}

TEST(PceConfigTest, MissingOrBadSettingsNameTheVariable) {
  EXPECT_EQ(Config::FromEnvironment(Env{}.getter()).error().message,
            "ILLUMIO_PCE_HOST is not set (the PCE's URL, https://pce.example.com:8443)");
  Env no_key{{{"ILLUMIO_PCE_HOST", "pce"}, {"ILLUMIO_API_KEY_USERNAME", "u"}}};
  EXPECT_EQ(Config::FromEnvironment(no_key.getter()).error().message,
            "ILLUMIO_API_KEY_USERNAME and ILLUMIO_API_KEY_SECRET must both be set");
  Env bad_port{{{"ILLUMIO_PCE_HOST", "pce"}, {"ILLUMIO_PCE_PORT", "http"}}};
  EXPECT_EQ(Config::FromEnvironment(bad_port.getter()).error().message,
            "ILLUMIO_PCE_PORT: not a port number: \"http\"");
  Env bad_org{{{"ILLUMIO_PCE_HOST", "pce"}, {"ILLUMIO_PCE_ORG_ID", "x"}}};
  EXPECT_EQ(Config::FromEnvironment(bad_org.getter()).error().message, "ILLUMIO_PCE_ORG_ID: not an org number: \"x\"");
  Env bad_tls{{{"ILLUMIO_PCE_HOST", "pce"},
               {"ILLUMIO_API_KEY_USERNAME", "u"},
               {"ILLUMIO_API_KEY_SECRET", "s"},
               {"ILLUMIO_ALLOW_INSECURE_TLS", "yes"}}};
  EXPECT_EQ(Config::FromEnvironment(bad_tls.getter()).error().message,
            "ILLUMIO_ALLOW_INSECURE_TLS: expected true, false, 1 or 0");
}

TEST(PceCollectionsTest, VersionedCollectionsCarryTheVersion) {
  auto c = PolicyCollections("draft");
  ASSERT_EQ(c.size(), 8u);
  EXPECT_EQ(c[0], (std::pair<std::string, std::string>{"labels", "labels"}));
  EXPECT_EQ(c[7], (std::pair<std::string, std::string>{"rule_sets", "sec_policy/draft/rule_sets"}));
}

}  // namespace
}  // namespace moat::pce
