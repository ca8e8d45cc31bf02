#include "app/flows.h"

#include <gtest/gtest.h>

#include <map>

#include "testing/gzip.h"

namespace moat::app {
namespace {

constexpr const char* kHeader =
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
    "log-status\n";

// An in-memory ObjectStore: a prefix lists the objects under it, in name order.
class MemoryStore : public ObjectStore {
 public:
  std::map<std::string, std::string> objects;
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override {
    std::vector<ObjectInfo> out;
    for (const auto& [name, data] : objects) {
      if (name.starts_with(prefix)) out.push_back({name, data.size()});
    }
    if (out.empty()) return Fail(NotFound(prefix + ": No such file or directory"));
    return out;
  }
  Result<std::unique_ptr<ByteStream>> Open(const std::string& name) override {
    auto it = objects.find(name);
    if (it == objects.end()) return Fail(NotFound(name + ": No such file or directory"));
    return std::unique_ptr<ByteStream>(std::make_unique<StringStream>(it->second));
  }
};

std::string Records(int client, int count, const char* dport = "5432") {
  std::string s;
  for (int i = 0; i < count; ++i) {
    s += "2 1 eni-1 10.1.0." + std::to_string(client) + " 10.0.2.45 " + std::to_string(40000 + i) + " " + dport +
         " 6 1 100 1714521600 1714521660 ACCEPT OK\n";
  }
  return s;
}

TEST(RunFlowsTest, ReadsEverySourceAndAggregates) {
  MemoryStore store;
  store.objects["d/a.log"] = std::string(kHeader) + Records(1, 3);
  store.objects["d/b.log.gz"] = moat::testing::Gzip(std::string(kHeader) + Records(1, 2) + Records(2, 1));
  FlowsDeps deps{&store, nullptr};
  auto r = RunFlows({{"d/"}, 1, {}}, deps);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stats.files, 2u);
  EXPECT_EQ(r->stats.records, 6u);
  ASSERT_EQ(r->flows.size(), 2u);
  EXPECT_EQ(r->flows[0].counts.records, 5u);
  EXPECT_EQ(net::ToString(r->flows[0].key.initiator), "10.1.0.1");
}

TEST(RunFlowsTest, ThreadCountDoesNotChangeTheReport) {
  MemoryStore store;
  for (int f = 0; f < 12; ++f) {
    store.objects["d/" + std::to_string(100 + f) + ".log"] =
        std::string(kHeader) + Records(f % 5, 50 + f) + (f % 4 == 0 ? "bad line\n" : "") +
        "2 1 eni-1 10.1.0.1 10.0.2.45 1 x" + std::to_string(f) + " 6 1 1 1 1 ACCEPT OK\n";
  }
  FlowsDeps deps{&store, nullptr};
  auto one = RunFlows({{"d/"}, 1, {}}, deps);
  auto four = RunFlows({{"d/"}, 4, {}}, deps);
  ASSERT_TRUE(one && four);
  EXPECT_EQ(traffic::RenderJson(*one), traffic::RenderJson(*four));
  // The example kept is the first in input order, whichever thread read it.
  EXPECT_EQ(four->stats.examples[static_cast<size_t>(flowlog::SkipReason::kBadPort)],
            "d/100.log:53: field 'dstport': not an integer \"x0\"");
}

TEST(RunFlowsTest, MissingSourceIsCountedAsUnreadable) {
  MemoryStore store;
  store.objects["d/a.log"] = std::string(kHeader) + Records(1, 1);
  FlowsDeps deps{&store, nullptr};
  auto r = RunFlows({{"nope", "d/"}, 2, {}}, deps);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stats.files, 2u);
  EXPECT_EQ(r->stats.files_read, 1u);
  EXPECT_EQ(r->stats.skipped[static_cast<size_t>(flowlog::SkipReason::kUnreadable)], 1u);
  EXPECT_EQ(r->stats.examples[static_cast<size_t>(flowlog::SkipReason::kUnreadable)],
            "nope: No such file or directory");
}

TEST(RunFlowsTest, StdinIsOneMoreSource) {
  MemoryStore store;
  static std::string stdin_data;
  stdin_data = std::string(kHeader) + Records(7, 4);
  FlowsDeps deps{&store, [] { return std::unique_ptr<ByteStream>(std::make_unique<StringStream>(stdin_data)); }};
  auto r = RunFlows({{"-"}, 0, {}}, deps);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stats.records, 4u);
  EXPECT_EQ(net::ToString(r->flows[0].key.initiator), "10.1.0.7");
}

TEST(RunFlowsTest, ServicePortsDecideTheResponder) {
  MemoryStore store;
  store.objects["a.log"] = std::string(kHeader) + "2 1 eni-1 10.0.2.45 10.1.0.1 40000 30000 6 1 1 1 1 ACCEPT OK\n";
  FlowsDeps deps{&store, nullptr};
  auto plain = RunFlows({{"a.log"}, 1, {}}, deps);
  auto with = RunFlows({{"a.log"}, 1, {40000}}, deps);
  ASSERT_TRUE(plain && with);
  EXPECT_EQ(net::ToString(plain->flows[0].key.responder), "10.1.0.1");
  EXPECT_EQ(net::ToString(with->flows[0].key.responder), "10.0.2.45");
  EXPECT_EQ(with->flows[0].key.port, 40000);
}

