#include "traffic/report.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace moat::traffic {
namespace {

FlowsReport Sample() {
  FlowsReport r;
  r.stats.files = 2;
  r.stats.files_read = 2;
  r.stats.lines = 10;
  r.stats.records = 7;
  r.stats.nodata = 1;
  r.stats.Skip(flowlog::SkipReason::kBadPort, "a.log.gz:17", "field 'dstport': not an integer \"x\"");
  r.stats.Skip(flowlog::SkipReason::kBadPort, "a.log.gz:18", "field 'dstport': not an integer \"y\"");
  Flow f;
  f.key.initiator = *net::ParseAddress("10.0.1.20");
  f.key.responder = *net::ParseAddress("10.0.2.45");
  f.key.port = 5432;
  f.key.protocol = 6;
  f.key.action = flowlog::Action::kAccept;
  f.counts = {6, 340, 51000, 1714521600, 1714525200};
  r.flows.push_back(f);
  Flow g;
  g.key.initiator = *net::ParseAddress("2001:db8:0:0:1:0:0:1");
  g.key.responder = *net::ParseAddress("2001:db8::45");
  g.key.port = 6379;
  g.key.protocol = 6;
  g.counts = {1, 1, 60, flowlog::kNoTime, flowlog::kNoTime};
  r.flows.push_back(g);
  return r;
}

TEST(ReportTest, JsonHasTheContractKeys) {
  auto j = nlohmann::json::parse(RenderJson(Sample()));
  for (const char* k : {"files", "lines", "records", "nodata", "skipdata", "skipped"}) {
    EXPECT_TRUE(j["totals"].contains(k)) << k;
  }
  EXPECT_EQ(j["totals"]["skipped"], 2);
  ASSERT_EQ(j["skipped"].size(), 1u);
  EXPECT_EQ(j["skipped"][0]["reason"], "bad-port");
  EXPECT_EQ(j["skipped"][0]["count"], 2);
  EXPECT_EQ(j["skipped"][0]["example"], "a.log.gz:17: field 'dstport': not an integer \"x\"");
  ASSERT_EQ(j["flows"].size(), 2u);
  const auto& f = j["flows"][0];
  EXPECT_EQ(f["initiator"], "10.0.1.20");
  EXPECT_EQ(f["responder"], "10.0.2.45");
  EXPECT_EQ(f["port"], 5432);
  EXPECT_EQ(f["protocol"], 6);
  EXPECT_EQ(f["action"], "ACCEPT");
  EXPECT_EQ(f["records"], 6);
  EXPECT_EQ(f["packets"], 340);
  EXPECT_EQ(f["bytes"], 51000);
  EXPECT_EQ(f["first"], 1714521600);
  EXPECT_EQ(f["last"], 1714525200);
}

TEST(ReportTest, JsonPrintsIPv6InRfc5952AndAbsentValuesAsNull) {
  auto j = nlohmann::json::parse(RenderJson(Sample()));
  const auto& g = j["flows"][1];
  EXPECT_EQ(g["initiator"], "2001:db8::1:0:0:1");
  EXPECT_EQ(g["responder"], "2001:db8::45");
  EXPECT_TRUE(g["first"].is_null());
  EXPECT_TRUE(g["last"].is_null());
  EXPECT_TRUE(g["action"].is_null());
}

TEST(ReportTest, JsonEscapesExamplesFromTheInput) {
  FlowsReport r;
  r.stats.Skip(flowlog::SkipReason::kBadValue, "we\"ird.log:1", "field 'action': bad \"\\x01\"");
  auto j = nlohmann::json::parse(RenderJson(r));
  EXPECT_EQ(j["skipped"][0]["example"], "we\"ird.log:1: field 'action': bad \"\\x01\"");
}

TEST(ReportTest, TextSummarisesPerResponderWithSkipsAndExamples) {
  const std::string t = RenderText(Sample(), TextOptions{});
  EXPECT_NE(t.find("2 files, 10 lines: 7 records (1 NODATA, 0 SKIPDATA, 2 skipped) -> 2 flows, 2 responders"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("10.0.2.45  ports 5432/tcp"), std::string::npos) << t;
  EXPECT_NE(t.find("records 6  accepted 6  rejected 0  initiators 1"), std::string::npos) << t;
  EXPECT_NE(t.find("51,000"), std::string::npos) << t;
  EXPECT_NE(t.find("bad-port"), std::string::npos);
  EXPECT_NE(t.find("e.g. a.log.gz:17: field 'dstport': not an integer \"x\""), std::string::npos) << t;
}

TEST(ReportTest, TextLimitsRespondersAndInitiators) {
  FlowsReport r = Sample();
  TextOptions o;
  o.max_responders = 1;
  const std::string t = RenderText(r, o);
  EXPECT_NE(t.find("... and 1 more responders"), std::string::npos) << t;
  EXPECT_EQ(t.find("2001:db8::45"), std::string::npos) << t;
}

}  // namespace
}  // namespace moat::traffic
