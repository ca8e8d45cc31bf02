#include "pce/client.h"

#include <gtest/gtest.h>

#include <map>

#include "testing/env.h"
#include "testing/fake_clock.h"
#include "testing/scripted_transport.h"

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

http::Response Reply(int status, std::string body, http::Headers headers = {}) {
  http::Response r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

class PceWriteTest : public ::testing::Test {
 protected:
  Config config_{"http://127.0.0.1:1", "1", "api_1", "s3cr3t-value", {}};
  moat::testing::ScriptedTransport transport_;
  moat::testing::FakeClock clock_;
  Client client_{config_, transport_, clock_};
};

TEST_F(PceWriteTest, ACreateIsRepeatedAfter429ButNotAfterAServerError) {
  transport_.replies = {Reply(429, "", {{"retry-after", "2"}}), Reply(201, R"({"href":"/orgs/1/labels/9"})")};
  auto href = client_.CreateLabel("app", "orders");
  ASSERT_TRUE(href) << href.error().message;
  EXPECT_EQ(*href, "/orgs/1/labels/9");
  ASSERT_EQ(clock_.sleeps().size(), 1u);
  EXPECT_EQ(clock_.sleeps()[0], std::chrono::seconds(2));
  EXPECT_EQ(transport_.seen[1].body, R"({"key":"app","value":"orders"})");
  EXPECT_EQ(transport_.seen[1].method, "POST");

  transport_.replies = {Reply(503, "busy"), Reply(201, R"({"href":"/orgs/1/labels/10"})")};
  auto again = client_.CreateLabel("app", "billing");
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("POST /orgs/1/labels: 503 server error; it may or may not have been done"),
            std::string::npos)
      << again.error().message;
  EXPECT_EQ(transport_.replies.size(), 1u);  // not repeated
  EXPECT_EQ(again.error().message.find("s3cr3t"), std::string::npos);
}

TEST_F(PceWriteTest, TheActivePolicyVersionIsTheNewestListedInOneRequest) {
  transport_.replies = {Reply(200, R"([{"href":"/orgs/1/sec_policy/81","version":81,"commit_message":"m",
                                        "workloads_affected":2,"object_counts":{},"created_at":"2020-01-06T10:35:00.000Z",
                                        "created_by":{"href":"/users/1"}}])",
                              {{"x-total-count", "81"}})};
  auto v = client_.NewestPolicyVersion();
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->newest, 81);
  EXPECT_EQ(v->total, 81);
  ASSERT_EQ(transport_.seen.size(), 1u);
  EXPECT_EQ(transport_.seen[0].method, "GET");
  EXPECT_EQ(transport_.seen[0].url, "http://127.0.0.1:1/api/v2/orgs/1/sec_policy?max_results=1");
}

TEST_F(PceWriteTest, APceThatListsEveryVersionGivesTheHighestAndNoneIsZero) {
  transport_.replies = {Reply(200, R"([{"version":3},{"version":5},{"version":4}])"), Reply(200, "[]")};
  auto v = client_.NewestPolicyVersion();
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->newest, 5);
  EXPECT_EQ(v->total, -1);
  auto none = client_.NewestPolicyVersion();
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_EQ(none->newest, 0);
}

TEST_F(PceWriteTest, AVersionListThatIsNotOneIsAnErrorNamingTheRequest) {
  transport_.replies = {Reply(200, R"({"version":3})"), Reply(200, R"([{"version":"3"}])")};
  EXPECT_EQ(client_.NewestPolicyVersion().error().message,
            "GET /orgs/1/sec_policy?max_results=1: the response is not a JSON array: \"{\\\"version\\\":3}\"");
  EXPECT_EQ(client_.NewestPolicyVersion().error().message,
            "GET /orgs/1/sec_policy?max_results=1: [0].version: expected a positive integer");
}