TEST(RunFlowsTest, NoSourcesIsAnError) {
  MemoryStore store;
  FlowsDeps deps{&store, nullptr};
  auto r = RunFlows({{}, 1, {}}, deps);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
}

// A central log-archive bucket: each account's objects under its own AWSLogs/<account>/ prefix,
// the same addresses in both.
TEST(RunFlowsTest, ObjectsOfACentralBucketAreCountedForTheirAccountAndRegion) {
  MemoryStore store;
  const auto key = [](const char* account, const char* region, const char* id) {
    return std::string("logs/AWSLogs/") + account + "/vpcflowlogs/" + region + "/2024/05/01/" + account +
           "_vpcflowlogs_" + region + "_fl-0" + id + "_20240501T0000Z_1a2b3c4d.log.gz";
  };
  store.objects[key("111111111111", "eu-west-1", "a")] = moat::testing::Gzip(std::string(kHeader) + Records(1, 3));
  store.objects[key("111111111111", "eu-west-1", "b")] = moat::testing::Gzip(std::string(kHeader) + Records(2, 1));
  store.objects[key("222222222222", "us-east-1", "c")] = moat::testing::Gzip(std::string(kHeader) + Records(1, 2));
  store.objects["logs/other/x.log"] = std::string(kHeader) + Records(3, 1);
  FlowsDeps deps{&store, nullptr};
  for (unsigned threads : {1u, 3u}) {
    auto r = RunFlows({{"logs/"}, threads, {}}, deps);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->places.size(), 3u);
    EXPECT_EQ(r->places[0].account, "");  // the object whose name says no account
    EXPECT_EQ(r->places[0].stats.records, 1u);
    const traffic::PlaceFlows& a = r->places[1];
    EXPECT_EQ(a.account, "111111111111");
    EXPECT_EQ(a.region, "eu-west-1");
    EXPECT_EQ(a.stats.files, 2u);
    ASSERT_EQ(a.flows.size(), 2u);  // 10.1.0.1 and 10.1.0.2 to 10.0.2.45
    EXPECT_EQ(a.flows[0].counts.records, 3u);
    const traffic::PlaceFlows& b = r->places[2];
    EXPECT_EQ(b.account, "222222222222");
    ASSERT_EQ(b.flows.size(), 1u);
    EXPECT_EQ(b.flows[0].counts.records, 2u);  // its own, though the addresses are a's too
    // All of them together, as before.
    ASSERT_EQ(r->flows.size(), 3u);
    EXPECT_EQ(r->flows[0].counts.records, 5u);
  }
  auto plain = RunFlows({{"logs/other/"}, 1, {}}, deps);
  ASSERT_TRUE(plain);
  EXPECT_TRUE(plain->places.empty());  // no object names a place: no breakdown
}

TEST(RunFlowsTest, KeepingInterfacesKeepsTheFlowsOfEachInterfaceApartWhateverTheThreads) {
  MemoryStore store;
  const auto at = [](const std::string& records, const char* eni) {
    std::string out = records;
    for (size_t p = out.find("eni-1 "); p != std::string::npos; p = out.find("eni-1 ", p)) {
      out.replace(p, 6, std::string(eni) + " ");
    }
    return out;
  };
  for (int f = 0; f < 6; ++f) {
    store.objects["d/" + std::to_string(100 + f) + ".log"] =
        std::string(kHeader) + at(Records(1, 2), f % 2 ? "eni-0aaaaaaaaaaaaaaa1" : "eni-0bbbbbbbbbbbbbbb2") +
        at(Records(2, 1), "-");
  }
  FlowsDeps deps{&store, nullptr};
  auto plain = RunFlows({{"d/"}, 2, {}}, deps);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->flows.size(), 2u);  // `moat flows`: interfaces are not kept
  EXPECT_TRUE(plain->interface_of.empty());
  for (unsigned threads : {1u, 3u}) {
    FlowsRequest req{{"d/"}, threads, {}};
    req.interfaces = true;
    auto r = RunFlows(req, deps);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->flows.size(), 3u);
    ASSERT_EQ(r->interface_of.size(), 3u);
    std::map<std::string, uint64_t> records;  // by interface
    for (size_t i = 0; i < r->flows.size(); ++i)
      records[r->interfaces[r->interface_of[i]]] += r->flows[i].counts.records;
    EXPECT_EQ(records,
              (std::map<std::string, uint64_t>{{"", 6}, {"eni-0aaaaaaaaaaaaaaa1", 6}, {"eni-0bbbbbbbbbbbbbbb2", 6}}));
  }
}

}  // namespace
}  // namespace moat::app
