// Integration tests of `moat map` and `moat suggest`: the real binary on the sample policy and
// flow logs written per test, recorded into a flow history in the test's state directory. The
// HTML map is opened in headless Chromium (tests/map_browser_test.py) when it is installed.
#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "moat_process.h"

namespace moat::integration {
namespace {

using Json = nlohmann::json;

const int64_t kNow = static_cast<int64_t>(std::time(nullptr));

std::string Record(const std::string& src, const std::string& dst, int dport, const std::string& action, int64_t start,
                   int sport = 40000) {
  return "2 123456789012 eni-0a " + src + " " + dst + " " + std::to_string(sport) + " " + std::to_string(dport) +
         " 6 10 840 " + std::to_string(start) + " " + std::to_string(start + 59) + " " + action + " OK\n";
}

std::string FlowLog(const std::vector<std::string>& records) {
  std::string out =
      "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
      "log-status\n";
  for (const std::string& r : records) out += r;
  return out;
}

// To orders-db (10.0.2.45) on 5432: web-01 and web-02 (allowed by labels), web-99 (a production
// web server: not allowed), a VPN address (allowed by IP list), and two strangers in 10.8.0.0/24,
// one rejected.
std::string Today() {
  const int64_t t = kNow - 7200;
  return FlowLog(
      {Record("10.0.1.20", "10.0.2.45", 5432, "ACCEPT", t),
       Record("10.0.1.20", "10.0.2.45", 5432, "ACCEPT", t + 60, 40001),
       Record("10.0.1.21", "10.0.2.45", 5432, "ACCEPT", t), Record("10.9.1.99", "10.0.2.45", 5432, "ACCEPT", t),
       Record("192.168.50.7", "10.0.2.45", 5432, "ACCEPT", t), Record("10.8.0.5", "10.0.2.45", 5432, "REJECT", t),
       Record("10.8.0.6", "10.0.2.45", 5432, "ACCEPT", t)});
}

class MapCliTest : public ::testing::Test {
 protected:
  RunResult Moat(std::vector<std::string> args) {
    args.insert(args.end(), {"--policy", MOAT_SOURCE_DIR "/samples/policy/orders-db.bundle.json", "--state",
                             dir_.path() + "/state"});
    return RunProcess(MOAT_BINARY, args, {}, dir_.path(), 120);
  }
  Json Map(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"map", "--out", dir_.path() + "/map.json"};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = Moat(args);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return Json::parse(ReadFile(dir_.path() + "/map.json"));
  }
  static const Json* Edge(const Json& map, const std::string& from, const std::string& decision) {
    for (const Json& e : map["edges"]) {
      if (e["from"] == from && e["decision"] == decision) return &e;
    }
    return nullptr;
  }
  TempDir dir_;
};

TEST_F(MapCliTest, ApplyOnlyOptionsAreRefusedNotIgnored) {
  // The map never writes: an option only apply uses is an error, not silently dropped.
  for (const std::vector<std::string>& extra : {std::vector<std::string>{"--audit-log", dir_.path() + "/audit.log"},
                                                std::vector<std::string>{"--mode", "enforce"}}) {
    std::vector<std::string> args = {"map", "--out", dir_.path() + "/map.json"};
    args.insert(args.end(), extra.begin(), extra.end());
    RunResult r = Moat(args);
    EXPECT_EQ(r.exit_code, 1) << Describe(r);
    EXPECT_EQ(r.err.rfind("moat: map: unknown option " + extra[0], 0), 0u) << r.err;
    EXPECT_NE(r.err.find(extra[0]), std::string::npos) << r.err;
  }
}

TEST_F(MapCliTest, GroupsConsumersAndDecidesEachEdge) {
  const Json map = Map({"--flows", dir_.Write("logs/today.log", Today())});
  std::vector<std::string> ids;
  for (const Json& n : map["nodes"]) ids.push_back(n["id"]);
  EXPECT_EQ(ids,
            (std::vector<std::string>{"db:VS-RDS-orders-db", "ip-list:IPL-Corp-VPN",
                                      "labels:role=Web,app=Consumer,env=Development,loc=Amazon",
                                      "labels:role=Web,app=Consumer,env=Production,loc=Amazon", "subnet:10.8.0.0/24"}));
  const std::string web = "labels:role=Web,app=Consumer,env=Development,loc=Amazon";
  const Json* allowed = Edge(map, web, "allowed");
  ASSERT_NE(allowed, nullptr) << map.dump(1);
  EXPECT_EQ((*allowed)["to"], "db:VS-RDS-orders-db");
  EXPECT_EQ((*allowed)["port"], 5432);
  EXPECT_EQ((*allowed)["flows"], 2);    // web-01 and web-02
  EXPECT_EQ((*allowed)["records"], 3);  // two connections of web-01, one of web-02
  EXPECT_EQ((*allowed)["rules"], Json::array({"/orgs/1/sec_policy/active/rule_sets/24/sec_rules/61"}));
  EXPECT_NE(Edge(map, "ip-list:IPL-Corp-VPN", "allowed"), nullptr);
  EXPECT_NE(Edge(map, "labels:role=Web,app=Consumer,env=Production,loc=Amazon", "not-allowed"), nullptr);
  EXPECT_NE(Edge(map, "subnet:10.8.0.0/24", "rejected"), nullptr);
  EXPECT_NE(Edge(map, "subnet:10.8.0.0/24", "not-allowed"), nullptr);
  EXPECT_EQ(map["edges"].size(), 5u);
  for (const Json& n : map["nodes"]) {
    if (n["id"] == web) {
      EXPECT_EQ(n["member_count"], 2);
    }
  }
}

TEST_F(MapCliTest, HistoryCountsEachObjectOnceMarksNewFlowsAndHonoursTheWindow) {
  const std::string today = dir_.Write("logs/today.log", Today());
  Json map = Map({"--flows", today});
  const std::string web = "labels:role=Web,app=Consumer,env=Development,loc=Amazon";
  ASSERT_NE(Edge(map, web, "allowed"), nullptr);
  EXPECT_TRUE((*Edge(map, web, "allowed"))["new"]);
  // The same file again: recorded once; nothing new since.
  map = Map({"--flows", today});
  EXPECT_EQ((*Edge(map, web, "allowed"))["records"], 3);
  // A later object: only what it brings is new.
  map = Map({"--flows",
             dir_.Write("logs/later.log", FlowLog({Record("10.8.0.9", "10.0.2.45", 5432, "ACCEPT", kNow - 600),
                                                   Record("10.0.1.20", "10.0.2.45", 5432, "ACCEPT", kNow - 600)}))});
  EXPECT_EQ((*Edge(map, web, "allowed"))["records"], 4);
  EXPECT_FALSE((*Edge(map, web, "allowed"))["new"]);  // web-01 talked before
  EXPECT_TRUE((*Edge(map, "subnet:10.8.0.0/24", "not-allowed"))["new"]);
  // Forty days ago: outside the default window (30 days), inside --since all.
  const std::string old =
      dir_.Write("logs/old.log", FlowLog({Record("10.7.7.7", "10.0.2.45", 5432, "ACCEPT", kNow - 40 * 86400)}));
  map = Map({"--flows", old});
  EXPECT_EQ(Edge(map, "subnet:10.7.7.0/24", "not-allowed"), nullptr);
  map = Map({"--since", "all"});
  EXPECT_NE(Edge(map, "subnet:10.7.7.0/24", "not-allowed"), nullptr);
  map = Map({"--since", "1h"});
  EXPECT_EQ(Edge(map, "labels:role=Web,app=Consumer,env=Production,loc=Amazon", "not-allowed"), nullptr);
  EXPECT_NE(Edge(map, "subnet:10.8.0.0/24", "not-allowed"), nullptr);
}

TEST_F(MapCliTest, WritesDotSvgAndASelfContainedHtmlPage) {
  const std::string log = dir_.Write("logs/today.log", Today());
  for (const char* ext : {"dot", "svg", "html"}) {
    const std::string out = dir_.path() + "/map." + ext;
    RunResult r = Moat({"map", "--out", out, "--flows", log});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_NE(r.err.find("5 nodes, 5 edges"), std::string::npos) << r.err;
    const std::string text = ReadFile(out);
    EXPECT_NE(text.find("db:VS-RDS-orders-db"), std::string::npos) << ext;
    if (std::string(ext) == "dot") {
      EXPECT_EQ(text.rfind("digraph", 0), 0u);
    }
    if (std::string(ext) == "svg") {
      EXPECT_NE(text.find("<svg"), std::string::npos);
    }
  }
  const std::string html = ReadFile(dir_.path() + "/map.html");
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);
  EXPECT_EQ(html.find("href=\"http"), std::string::npos);
  if (!std::filesystem::exists("/usr/bin/chromium") || !std::filesystem::exists("/usr/bin/chromedriver")) {
    GTEST_SKIP() << "chromium or chromedriver not installed";
  }
  const std::string script = MOAT_SOURCE_DIR "/tests/map_browser_test.py";
  RunResult browser =
      RunProcess("/usr/bin/env", {"python3",       script,
                                  "--html",        dir_.path() + "/map.html",
                                  "--expect-node", "db:VS-RDS-orders-db",
                                  "--expect-node", "ip-list:IPL-Corp-VPN",
                                  "--expect-node", "labels:role=Web,app=Consumer,env=Development,loc=Amazon",
                                  "--expect-node", "labels:role=Web,app=Consumer,env=Production,loc=Amazon",
                                  "--expect-node", "subnet:10.8.0.0/24",
                                  "--min-edges",   "5",
                                  "--search",      "orders=db:VS-RDS-orders-db",
                                  "--search",      "10.8.0.6=db:VS-RDS-orders-db",
                                  "--search",      "10.8.0.200=db:VS-RDS-orders-db",
                                  "--screenshot",  dir_.path() + "/map.png"},
                 {}, dir_.path(), 120);
  EXPECT_EQ(browser.exit_code, 0) << Describe(browser);
  EXPECT_TRUE(std::filesystem::exists(dir_.path() + "/map.png"));
}