TEST_F(PceWriteTest, AnUpdateIsRepeatedAfterAServerError) {
  transport_.replies = {Reply(502, ""), Reply(200, R"([{"href":"/orgs/1/sec_policy/draft/virtual_services/u1",
                                                        "status":"updated"}])")};
  auto r = client_.BulkVirtualServices(
      "update", {{{"href", "/orgs/1/sec_policy/draft/virtual_services/u1"}, {"name", "VS-RDS-a"}}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)[0].status, "updated");
  EXPECT_EQ(transport_.seen.size(), 2u);
  EXPECT_EQ(transport_.seen[1].method, "PUT");
  EXPECT_EQ(transport_.seen[1].url, "http://127.0.0.1:1/api/v2/orgs/1/sec_policy/draft/virtual_services/bulk_update");
  EXPECT_EQ(client_.writes(), 2);
}

TEST_F(PceWriteTest, BulkWorkloadsGoInChunksOfAThousandAndReportItemErrors) {
  std::vector<nlohmann::json> items(1500, nlohmann::json{{"name", "w"}});
  std::string first = "[";
  for (int i = 0; i < 1000; ++i)
    first += std::string(i ? "," : "") + R"({"href":"/orgs/1/workloads/a","status":"created"})";
  first += "]";
  std::string second = "[";
  for (int i = 0; i < 500; ++i) {
    second +=
        std::string(i ? "," : "") + (i == 7 ? R"({"errors":[{"token":"invalid_label","message":"no such label"}]})"
                                            : R"({"href":"/orgs/1/workloads/b","status":"created"})");
  }
  second += "]";
  transport_.replies = {Reply(200, first), Reply(200, second)};
  auto r = client_.BulkWorkloads("create", items);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 1500u);
  EXPECT_EQ((*r)[1007].error, "invalid_label: no such label");
  EXPECT_EQ((*r)[1008].href, "/orgs/1/workloads/b");
  ASSERT_EQ(transport_.seen.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(transport_.seen[0].body).size(), 1000u);
  EXPECT_EQ(nlohmann::json::parse(transport_.seen[1].body).size(), 500u);
  EXPECT_EQ(transport_.seen[0].url, "http://127.0.0.1:1/api/v2/orgs/1/workloads/bulk_create");

  transport_.replies = {Reply(200, R"([{"href":"x","status":"created"}])")};
  auto short_answer = client_.BulkWorkloads("update", items);
  ASSERT_FALSE(short_answer);
  EXPECT_NE(short_answer.error().message.find("expected an array of 1000 results"), std::string::npos);
}

TEST_F(PceWriteTest, LargeCollectionsGoThroughJobsThatAreAwaitedTogether) {
  const auto job = [](const char* id, const char* status) {
    return Reply(200, std::string(R"({"href":"/orgs/1/jobs/)") + id + R"(","status":")" + status +
                          R"(","result":{"href":"/orgs/1/datafiles/)" + id + R"("}})");
  };
  transport_.replies = {Reply(200, "[1,2]", {{"x-total-count", "700"}}),
                        Reply(202, "", {{"location", "/orgs/1/jobs/a"}, {"retry-after", "3"}}),
                        Reply(200, "[]", {{"x-total-count", "0"}}),
                        Reply(200, "[3]", {{"x-total-count", "900"}}),
                        Reply(202, "", {{"location", "/orgs/1/jobs/b"}, {"retry-after", "3"}}),
                        job("a", "done"),
                        Reply(200, "[1,2,3]"),
                        job("b", "running"),
                        job("b", "done"),
                        Reply(200, "[4,5]")};
  auto r = client_.GetCollections({"workloads", "labels", "service_bindings"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, (std::vector<std::string>{"[1,2,3]", "[]", "[4,5]"}));
  // One wait for both jobs, then b's doubled one: 9 s, not 3 + 3 + 6.
  EXPECT_EQ(clock_.sleeps(),
            (std::vector<std::chrono::milliseconds>{std::chrono::seconds(3), std::chrono::seconds(6)}));
  EXPECT_EQ(transport_.seen[1].headers.front(), (std::pair<std::string, std::string>{"Prefer", "respond-async"}));
  EXPECT_EQ(transport_.seen[6].url, "http://127.0.0.1:1/api/v2/orgs/1/datafiles/a");
  EXPECT_EQ(client_.writes(), 0);
}

