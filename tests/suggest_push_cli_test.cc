// Integration tests of `moat suggest --push`: the real binary against the PCE test server and
// moto_server (orders-db at 10.0.2.45, tests/moto.h). The PCE holds labels and three web workloads;
// `moat pce sync --provision` models the databases (virtual services no rule names yet); flows to
// orders-db are recorded in the test's flow history. Covers the first push (draft objects with
// moat's external data, nothing provisioned), a push with nothing new (nothing written), a push
// after more flows (updated in place), --plan, a conflicting rule set, refused and malformed
// answers, and the loop to enforcement: push, provision, `moat plan` admits exactly what was seen.
#include <gtest/gtest.h>

#include <ctime>
#include <nlohmann/json.hpp>
#include <set>

#include "moat_process.h"
#include "moto.h"
#include "pce/client.h"
#include "pce_server.h"

namespace moat::integration {
namespace {

using Json = nlohmann::json;

const int64_t kNow = static_cast<int64_t>(std::time(nullptr));
const char* const kRuleSet = "moat-suggested-VS-RDS-orders-db";
const char* const kIpList = "moat-suggested-VS-RDS-orders-db-clients";

// Labels and web-01, web-02 (role=Web, env=Development) and web-99 (role=Web, env=Production).
Json Pce() {
  Json b = Json::parse(ReadFile(MOAT_SOURCE_DIR "/samples/policy/orders-db.bundle.json"));
  Json out = {{"labels", b["labels"]}, {"workloads", Json::array()}};
  for (const Json& w : b["workloads"]) {
    if (w["name"] != "rds-orders-db") out["workloads"].push_back(w);
  }
  return out;
}

std::string FlowLog(const std::vector<std::string>& sources, int64_t start) {
  std::string out =
      "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
      "log-status tcp-flags\n";
  for (const std::string& s : sources) {
    out += "2 123456789012 eni-0a " + s + " 10.0.2.45 40000 5432 6 10 840 " + std::to_string(start) + " " +
           std::to_string(start + 59) + " ACCEPT OK 2\n";
  }
  return out;
}

class SuggestPushTest : public ::testing::Test {
 protected:
  SuggestPushTest() : bundle_(dir_.Write("pce.json", Pce().dump())), pce_(bundle_) {}
  void SetUp() override {
    ASSERT_TRUE(moto_.ok()) << moto_.error();
    ASSERT_TRUE(pce_.ok()) << "the PCE test server did not start (python3?)";
    RunResult sync = Moat({"pce", "sync", "--provision", "--yes"});
    ASSERT_EQ(sync.exit_code, 0) << Describe(sync);
    ASSERT_FALSE(Named(Collection("sec_policy/active/virtual_services"), "VS-RDS-orders-db").is_null());
    Reset();
  }

  RunResult Moat(std::vector<std::string> args, bool with_pce = true) {
    RunOptions o;
    o.env = moto_.Environment();
    if (with_pce) {
      o.env.insert(o.env.end(), {{"ILLUMIO_PCE_HOST", pce_.url()},
                                 {"ILLUMIO_PCE_ORG_ID", "1"},
                                 {"ILLUMIO_API_KEY_USERNAME", kPceUser},
                                 {"ILLUMIO_API_KEY_SECRET", kPceSecret}});
    }
    return RunProcess(MOAT_BINARY, args, o, dir_.path(), 120);
  }
  // moat suggest --policy pce --target orders-db --push, recording `sources` first when given.
  RunResult Push(const std::vector<std::string>& sources, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"suggest",   "--policy", "pce",     "--target",
                                     "orders-db", "--push",   "--state", dir_.path() + "/state"};
    if (!sources.empty()) {
      const std::string log = "logs/" + std::to_string(++logs_) + ".log";
      args.insert(args.end(), {"--flows", dir_.Write(log, FlowLog(sources, kNow - 3600 + logs_ * 60))});
    }
    args.insert(args.end(), extra.begin(), extra.end());
    return Moat(args);
  }