TEST_F(MapCliTest, ProgressBarOnlyOnATerminalAndNeverWithQuiet) {
  const std::string log = dir_.Write("logs/today.log", Today());
  RunResult piped = Moat({"map", "--out", dir_.path() + "/map.json", "--flows", log});
  ASSERT_EQ(piped.exit_code, 0) << Describe(piped);
  EXPECT_EQ(piped.err.find('\r'), std::string::npos) << piped.err;
  if (!std::filesystem::exists("/usr/bin/script")) GTEST_SKIP() << "script (util-linux) not installed";
  // script(1) gives the command a terminal.
  const std::string base = std::string(MOAT_BINARY) +
                           " map --policy " MOAT_SOURCE_DIR "/samples/policy/orders-db.bundle.json --out " +
                           dir_.path() + "/map.json --state " + dir_.path() + "/tty --flows " + log;
  RunResult tty = RunProcess("/usr/bin/script", {"-qec", base, "/dev/null"}, {}, dir_.path(), 60);
  ASSERT_EQ(tty.exit_code, 0) << Describe(tty);
  EXPECT_NE(tty.out.find("recording flow logs ["), std::string::npos) << tty.out;
  EXPECT_NE(tty.out.find("loading flow history ["), std::string::npos) << tty.out;
  EXPECT_NE(tty.out.find("mapping flows ["), std::string::npos) << tty.out;
  RunResult quiet = RunProcess("/usr/bin/script", {"-qec", base + " --quiet", "/dev/null"}, {}, dir_.path(), 60);
  ASSERT_EQ(quiet.exit_code, 0) << Describe(quiet);
  EXPECT_EQ(quiet.out.find("flow history ["), std::string::npos) << quiet.out;
  EXPECT_NE(quiet.out.find("moat: map: wrote"), std::string::npos) << quiet.out;
}