TEST(PceChunkTest, ChunksItemsAtTheLimit) {
  auto items = [](size_t n) { return std::vector<nlohmann::json>(n, nlohmann::json{{"name", "w"}}); };
  auto sizes = [](const std::vector<nlohmann::json>& chunks) {
    std::vector<size_t> out;
    out.reserve(chunks.size());
    for (const auto& c : chunks) out.push_back(c.size());
    return out;
  };
  EXPECT_EQ(sizes(Chunk(items(1000))), std::vector<size_t>{1000});
  EXPECT_EQ(sizes(Chunk(items(1001))), (std::vector<size_t>{1000, 1}));
  EXPECT_EQ(sizes(Chunk(items(2500))), (std::vector<size_t>{1000, 1000, 500}));
  EXPECT_TRUE(Chunk(items(0)).empty());
  EXPECT_EQ(sizes(Chunk(items(3), 2)), (std::vector<size_t>{2, 1}));
  EXPECT_TRUE(Chunk(items(2))[0].is_array());
}

TEST_F(PceWriteTest, DeletingWhatIsGoneSucceeds) {
  transport_.replies = {Reply(404, R"({"error":"not found"})"),
                        Reply(406, R"([{"token":"workload_already_deleted","message":"gone"}])"),
                        Reply(406, R"([{"token":"invalid_uri","message":"bad"}])")};
  EXPECT_TRUE(client_.Delete("/orgs/1/service_bindings/b1"));
  EXPECT_TRUE(client_.Delete("/orgs/1/service_bindings/b2"));
  auto bad = client_.Delete("/orgs/1/service_bindings/b3");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "DELETE /orgs/1/service_bindings/b3: 406 invalid_uri: bad");
}

TEST_F(PceWriteTest, ProvisionSendsAChangeSubsetAndReadsTheVersion) {
  transport_.replies = {Reply(201, R"({"href":"/orgs/1/sec_policy/81","version":81,"commit_message":"m"})")};
  auto p = client_.Provision("moat pce sync: 1 database", {"/orgs/1/sec_policy/draft/virtual_services/u1"});
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->version, 81);
  EXPECT_EQ(nlohmann::json::parse(transport_.seen[0].body),
            nlohmann::json::parse(R"({"update_description":"moat pce sync: 1 database",
              "change_subset":{"virtual_services":[{"href":"/orgs/1/sec_policy/draft/virtual_services/u1"}]}})"));
}

TEST_F(PceWriteTest, ABindingTheAnswerDoesNotConfirmIsAnError) {
  transport_.replies = {Reply(201, R"([{"href":"/orgs/1/service_bindings/x"},{"errors":[{"token":"t"}]}])")};
  auto r = client_.CreateServiceBindings({nlohmann::json::object(), nlohmann::json::object()});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "POST /orgs/1/service_bindings: a binding was not created: t");
}

TEST_F(PceWriteTest, AnAnswerWithARepeatedKeyIsRefusedNamingThePath) {
  for (int i = 0; i < 7; ++i) transport_.replies.push_back(Reply(200, "[]", {{"x-total-count", "0"}}));
  transport_.replies.push_back(
      Reply(200, R"([{"href":"/orgs/1/sec_policy/active/rule_sets/1","enabled":true,"rules":[],"enabled":false}])",
            {{"x-total-count", "1"}}));
  auto policy = client_.FetchPolicy("active");
  ASSERT_FALSE(policy);
  EXPECT_EQ(policy.error().message,
            "GET /orgs/1/sec_policy/active/rule_sets: rule_sets[0].enabled: duplicate key \"enabled\"");

  transport_.replies = {Reply(201, R"({"href":"/orgs/1/labels/9","href":"/orgs/1/labels/10"})")};
  auto href = client_.CreateLabel("app", "orders");
  ASSERT_FALSE(href);
  EXPECT_EQ(href.error().message, "POST /orgs/1/labels: href: duplicate key \"href\"");
}

}  // namespace
}  // namespace moat::pce