  static pce::Config Config() {
    pce::Config c;
    c.user = kPceUser;
    c.secret = kPceSecret;
    return c;
  }
  Json Collection(const std::string& path) {
    pce::Config c = Config();
    c.base_url = pce_.url();
    pce::Client client(c, *transport_);
    auto body = client.GetCollection(path);
    EXPECT_TRUE(body) << body.error().message;
    return body ? Json::parse(*body) : Json::array();
  }
  // POST a body to a collection (under the org) as an admin would: the created href.
  std::string Create(const std::string& path, const Json& body) {
    pce::Config c = Config();
    c.base_url = pce_.url();
    pce::Client client(c, *transport_);
    auto href = client.Create(path, body);
    EXPECT_TRUE(href) << href.error().message;
    return href ? *href : "";
  }
  static Json Named(const Json& objects, const std::string& name) {
    for (const Json& o : objects) {
      if (o.value("name", "") == name) return o;
    }
    return nullptr;
  }
  // The API writes since the last Reset().
  std::vector<std::string> Writes() {
    std::vector<std::string> out;
    for (const Json& e : Json::parse(pce_.Get("log"))) {
      if (e["method"] != "GET") out.push_back(e["method"].get<std::string>() + " " + e["path"].get<std::string>());
    }
    return out;
  }
  void Reset() { pce_.Post("reset", "{}"); }
  static bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