TEST_F(MapCliTest, BadRequestsAreOneLineErrors) {
  RunResult r = Moat({"map", "--out", dir_.path() + "/map.png"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("expected a file ending .html, .svg, .dot or .json"), std::string::npos) << r.err;
  r = Moat({"map", "--out", dir_.path() + "/map.json", "--flows", "-"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("standard input cannot be recorded"), std::string::npos) << r.err;
  r = Moat({"map", "--out", dir_.path() + "/map.json", "--since", "yesterday"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--since"), std::string::npos) << r.err;
  dir_.Write("state/flows.sqlite", "not a database, and it stays as it is");
  r = Moat({"map", "--out", dir_.path() + "/map.json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("flows.sqlite"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(dir_.path() + "/state/flows.sqlite"), "not a database, and it stays as it is");
  for (const std::string& line : {r.err}) EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;
}

TEST_F(MapCliTest, TargetChoosesTheDatabasesAndOneThatNamesNoneIsAnError) {
  const std::string log = dir_.Write("logs/today.log", Today());
  Json all = Map({"--flows", log, "--target", "VS-RDS-orders-db"});
  ASSERT_FALSE(all["nodes"].empty());
  EXPECT_EQ(all["nodes"][0]["id"], "db:VS-RDS-orders-db");
  EXPECT_EQ(all["nodes"][0]["protection"], "protected");
  RunResult r = Moat({"map", "--out", dir_.path() + "/typo.json", "--target", "ordrs-db"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_NE(r.err.find("--target ordrs-db: no database of the policy has that name"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/typo.json"));
  r = Moat({"map", "--out", dir_.path() + "/tag.json", "--target", "tag:team=payments"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_NE(r.err.find("--target tag:team=payments: tags are read from AWS: give --plan"), std::string::npos) << r.err;
}

TEST_F(MapCliTest, EveryRunSaysHowManyRecordedFlowsFallInTheWindowAndWhatTheDataSpans) {
  const int64_t t = kNow - 7200;
  const std::string log = dir_.Write("logs/old-and-new.log",
                                     FlowLog({Record("10.0.1.20", "10.0.2.45", 5432, "ACCEPT", t),
                                              Record("10.0.1.21", "10.0.2.45", 5432, "ACCEPT", kNow - 40 * 86400)}));
  RunResult r = Moat({"map", "--out", dir_.path() + "/map.json", "--flows", log});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.err.find("moat: map: 1 of 2 recorded flow(s) fall in the window (since "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the history spans "), std::string::npos) << r.err;
  const Json map = Json::parse(ReadFile(dir_.path() + "/map.json"));
  EXPECT_EQ(map["first"], t);
  EXPECT_EQ(map["last"], t + 59);
  EXPECT_EQ(map["recorded_flows"], 2);
  EXPECT_EQ(map["window_flows"], 1);
  r = Moat({"map", "--out", dir_.path() + "/map.json", "--since", "1h"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.err.find("0 of 2 recorded flow(s) fall in the window"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("warning: the window holds none of the 2 recorded flow(s)"), std::string::npos) << r.err;
  const Json empty = Json::parse(ReadFile(dir_.path() + "/map.json"));
  EXPECT_EQ(empty["no_flows"], Json({"db:VS-RDS-orders-db"}));
}

TEST_F(MapCliTest, SuggestProposesRulesForWhatWasSeen) {
  RunResult r = Moat({"suggest", "--flows", dir_.Write("logs/today.log", Today())});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const Json doc = Json::parse(r.out);
  ASSERT_EQ(doc["rule_sets"].size(), 1u) << doc.dump(1);
  EXPECT_EQ(doc["rule_sets"][0]["name"], "moat-suggested-VS-RDS-orders-db");
  // The strangers that were accepted (not the rejected one) become an IP list.
  std::vector<std::string> ranges;
  for (const Json& l : doc["ip_lists"]) {
    for (const Json& x : l["ip_ranges"]) ranges.push_back(x["from_ip"]);
  }
  EXPECT_NE(std::find(ranges.begin(), ranges.end(), "10.8.0.6"), ranges.end()) << doc.dump(1);
  EXPECT_EQ(std::find(ranges.begin(), ranges.end(), "10.8.0.5"), ranges.end()) << doc.dump(1);
  size_t covered = 0;
  for (const Json& c : doc["coverage"]) covered += c["flows"].size();
  EXPECT_EQ(covered, 5u);  // web-01, web-02, web-99, the VPN address, 10.8.0.6
  RunResult none = RunProcess(MOAT_BINARY,
                              {"suggest", "--policy", MOAT_SOURCE_DIR "/samples/policy/orders-db.bundle.json",
                               "--state", dir_.path() + "/empty"},
                              {}, dir_.path(), 60);
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("no flow history yet"), std::string::npos) << none.err;
}

}  // namespace
}  // namespace moat::integration