  TempDir dir_;
  std::string bundle_;
  MotoServer moto_;
  PceServer pce_;
  std::unique_ptr<http::Transport> transport_ = http::NewCurlTransport({});
  int logs_ = 0;
};

TEST_F(SuggestPushTest, FirstPushWritesDraftObjectsMarkedAsMoatsAndProvisionsNothing) {
  const Json active_before = Collection("sec_policy/active/rule_sets");
  RunResult r = Push({"10.0.1.20", "10.0.1.21", "10.8.0.6"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(
      Has(r.out, "created IP list " + std::string(kIpList) + " (VS-RDS-orders-db) /orgs/1/sec_policy/draft/ip_lists/"))
      << r.out;
  EXPECT_TRUE(Has(r.out, "created rule set " + std::string(kRuleSet) + " (VS-RDS-orders-db)")) << r.out;
  EXPECT_TRUE(Has(r.out,
                  "2 created, 0 updated, 0 unchanged in the PCE's draft policy: review them in the PCE and "
                  "provision them there (moat does not provision)"))
      << r.out;
  EXPECT_EQ(r.out.find("\"rule_sets\""), std::string::npos) << "the document goes to --out only";

  const Json list = Named(Collection("sec_policy/draft/ip_lists"), kIpList);
  ASSERT_FALSE(list.is_null());
  EXPECT_EQ(list["external_data_set"], "moat");
  EXPECT_EQ(list["external_data_reference"], "suggest:VS-RDS-orders-db:clients");
  EXPECT_EQ(list["ip_ranges"].size(), 1u);
  EXPECT_EQ(list["ip_ranges"][0]["from_ip"], "10.8.0.6");
  const Json rs = Named(Collection("sec_policy/draft/rule_sets"), kRuleSet);
  ASSERT_FALSE(rs.is_null());
  EXPECT_EQ(rs["external_data_set"], "moat");
  EXPECT_EQ(rs["external_data_reference"], "suggest:VS-RDS-orders-db");
  ASSERT_EQ(rs["rules"].size(), 2u) << rs.dump(1);
  // The IP-list rule names the list the PCE made, not the document's placeholder.
  EXPECT_TRUE(Has(rs.dump(), list["href"].get<std::string>())) << rs.dump(1);
  EXPECT_FALSE(Has(rs.dump(), "moat-suggested-1")) << rs.dump(1);
  // Draft only: nothing provisioned, the active policy as it was.
  for (const std::string& w : Writes()) EXPECT_NE(w, "POST /api/v2/orgs/1/sec_policy");
  EXPECT_EQ(Collection("sec_policy/active/rule_sets"), active_before);
  EXPECT_TRUE(Named(Collection("sec_policy/active/ip_lists"), kIpList).is_null());
}

TEST_F(SuggestPushTest, ASecondPushUpdatesInPlaceAndOneWithNothingNewWritesNothing) {
  ASSERT_EQ(Push({"10.0.1.20", "10.8.0.6"}).exit_code, 0);
  const Json rs = Named(Collection("sec_policy/draft/rule_sets"), kRuleSet);
  const Json list = Named(Collection("sec_policy/draft/ip_lists"), kIpList);
  Reset();

  RunResult same = Push({});
  ASSERT_EQ(same.exit_code, 0) << Describe(same);
  EXPECT_TRUE(Has(same.out, "unchanged IP list " + std::string(kIpList))) << same.out;
  EXPECT_TRUE(Has(same.out, "unchanged rule set " + std::string(kRuleSet))) << same.out;
  EXPECT_TRUE(Has(same.out, "0 created, 0 updated, 2 unchanged")) << same.out;
  EXPECT_TRUE(Writes().empty());

  RunResult more = Push({"10.0.1.21", "10.8.0.9"});
  ASSERT_EQ(more.exit_code, 0) << Describe(more);
  EXPECT_TRUE(Has(more.out,
                  "updated IP list " + std::string(kIpList) + " (VS-RDS-orders-db) " + list["href"].get<std::string>()))
      << more.out;
  EXPECT_TRUE(Has(more.out,
                  "updated rule set " + std::string(kRuleSet) + " (VS-RDS-orders-db) " + rs["href"].get<std::string>()))
      << more.out;
  // In place: one of each, under the same hrefs; no create of a rule set or an IP list.
  const Json sets = Collection("sec_policy/draft/rule_sets?external_data_set=moat");
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_EQ(sets[0]["href"], rs["href"]);
  const Json lists = Collection("sec_policy/draft/ip_lists?external_data_set=moat");
  ASSERT_EQ(lists.size(), 1u);
  std::set<std::string> ranges;
  for (const Json& range : lists[0]["ip_ranges"]) ranges.insert(range["from_ip"]);
  EXPECT_EQ(ranges, (std::set<std::string>{"10.8.0.6", "10.8.0.9"}));
  for (const std::string& w : Writes()) {
    EXPECT_NE(w, "POST /api/v2/orgs/1/sec_policy/draft/rule_sets");
    EXPECT_NE(w, "POST /api/v2/orgs/1/sec_policy/draft/ip_lists");
    EXPECT_NE(w, "POST /api/v2/orgs/1/sec_policy");
  }
}

TEST_F(SuggestPushTest, EveryRunSaysWhatItsWindowHoldsAndAPushFromAnEmptyOneIsRefused) {
  RunResult first = Push({"10.0.1.20", "10.8.0.6"});
  ASSERT_EQ(first.exit_code, 0) << Describe(first);
  EXPECT_TRUE(Has(first.err, "moat: suggest: 2 of 2 recorded flow(s) fall in the window (since ")) << first.err;
  EXPECT_TRUE(Has(first.err, "the history spans ")) << first.err;
  Reset();
  // The default window (30 days) holds the flows; one of a minute ago does not, by the operator's
  // choice (--since), or by mistake through the environment's default: refused then.
  RunResult typo = Moat({"suggest", "--policy", "pce", "--target", "orders-db", "--push", "--state",
                         dir_.path() + "/state", "--since", "2099-01-01"});
  EXPECT_EQ(typo.exit_code, 0) << Describe(typo);  // chosen on purpose: nothing to push, nothing written
  EXPECT_TRUE(Has(typo.err, "moat: suggest: 0 of 2 recorded flow(s) fall in the window")) << typo.err;
  EXPECT_TRUE(Has(typo.err, "warning: the window holds none of the 2 recorded flow(s)")) << typo.err;
  for (const std::string& w : Writes()) EXPECT_EQ(w.rfind("DELETE", 0), std::string::npos) << w;

  // A history whose flows are all older than the default window: a push without --since is
  // refused before it writes anything.
  TempDir old;
  RunResult refused =
      Moat({"suggest", "--policy", "pce", "--target", "orders-db", "--push", "--state", old.path() + "/state",
            "--flows", old.Write("old.log", FlowLog({"10.0.1.20"}, kNow - 40 * 86400))});
  EXPECT_EQ(refused.exit_code, 1) << Describe(refused);
  EXPECT_TRUE(Has(refused.err, "holds none of its 1 recorded flow(s)")) << refused.err;
  EXPECT_TRUE(Has(refused.err, "give --since explicitly to push from it")) << refused.err;
  EXPECT_TRUE(Writes().empty());
}

TEST_F(SuggestPushTest, PlanSaysWhatItWouldWriteAndWritesNothing) {
  for (const std::vector<std::string>& flags : {std::vector<std::string>{"--plan"}, std::vector<std::string>{}}) {
    std::vector<std::string> args = {
        "suggest",   "--policy",
        "pce",       "--target",
        "orders-db", "--plan",
        "--state",   dir_.path() + "/state",
        "--flows",   dir_.Write("logs/p.log", FlowLog({"10.0.1.20", "10.8.0.6"}, kNow - 600))};
    if (!flags.empty()) args.push_back("--push");  // --plan alone, and --push --plan
    RunResult r = Moat(args);
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_TRUE(Has(r.out, "+ create IP list " + std::string(kIpList) + " (VS-RDS-orders-db)")) << r.out;
    EXPECT_TRUE(Has(r.out, "+ create rule set " + std::string(kRuleSet) + " (VS-RDS-orders-db) with 2 rule(s)"))
        << r.out;
    EXPECT_TRUE(Has(r.out, "plan only: nothing was written to the PCE")) << r.out;
    EXPECT_TRUE(Writes().empty());
  }
  EXPECT_TRUE(Named(Collection("sec_policy/draft/rule_sets"), kRuleSet).is_null());
}

TEST_F(SuggestPushTest, ARuleSetOfMoatsNameThatIsNotMoatsIsReportedAndLeftAlone) {
  const std::string theirs = Create("sec_policy/draft/rule_sets",
                                    {{"name", kRuleSet}, {"description", "made by hand"}, {"scopes", {Json::array()}}});
  Reset();
  RunResult r = Push({"10.0.1.20", "10.8.0.6"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(Has(r.out, "! conflict VS-RDS-orders-db: the draft rule set " + std::string(kRuleSet) + " " + theirs +
                             ": it is not moat's (external data: none); nothing is written for VS-RDS-orders-db"))
      << r.out;
  EXPECT_TRUE(Has(r.out, "1 conflict(s) left alone")) << r.out;
  EXPECT_TRUE(Writes().empty());
  const Json rs = Named(Collection("sec_policy/draft/rule_sets"), kRuleSet);
  EXPECT_EQ(rs["description"], "made by hand");
  EXPECT_TRUE(rs["rules"].empty());
  EXPECT_TRUE(Named(Collection("sec_policy/draft/ip_lists"), kIpList).is_null());
}

TEST_F(SuggestPushTest, PushProvisionedByTheAdminIsWhatPlanEnforces) {
  RunResult pushed = Push({"10.0.1.20", "10.0.1.21", "10.8.0.6"});
  ASSERT_EQ(pushed.exit_code, 0) << Describe(pushed);
  // The admin reviews and provisions (moat never does).
  ASSERT_FALSE(Create("sec_policy", {{"update_description", "reviewed moat's suggestion"}}).empty());

  RunResult plan =
      Moat({"plan", "--policy", "pce", "--target", "orders-db", "--json", "--state", dir_.path() + "/state"});
  ASSERT_EQ(plan.exit_code, 0) << Describe(plan);
  const Json p = Json::parse(plan.out);
  ASSERT_EQ(p["targets"].size(), 1u) << plan.out;
  const Json& t = p["targets"][0];
  EXPECT_EQ(t["policy_target"], "VS-RDS-orders-db");
  EXPECT_EQ(t["error"], "");
  std::set<std::string> cidrs;
  for (const Json& g : t["groups"]) {
    for (const Json& a : g["authorize"]) {
      EXPECT_EQ(a["protocol"], 6);
      EXPECT_EQ(a["from_port"], 5432);
      EXPECT_EQ(a["to_port"], 5432);
      cidrs.insert(a["cidr"]);
    }
  }
  // web-01 and web-02 by their labels (not web-99, not web-01's loopback), and the stranger.
  EXPECT_EQ(cidrs, (std::set<std::string>{"10.0.1.20/31", "10.8.0.6/32"})) << plan.out;
}

TEST_F(SuggestPushTest, ATargetThatNamesNoDatabaseIsAnError) {
  RunResult r = Moat({"suggest", "--policy", "pce", "--target", "nosuch-db", "--state", dir_.path() + "/state",
                      "--flows", dir_.Write("logs/n.log", FlowLog({"10.0.1.20"}, kNow - 600))});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_TRUE(Has(r.err, "moat: suggest: --target nosuch-db: no virtual service or provider workload")) << r.err;
  EXPECT_TRUE(Writes().empty());
}

TEST_F(SuggestPushTest, ADatabaseWithoutFlowsGetsANoteNotAnError) {
  RunResult r = Moat({"suggest", "--policy", "pce", "--target", "ledger", "--state", dir_.path() + "/state", "--flows",
                      dir_.Write("logs/l.log", FlowLog({"10.0.1.20"}, kNow - 600))});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const Json doc = Json::parse(r.out);
  EXPECT_TRUE(doc["rule_sets"].empty());
  ASSERT_EQ(doc["notes"].size(), 1u) << r.out;
  EXPECT_TRUE(Has(doc["notes"][0], "no flows observed to VS-RDS-cluster-ledger")) << r.out;
}

TEST_F(SuggestPushTest, PushNeedsThePce) {
  RunResult r = Moat({"suggest", "--policy", bundle_, "--push", "--state", dir_.path() + "/state", "--flows",
                      dir_.Write("logs/x.log", FlowLog({"10.0.1.20"}, kNow - 600))},
                     false);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_TRUE(Has(r.err, "moat: suggest: --push: ILLUMIO_PCE_HOST is not set")) << r.err;
}

TEST_F(SuggestPushTest, ARefusedWriteStopsThePushSayingWhatWasWrittenBeforeIt) {
  // The draft virtual service on its way out: a rule naming it is refused (406 invalid_uri).
  const Json vs = Named(Collection("sec_policy/draft/virtual_services"), "VS-RDS-orders-db");
  pce::Config c = Config();
  c.base_url = pce_.url();
  pce::Client admin(c, *transport_);
  ASSERT_TRUE(admin.Delete(vs["href"].get<std::string>()));
  Reset();
  RunResult r = Push({"10.0.1.20", "10.8.0.6"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_TRUE(Has(r.out, "created IP list " + std::string(kIpList))) << r.out;
  EXPECT_TRUE(Has(r.err, "moat: suggest: --push: creating rule set " + std::string(kRuleSet) +
                             " (VS-RDS-orders-db): POST /orgs/1/sec_policy/draft/rule_sets: 406 invalid_uri"))
      << r.err;
  EXPECT_TRUE(Has(r.err, "(written before it: 1 created, 0 updated)")) << r.err;
}

TEST_F(SuggestPushTest, AMalformedAnswerIsAnErrorNamingTheRequest) {
  pce_.Faults(R"({"garbage": 1, "method": "POST"})");
  RunResult r = Push({"10.0.1.20", "10.8.0.6"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_TRUE(Has(r.err, "moat: suggest: --push: creating IP list " + std::string(kIpList) +
                             " (VS-RDS-orders-db): POST /orgs/1/sec_policy/draft/ip_lists: the response is not JSON"))
      << r.err;
}

}  // namespace
}  // namespace moat::integration
