#include "store/flow_store.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <tuple>

#include "store/flow_store_format.h"
#include "testing/env.h"

namespace moat::store {
namespace {

namespace fs = std::filesystem;
using flowlog::Action;
using flowlog::kNoTime;

constexpr int64_t kDay = 86400;
constexpr int64_t kT = 1793491200;  // 2026-11-01T00:00:00Z

Flow MakeFlow(const char* initiator, const char* responder, uint16_t port, uint64_t records, int64_t first,
              int64_t last, uint8_t protocol = 6, Action action = Action::kAccept) {
  return Flow{{*net::ParseAddress(initiator), *net::ParseAddress(responder), port, protocol, action},
              {records, records * 10, records * 1000, first, last}};
}

// One loaded flow with its "new" bit.
struct StoredFlow {
  Flow flow;
  bool is_new = false;
};

std::map<FlowKey, StoredFlow> ByKey(const LoadedFlows& loaded) {
  EXPECT_EQ(loaded.flows.size(), loaded.is_new.size());
  std::map<FlowKey, StoredFlow> out;
  for (size_t i = 0; i < loaded.flows.size() && i < loaded.is_new.size(); ++i) {
    EXPECT_TRUE(out.emplace(loaded.flows[i].key, StoredFlow{loaded.flows[i], loaded.is_new[i]}).second)
        << "a key loaded twice";
  }
  return out;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs SQL on the file through a connection of its own: how the tests make files that moat did not
// write, damage a store, or inject a failure.
void Sql(const fs::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

// The one integer `sql` reads from the file, through a connection of its own; -1 when it fails.
int64_t QueryInt(const fs::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  int64_t n = -1;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
      n = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return n;
}

// The hex of a packed key, for SQL.
std::string Hex(const PackedKey& k) {
  std::string hex;
  for (size_t i = 0; i < k.size; ++i) hex += fmt::format("{:02x}", k.bytes[i]);
  return hex;
}

class FlowStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/moat-flow-store-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    path_ = root_ / "state" / "moat" / "flows.sqlite";
  }
  void TearDown() override { fs::remove_all(root_); }

  std::unique_ptr<FlowStore> OpenStore() {
    auto s = FlowStore::Open(path_.string());
    EXPECT_TRUE(s) << s.error().message;
    return s ? std::move(*s) : nullptr;
  }
  static int64_t Run(FlowStore& store, int64_t now = kT) {
    auto r = store.BeginRun(now, "test");
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : 0;
  }
  static void Record(FlowStore& store, int64_t run, const ObjectMark& object, const std::vector<Flow>& flows,
                     const FlowPlaces& places = {}) {
    Status s = store.Record(run, object, flows, places);
    ASSERT_TRUE(s) << s.error().message;
  }
  static std::map<FlowKey, StoredFlow> Load(FlowStore& store, int64_t since = 0) {
    auto r = store.Load(since);
    EXPECT_TRUE(r) << r.error().message;
    return r ? ByKey(*r) : std::map<FlowKey, StoredFlow>{};
  }

  fs::path root_, path_;
};

TEST_F(FlowStoreTest, RoundTripsIPv4AndIPv6FlowsWithEveryField) {
  const std::vector<Flow> flows = {
      MakeFlow("10.0.1.20", "10.0.2.45", 5432, 12, kT + 100, kT + 200),
      MakeFlow("2001:db8::1", "2001:db8:0:1::ff", 3306, 3, kT - 5 * kDay, kT - 5 * kDay + 60, 17, Action::kReject),
      MakeFlow("255.255.255.255", "0.0.0.0", 65535, 1, kNoTime, kNoTime, 255, Action::kNone),
      MakeFlow("10.0.1.20", "2001:db8::2", 0, 7, kNoTime, kT + 1, 1),
      Flow{{*net::ParseAddress("fe80::1"), *net::ParseAddress("192.168.0.1"), 443, 6, Action::kAccept},
           {uint64_t{1} << 40, uint64_t{1} << 50, (uint64_t{1} << 62) + 5, 0, 0}},
  };
  auto store = OpenStore();
  ASSERT_TRUE(store);
  Record(*store, Run(*store), {"s3://b/one.log.gz", 1234, "etag-1"}, flows);

  const auto loaded = Load(*store);
  ASSERT_EQ(loaded.size(), flows.size());
  for (const Flow& f : flows) {
    ASSERT_TRUE(loaded.contains(f.key)) << net::ToString(f.key.initiator);
    const StoredFlow& got = loaded.at(f.key);
    EXPECT_EQ(got.flow.counts.records, f.counts.records);
    EXPECT_EQ(got.flow.counts.packets, f.counts.packets);
    EXPECT_EQ(got.flow.counts.bytes, f.counts.bytes);
    EXPECT_EQ(got.flow.counts.first, f.counts.first);
    EXPECT_EQ(got.flow.counts.last, f.counts.last);
    EXPECT_TRUE(got.is_new);
  }
  struct stat st {};
  ASSERT_EQ(::stat(path_.parent_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u) << "a created state directory is private";
}

TEST_F(FlowStoreTest, LoadsInKeyOrderResponderFirst) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  Record(*store, Run(*store), {"o", 1, "v"},
         {MakeFlow("10.0.0.9", "10.0.2.1", 80, 1, kT, kT), MakeFlow("10.0.0.1", "10.0.2.2", 80, 1, kT, kT),
          MakeFlow("10.0.0.5", "10.0.2.1", 22, 1, kT, kT), MakeFlow("::1", "10.0.2.1", 22, 1, kT, kT)});
  auto r = store->Load(0);
  ASSERT_TRUE(r);
  std::vector<std::string> order;
  for (const Flow& f : r->flows) {
    order.push_back(net::ToString(f.key.responder) + ":" + std::to_string(f.key.port) + "<" +
                    net::ToString(f.key.initiator));
  }
  EXPECT_EQ(order, (std::vector<std::string>{"10.0.2.1:22<10.0.0.5", "10.0.2.1:22<::1", "10.0.2.1:80<10.0.0.9",
                                             "10.0.2.2:80<10.0.0.1"}));
}

TEST_F(FlowStoreTest, ReRecordingTheSameObjectIsDetectedAndNeverCountsTwice) {
  const ObjectMark object{"s3://b/2026/11/01/a.log.gz", 5000, "\"9b2cf535f27731c974343645a3985328\""};
  const std::vector<Flow> flows = {MakeFlow("10.0.1.20", "10.0.2.45", 5432, 12, kT, kT + 60)};
  {
    auto store = OpenStore();
    ASSERT_TRUE(store);
    EXPECT_FALSE(*store->Recorded(object));
    const int64_t run = Run(*store);
    Record(*store, run, object, flows);
    EXPECT_TRUE(*store->Recorded(object));
    const Status again = store->Record(run, object, flows);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ErrorCode::kConflict);
    EXPECT_EQ(again.error().message, path_.string() + ": s3://b/2026/11/01/a.log.gz: already recorded");
  }
  auto store = OpenStore();  // the mark outlives the process
  ASSERT_TRUE(store);
  EXPECT_TRUE(*store->Recorded(object));
  EXPECT_FALSE(store->Record(Run(*store), object, flows));
  EXPECT_FALSE(*store->Recorded({object.name, object.size + 1, object.version})) << "another size: another object";
  EXPECT_FALSE(*store->Recorded({object.name, object.size, "other-etag"})) << "another version: another object";
  EXPECT_FALSE(*store->Recorded({object.name + "x", object.size, object.version}));
  EXPECT_EQ(Load(*store).begin()->second.flow.counts.records, 12u);
}

TEST_F(FlowStoreTest, ASecondObjectAddsItsCounts) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  const int64_t run = Run(*store);
  Record(*store, run, {"a", 1, "1"}, {MakeFlow("10.0.1.20", "10.0.2.45", 5432, 12, kT + 500, kT + 600)});
  Record(*store, run, {"b", 1, "1"},
         {MakeFlow("10.0.1.20", "10.0.2.45", 5432, 3, kT + 100, kT + 200),
          MakeFlow("10.0.1.21", "10.0.2.45", 5432, 1, kT, kT)});
  Record(*store, run, {"c", 1, "1"}, {MakeFlow("10.0.1.20", "10.0.2.45", 5432, 5, kT + 700, kT + 900)});
  const auto loaded = Load(*store);
  ASSERT_EQ(loaded.size(), 2u);
  const FlowCounts& c = loaded.begin()->second.flow.counts;
  EXPECT_EQ(c.records, 20u);
  EXPECT_EQ(c.packets, 200u);
  EXPECT_EQ(c.bytes, 20000u);
  EXPECT_EQ(c.first, kT + 100);
  EXPECT_EQ(c.last, kT + 900);
}

TEST_F(FlowStoreTest, SeveralObjectsAreRecordedInOneTransactionOrNotAtAll) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  const int64_t run = Run(*store);
  const std::vector<ObjectMark> ab = {{"a", 1, "1"}, {"b", 2, "1"}};
  ASSERT_TRUE(store->Record(run, ab, std::vector<Flow>{MakeFlow("10.0.1.20", "10.0.2.45", 5432, 4, kT, kT)}));
  EXPECT_TRUE(*store->Recorded(ab[0]));
  EXPECT_TRUE(*store->Recorded(ab[1]));
  const std::vector<ObjectMark> ca = {{"c", 1, "1"}, {"a", 1, "1"}};
  const Status s = store->Record(run, ca, std::vector<Flow>{MakeFlow("10.0.1.20", "10.0.2.45", 5432, 1, kT, kT)});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kConflict);
  EXPECT_EQ(s.error().message, path_.string() + ": a: already recorded");
  EXPECT_FALSE(*store->Recorded(ca[0]));
  EXPECT_EQ(Load(*store).begin()->second.flow.counts.records, 4u);
}

TEST_F(FlowStoreTest, ManyFlowsInAnyOrderRoundTrip) {
  std::vector<Flow> flows;
  for (uint32_t i = 0; i < 1000; ++i) {
    const uint32_t x = (i * 7919) % 1000;  // a permutation: not in key order
    const net::Address client =
        x % 7 == 0 ? net::Address::V6(0x20010db8ULL << 32, x) : net::Address::V4(0x0a000000 + x);
    flows.push_back({{client, net::Address::V4(0x0a640000 + x % 13), static_cast<uint16_t>(5432 + x % 3), 6,
                      x % 5 == 0 ? Action::kReject : Action::kAccept},
                     {x + 1, 2 * x + 1, 3 * x + 1, kT + x * 997, kT + x * 997 + x}});
  }
  auto store = OpenStore();
  ASSERT_TRUE(store);
  const int64_t run = Run(*store);
  Record(*store, run, {"a", 1, "1"}, flows);
  Record(*store, run, {"b", 1, "1"}, flows);
  const auto loaded = Load(*store);
  ASSERT_EQ(loaded.size(), flows.size());
  for (const Flow& f : flows) {
    const FlowCounts& c = loaded.at(f.key).flow.counts;
    EXPECT_EQ(c.records, 2 * f.counts.records);
    EXPECT_EQ(c.packets, 2 * f.counts.packets);
    EXPECT_EQ(c.bytes, 2 * f.counts.bytes);
    EXPECT_EQ(c.first, f.counts.first);
    EXPECT_EQ(c.last, f.counts.last);
  }
}

TEST_F(FlowStoreTest, FlowsWithoutTimesAddToTimedOnesOfDayZero) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  const int64_t run = Run(*store);
  Record(*store, run, {"a", 1, "1"}, {MakeFlow("10.0.1.20", "10.0.2.45", 5432, 1, kNoTime, kNoTime)});
  Record(*store, run, {"b", 1, "1"}, {MakeFlow("10.0.1.20", "10.0.2.45", 5432, 1, 50, 60)});
  Record(*store, run, {"c", 1, "1"}, {MakeFlow("10.0.1.20", "10.0.2.45", 5432, 1, kNoTime, kNoTime)});
  const FlowCounts c = Load(*store).begin()->second.flow.counts;
  EXPECT_EQ(c.records, 3u);
  EXPECT_EQ(c.first, 50);
  EXPECT_EQ(c.last, 60);
}

TEST_F(FlowStoreTest, WindowExcludesOlderDaysAndSumsTheDaysInIt) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  const int64_t run = Run(*store);
  Record(*store, run, {"day1", 1, "1"},
         {MakeFlow("10.0.1.20", "10.0.2.45", 5432, 1, kT + kDay + 10, kT + kDay + 20),
          MakeFlow("10.0.1.99", "10.0.2.45", 5432, 1, kT + kDay, kT + kDay)});
  Record(*store, run, {"day5", 1, "1"},
         {MakeFlow("10.0.1.20", "10.0.2.45", 5432, 10, kT + 5 * kDay, kT + 5 * kDay + 1)});
  Record(*store, run, {"day9", 1, "1"},
         {MakeFlow("10.0.1.20", "10.0.2.45", 5432, 100, kT + 9 * kDay + 5, kT + 9 * kDay + 7),
          MakeFlow("10.0.1.30", "10.0.2.45", 5432, 1, kNoTime, kNoTime)});

  const auto all = Load(*store, 0);
  ASSERT_EQ(all.size(), 3u) << "0: everything, flows without times too";
  const FlowKey key = MakeFlow("10.0.1.20", "10.0.2.45", 5432, 0, 0, 0).key;
  EXPECT_EQ(all.at(key).flow.counts.records, 111u);
  EXPECT_EQ(all.at(key).flow.counts.first, kT + kDay + 10);

  const auto recent = Load(*store, kT + 3 * kDay);
  ASSERT_EQ(recent.size(), 1u);
  const FlowCounts& c = recent.at(key).flow.counts;
  EXPECT_EQ(c.records, 110u);
  EXPECT_EQ(c.first, kT + 5 * kDay);
  EXPECT_EQ(c.last, kT + 9 * kDay + 7);

  EXPECT_EQ(Load(*store, kT + 9 * kDay + 7).at(key).flow.counts.records, 100u) << "`last` at `since` is in";
  EXPECT_TRUE(Load(*store, kT + 9 * kDay + 8).empty());
}

TEST_F(FlowStoreTest, EveryLoadCountsTheWholeHistoryAndItsSpanWhateverTheWindow) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  auto empty = store->Load(0);
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->recorded, 0u);
  EXPECT_EQ(empty->first, kNoTime);
  const int64_t run = Run(*store);
  Record(*store, run, {"day1", 1, "1"},
         {MakeFlow("10.0.1.20", "10.0.2.45", 5432, 1, kT + kDay + 10, kT + kDay + 20),
          MakeFlow("10.0.1.99", "10.0.2.45", 5432, 1, kT + kDay, kT + kDay + 5)});
  Record(*store, run, {"day5", 1, "1"},
         {MakeFlow("10.0.1.20", "10.0.2.45", 5432, 10, kT + 5 * kDay, kT + 5 * kDay + 1),
          MakeFlow("10.0.1.30", "10.0.2.45", 5432, 1, kNoTime, kNoTime)});
  for (const int64_t since : {int64_t{0}, kT + 3 * kDay, kT + 50 * kDay}) {
    auto loaded = store->Load(since);
    ASSERT_TRUE(loaded) << loaded.error().message;
    EXPECT_EQ(loaded->recorded, 3u) << since;
    EXPECT_EQ(loaded->first, kT + kDay) << since;
    EXPECT_EQ(loaded->last, kT + 5 * kDay + 1) << since;
  }
  EXPECT_TRUE(store->Load(kT + 50 * kDay)->flows.empty());
}

TEST_F(FlowStoreTest, IsNewMarksKeysFirstRecordedByTheLatestRunThatRecordedFlows) {
  const Flow a = MakeFlow("10.0.1.1", "10.0.2.45", 5432, 1, kT, kT);
  const Flow a_later = MakeFlow("10.0.1.1", "10.0.2.45", 5432, 1, kT + 3 * kDay, kT + 3 * kDay);
  const Flow b = MakeFlow("10.0.1.2", "10.0.2.45", 5432, 1, kT + kDay, kT + kDay);
  const Flow c = MakeFlow("10.0.1.3", "10.0.2.45", 5432, 1, kT + 2 * kDay, kT + 2 * kDay);
  const auto news = [](const std::map<FlowKey, StoredFlow>& loaded) {
    std::vector<std::string> out;
    for (const auto& [k, f] : loaded) {
      if (f.is_new) out.push_back(net::ToString(k.initiator));
    }
    return out;
  };
  auto store = OpenStore();
  ASSERT_TRUE(store);
  Record(*store, Run(*store), {"1", 1, "1"}, {a});
  EXPECT_EQ(news(Load(*store)), (std::vector<std::string>{"10.0.1.1"}));

  Record(*store, Run(*store), {"2", 1, "1"}, {a_later, b});  // a on a new day is still not new
  EXPECT_EQ(news(Load(*store)), (std::vector<std::string>{"10.0.1.2"}));

  const int64_t third = Run(*store);  // a run that records nothing changes nothing
  Record(*store, third, {"3-empty", 1, "1"}, {});
  EXPECT_EQ(news(Load(*store)), (std::vector<std::string>{"10.0.1.2"}));

  Record(*store, third, {"3", 1, "1"}, {b, c});
  EXPECT_EQ(news(Load(*store)), (std::vector<std::string>{"10.0.1.3"}));
  EXPECT_EQ(news(Load(*store, kT + 3 * kDay)), (std::vector<std::string>{}))
      << "a's window rows came from run 2, but run 1 had it";
}

TEST_F(FlowStoreTest, AFailedRecordChangesNothing) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  const int64_t run = Run(*store);
  Record(*store, run, {"first", 1, "1"}, {MakeFlow("10.0.1.20", "10.0.2.45", 5432, 1, kT, kT)});
  const auto before = Load(*store);
  // 128 flows: two statements of 64 rows. The one on day 99 sorts last (its responder is the
  // highest), so the first statement and most of the second are written before the failure.
  std::vector<Flow> flows;
  for (uint32_t i = 0; i < 127; ++i) {
    flows.push_back({{net::Address::V4(0x0a000100 + i), net::Address::V4(0x0a00022d), 5432, 6, Action::kAccept},
                     {5, 5, 5, kT, kT}});
  }
  flows.push_back(MakeFlow("10.0.1.22", "10.9.9.9", 5432, 1, 99 * kDay, 99 * kDay + 5));
  Sql(path_,
      "CREATE TRIGGER fail BEFORE INSERT ON flows WHEN NEW.day = 99 "
      "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
  const ObjectMark object{"second", 1, "1"};
  const Status s = store->Record(run, object, flows);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, path_.string() + ": recording second: injected failure");
  EXPECT_FALSE(*store->Recorded(object));
  const auto after = Load(*store);
  ASSERT_EQ(after.size(), before.size());
  EXPECT_EQ(after.begin()->second.flow.counts.records, 1u);

  Sql(path_, "DROP TRIGGER fail");
  Record(*store, run, object, flows);
  const auto recorded = Load(*store);
  ASSERT_EQ(recorded.size(), 128u);
  EXPECT_EQ(recorded.at(MakeFlow("10.0.1.20", "10.0.2.45", 5432, 0, 0, 0).key).flow.counts.records, 6u);
}

TEST_F(FlowStoreTest, ARecordWithoutARunChangesNothing) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  const Status s =
      store->Record(42, {"x", 1, "1"}, std::vector<Flow>{MakeFlow("10.0.1.20", "10.0.2.45", 5432, 1, kT, kT)});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, path_.string() + ": recording x: no run 42");
  EXPECT_FALSE(*store->Recorded({"x", 1, "1"}));
  EXPECT_TRUE(Load(*store).empty());
}

TEST_F(FlowStoreTest, PruneDeletesTheDaysThatEndBeforeTheCut) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  const int64_t run = Run(*store);
  for (int d = 1; d <= 3; ++d) {
    Record(*store, run, {"day" + std::to_string(d), 1, "1"},
           {MakeFlow("10.0.1.20", "10.0.2.45", 5432, 1, kT + d * kDay, kT + d * kDay + 10),
            MakeFlow("10.0.1.21", "10.0.2.45", 5432, 1, kNoTime, kNoTime)});
  }
  EXPECT_EQ(*store->Prune(kT + 3 * kDay + 3600), 3u) << "days 1 and 2, and day 0 (no times)";
  EXPECT_EQ(*store->Prune(kT + 3 * kDay + 3600), 0u);
  const auto left = Load(*store);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left.begin()->second.flow.counts.records, 1u);
  EXPECT_EQ(*store->Prune(kT + 4 * kDay), 1u);
  EXPECT_TRUE(Load(*store).empty());
}

TEST_F(FlowStoreTest, ReportsProgressEndingWithAllRows) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  std::vector<Flow> flows;
  for (uint32_t i = 0; i < 70000; ++i) {
    flows.push_back({{net::Address::V4(0x0a000000 + i), net::Address::V4(0x0a640001), 5432, 6, Action::kAccept},
                     {1, 1, 1, kT, kT}});
  }
  Record(*store, Run(*store), {"big", 1, "1"}, flows);
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  auto r = store->Load(0, [&](uint64_t done, uint64_t total) { calls.emplace_back(done, total); });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->flows.size(), 70000u);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0], std::make_pair(uint64_t{65536}, uint64_t{70000}));
  EXPECT_EQ(calls[1], std::make_pair(uint64_t{70000}, uint64_t{70000}));
}

TEST_F(FlowStoreTest, AnEmptyFileBecomesAStore) {
  fs::create_directories(path_.parent_path());
  std::ofstream(path_).close();
  auto store = OpenStore();
  ASSERT_TRUE(store);
  Record(*store, Run(*store), {"a", 1, "1"}, {MakeFlow("10.0.1.20", "10.0.2.45", 5432, 1, kT, kT)});
  EXPECT_EQ(Load(*store).size(), 1u);
}

TEST_F(FlowStoreTest, ATextFileIsNotAStoreAndIsLeftAlone) {
  const fs::path file = root_ / "notes.txt";
  const std::string text = "these are my notes, not a database\n" + std::string(5000, 'x');
  std::ofstream(file) << text;
  auto store = FlowStore::Open(file.string());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().message, file.string() + ": not a moat flow store: file is not a database");
  EXPECT_EQ(ReadFile(file), text);
  EXPECT_EQ(std::distance(fs::directory_iterator(root_), fs::directory_iterator()), 1) << "no -wal or -shm files";
}

TEST_F(FlowStoreTest, AnotherSQLiteDatabaseIsNotAStoreAndIsLeftAlone) {
  const fs::path file = root_ / "other.db";
  Sql(file, "CREATE TABLE flows(x); INSERT INTO flows VALUES(1)");
  const std::string bytes = ReadFile(file);
  auto store = FlowStore::Open(file.string());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(store.error().message, file.string() + ": not a moat flow store (an SQLite database of something else)");
  EXPECT_EQ(ReadFile(file), bytes);
  EXPECT_EQ(std::distance(fs::directory_iterator(root_), fs::directory_iterator()), 1);
}

TEST_F(FlowStoreTest, AStoreFromANewerMoatIsRefusedAndLeftAlone) {
  OpenStore().reset();
  Sql(path_, "PRAGMA user_version = 4");
  const std::string bytes = ReadFile(path_);
  auto store = FlowStore::Open(path_.string());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().message,
            path_.string() + ": written by a newer moat (its flow store schema is newer than version 3)");
  EXPECT_EQ(ReadFile(path_), bytes);
}

TEST_F(FlowStoreTest, FlowsKeepThePlaceTheyWereLoggedInAndTheSameFlowInTwoPlacesIsTwo) {
  auto store = OpenStore();
  const int64_t run = Run(*store);
  const Flow f = MakeFlow("10.0.1.20", "10.0.2.45", 5432, 3, kT, kT + 60);
  const Flow g = MakeFlow("10.0.1.21", "10.0.2.45", 5432, 1, kT, kT + 60);
  const FlowPlaces places{{"", "111122223333/us-east-1", "444455556666/us-east-1"}, {1, 2, 0, 1}};
  Record(*store, run, {"a.log", 1, ""}, {f, f, f, g}, places);
  // A second run adds to the same place's flow: the place's id is found again.
  const FlowPlaces second{{"", "444455556666/us-east-1"}, {1}};
  Record(*store, Run(*store), {"b.log", 1, ""}, {f}, second);

  auto loaded = store->Load(0);
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->flows.size(), 4u);
  ASSERT_EQ(loaded->places.of.size(), 4u);
  std::map<std::pair<std::string, FlowKey>, uint64_t> records;
  for (size_t i = 0; i < loaded->flows.size(); ++i) {
    records[{loaded->places.Of(i), loaded->flows[i].key}] += loaded->flows[i].counts.records;
  }
  EXPECT_EQ(records, (std::map<std::pair<std::string, FlowKey>, uint64_t>{{{"", f.key}, 3},
                                                                          {{"111122223333/us-east-1", f.key}, 3},
                                                                          {{"111122223333/us-east-1", g.key}, 1},
                                                                          {{"444455556666/us-east-1", f.key}, 6}}));
  EXPECT_EQ(loaded->recorded, 4u);
  // The flows of no place come first.
  EXPECT_EQ(loaded->places.Of(0), "");
}

TEST_F(FlowStoreTest, PlacesOutsideTheWindowAreNotNamed) {
  auto store = OpenStore();
  const FlowPlaces places{{"", "111122223333/us-east-1", "444455556666/eu-west-1"}, {1, 2}};
  Record(*store, Run(*store), {"a.log", 1, ""},
         {MakeFlow("10.0.1.20", "10.0.2.45", 5432, 1, kT, kT),
          MakeFlow("10.0.1.20", "10.0.2.45", 5432, 1, kT + 5 * kDay, kT + 5 * kDay)},
         places);
  auto loaded = store->Load(kT + 3 * kDay);
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->flows.size(), 1u);
  EXPECT_EQ(loaded->places.names, (std::vector<std::string>{"", "444455556666/eu-west-1"}));
  EXPECT_EQ(loaded->places.Of(0), "444455556666/eu-west-1");
}

TEST_F(FlowStoreTest, AVersionOneStoreIsReadAsItIsAndGainsPlacesWhenOpenedToWrite) {
  // A store as the first schema made it: no places or interfaces table, user_version 1.
  OpenStore().reset();
  const Flow f = MakeFlow("10.0.1.20", "10.0.2.45", 5432, 2, kT, kT);
  {
    auto store = OpenStore();
    Record(*store, Run(*store), {"old.log", 1, ""}, {f});
  }
  Sql(path_, "DROP TABLE places; DROP TABLE interfaces; PRAGMA user_version = 1");
  {
    auto read = FlowStore::OpenReadOnly(path_.string());
    ASSERT_TRUE(read) << read.error().message;
    auto loaded = (*read)->Load(0);
    ASSERT_TRUE(loaded) << loaded.error().message;
    ASSERT_EQ(loaded->flows.size(), 1u);
    EXPECT_EQ(loaded->places.Of(0), "");
    EXPECT_FALSE(loaded->places.Named());
  }
  auto store = OpenStore();
  ASSERT_TRUE(store);
  const FlowPlaces places{{"", "111122223333/us-east-1"}, {1}};
  Record(*store, Run(*store), {"new.log", 1, ""}, {f}, places);
  auto loaded = store->Load(0);
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->flows.size(), 2u);
  EXPECT_EQ(loaded->places.Of(0), "");
  EXPECT_EQ(loaded->places.Of(1), "111122223333/us-east-1");
  EXPECT_EQ(QueryInt(path_, "PRAGMA user_version"), 3);
  EXPECT_EQ(QueryInt(path_, "SELECT count(*) FROM interfaces"), 0);
}

TEST_F(FlowStoreTest, AVersionTwoStoreIsReadAsItIsAndGainsInterfacesWhenOpenedToWrite) {
  // A store as the second schema made it: places but no interfaces table, user_version 2.
  OpenStore().reset();
  const Flow f = MakeFlow("10.0.1.20", "10.0.2.45", 5432, 2, kT, kT);
  const FlowPlaces placed{{"", "111122223333/us-east-1"}, {1}};
  {
    auto store = OpenStore();
    Record(*store, Run(*store), {"old.log", 1, ""}, {f}, placed);
  }
  Sql(path_, "DROP TABLE interfaces; PRAGMA user_version = 2");
  const std::string bytes = ReadFile(path_);
  {
    auto read = FlowStore::OpenReadOnly(path_.string());
    ASSERT_TRUE(read) << read.error().message;
    auto loaded = (*read)->Load(0);
    ASSERT_TRUE(loaded) << loaded.error().message;
    ASSERT_EQ(loaded->flows.size(), 1u);
    EXPECT_EQ(loaded->places.Of(0), "111122223333/us-east-1");
    EXPECT_EQ(loaded->places.interfaces, (std::vector<std::string>{""}));
    EXPECT_EQ(loaded->places.InterfaceOf(0), 0u);
    const FlowPlaces at{{""}, {}, {"", "eni-0a1b2c3d4e5f60718"}, {1}};
    EXPECT_FALSE((*read)->Record(1, {"new.log", 1, ""}, std::vector<Flow>{f}, at));
  }
  EXPECT_EQ(ReadFile(path_), bytes) << "read as it is";
  auto store = OpenStore();
  ASSERT_TRUE(store);
  EXPECT_EQ(QueryInt(path_, "PRAGMA user_version"), 3);
  const FlowPlaces at{{"", "111122223333/us-east-1"}, {1}, {"", "eni-0a1b2c3d4e5f60718"}, {1}};
  Record(*store, Run(*store), {"new.log", 1, ""}, {f}, at);
  auto loaded = store->Load(0);
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->flows.size(), 2u);
  for (size_t i = 0; i < 2; ++i) EXPECT_EQ(loaded->places.Of(i), "111122223333/us-east-1") << i;
  ASSERT_EQ(loaded->places.interface_of.size(), 2u);
  EXPECT_EQ(loaded->places.interfaces[loaded->places.InterfaceOf(0)], "") << "the old flow has no interface";
  EXPECT_EQ(loaded->places.interfaces[loaded->places.InterfaceOf(1)], "eni-0a1b2c3d4e5f60718");
}

TEST_F(FlowStoreTest, FlowsKeepTheInterfaceTheyWereLoggedAtAndTheSameFlowAtTwoIsTwo) {
  auto store = OpenStore();
  const Flow f = MakeFlow("10.0.1.20", "10.0.2.45", 5432, 3, kT, kT + 60);
  const Flow g = MakeFlow("10.0.1.21", "10.0.2.45", 5432, 1, kT, kT + 60);
  const FlowPlaces places{{"", "111122223333/us-east-1"}, {1, 1, 1, 0}, {"", "eni-aaaa", "eni-bbbb"}, {1, 2, 0, 2}};
  Record(*store, Run(*store), {"a.log", 1, ""}, {f, f, f, g}, places);
  // A second run names eni-bbbb at another index: the interface's id is found again.
  const FlowPlaces second{{"", "111122223333/us-east-1"}, {1, 1}, {"", "eni-cccc", "eni-bbbb"}, {2, 1}};
  Record(*store, Run(*store), {"b.log", 1, ""}, {f, g}, second);

  auto loaded = store->Load(0);
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->places.interface_of.size(), loaded->flows.size());
  std::map<std::tuple<std::string, std::string, FlowKey>, uint64_t> records;
  for (size_t i = 0; i < loaded->flows.size(); ++i) {
    const std::string& interface = loaded->places.interfaces[loaded->places.InterfaceOf(i)];
    records[{loaded->places.Of(i), interface, loaded->flows[i].key}] += loaded->flows[i].counts.records;
  }
  const std::string p = "111122223333/us-east-1";
  EXPECT_EQ(records, (std::map<std::tuple<std::string, std::string, FlowKey>, uint64_t>{{{p, "", f.key}, 3},
                                                                                        {{p, "eni-aaaa", f.key}, 3},
                                                                                        {{p, "eni-bbbb", f.key}, 6},
                                                                                        {{"", "eni-bbbb", g.key}, 1},
                                                                                        {{p, "eni-cccc", g.key}, 1}}));
  EXPECT_EQ(loaded->places.interfaces.size(), 4u) << "each name once";
  EXPECT_EQ(loaded->places.interfaces[0], "");
  EXPECT_EQ(QueryInt(path_, "SELECT count(*) FROM interfaces"), 3);
  // Key order: no place first; in a place, no interface first.
  EXPECT_EQ(loaded->places.Of(0), "");
  EXPECT_EQ(loaded->places.interfaces[loaded->places.InterfaceOf(1)], "");
}

TEST_F(FlowStoreTest, AWindowOfFlowsOfNoInterfaceNamesNone) {
  auto store = OpenStore();
  const FlowPlaces places{{""}, {}, {"", "eni-aaaa"}, {1, 0}};
  Record(*store, Run(*store), {"a.log", 1, ""},
         {MakeFlow("10.0.1.20", "10.0.2.45", 5432, 1, kT, kT),
          MakeFlow("10.0.1.21", "10.0.2.45", 5432, 1, kT + 5 * kDay, kT + 5 * kDay)},
         places);
  auto loaded = store->Load(kT + 3 * kDay);
  ASSERT_TRUE(loaded) << loaded.error().message;
  ASSERT_EQ(loaded->flows.size(), 1u);
  EXPECT_EQ(loaded->places.interfaces, (std::vector<std::string>{""}));
  EXPECT_TRUE(loaded->places.interface_of.empty());
  EXPECT_EQ(loaded->places.InterfaceOf(0), 0u);
}

TEST_F(FlowStoreTest, PlacesThatDoNotFitTheFlowsAreAnErrorAndWriteNothing) {
  auto store = OpenStore();
  const int64_t run = Run(*store);
  const std::vector<Flow> flows = {MakeFlow("10.0.1.20", "10.0.2.45", 5432, 1, kT, kT),
                                   MakeFlow("10.0.1.21", "10.0.2.45", 5432, 1, kT, kT)};
  const std::pair<FlowPlaces, std::string> cases[] = {
      {{{""}, {}, {"", "eni-aaaa"}, {1}}, "interfaces for 1 of 2 flows"},
      {{{"", "111122223333/us-east-1"}, {1, 0, 1}}, "places for 3 of 2 flows"},
      {{{""}, {}, {"", "eni-aaaa"}, {1, 2}}, "flow 1: interface 2 of 2"},
      {{{"", "111122223333/us-east-1"}, {2, 1}}, "flow 0: place 2 of 2"},
  };
  for (const auto& [places, why] : cases) {
    const Status s = store->Record(run, {"a.log", 1, ""}, flows, places);
    ASSERT_FALSE(s) << why;
    EXPECT_EQ(s.error().code, ErrorCode::kInternal);
    EXPECT_EQ(s.error().message, path_.string() + ": recording a.log: " + why);
  }
  EXPECT_FALSE(*store->Recorded({"a.log", 1, ""}));
  EXPECT_TRUE(Load(*store).empty());
  EXPECT_EQ(QueryInt(path_, "SELECT count(*) FROM interfaces"), 0);
  EXPECT_EQ(QueryInt(path_, "SELECT count(*) FROM places"), 0);
}

TEST_F(FlowStoreTest, AKeyNamingAPlaceTheStoreDoesNotHaveFailsTheLoad) {
  OpenStore().reset();
  const PackedKey k = PackKey(MakeFlow("10.0.1.20", "10.0.2.45", 5432, 1, kT, kT).key, 9);
  Sql(path_, "INSERT INTO flows VALUES(x'" + Hex(k) + "', 1, x'0001010101')");
  auto store = OpenStore();
  auto r = store->Load(0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, path_.string() + ": loading: a damaged flow key (19 bytes)");
}

TEST_F(FlowStoreTest, AKeyNamingAnInterfaceTheStoreDoesNotHaveFailsTheLoad) {
  {
    auto store = OpenStore();
    const FlowPlaces places{{""}, {}, {"", "eni-aaaa"}, {1}};
    Record(*store, Run(*store), {"a.log", 1, ""}, {MakeFlow("10.0.1.20", "10.0.2.45", 5432, 1, kT, kT)}, places);
  }
  const PackedKey k = PackKey(MakeFlow("10.0.1.21", "10.0.2.45", 5432, 1, kT, kT).key, 0, 9);
  Sql(path_, "INSERT INTO flows VALUES(x'" + Hex(k) + "', 1, x'0001010101')");
  auto store = OpenStore();
  auto r = store->Load(0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(r.error().message, path_.string() + ": loading: a damaged flow key (19 bytes)");
}

TEST_F(FlowStoreTest, ADamagedKeyFailsTheLoad) {
  OpenStore().reset();
  Sql(path_, "INSERT INTO flows VALUES(x'0401020304', 1, x'0001010101')");
  auto store = OpenStore();
  ASSERT_TRUE(store);
  auto r = store->Load(0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidInput);
  EXPECT_EQ(r.error().message, path_.string() + ": loading: a damaged flow key (5 bytes)");
}

TEST_F(FlowStoreTest, ADamagedValueFailsTheLoadAndTheRecordThatMeetsIt) {
  OpenStore().reset();
  const Flow f = MakeFlow("10.0.1.20", "10.0.2.45", 5432, 1, kT, kT);
  const PackedKey k = PackKey(f.key);
  std::string hex;
  for (int i = 0; i < k.size; ++i)
    hex += "0123456789abcdef"[k.bytes[i] >> 4], hex += "0123456789abcdef"[k.bytes[i] & 15];
  Sql(path_, "INSERT INTO flows VALUES(x'" + hex + "', " + std::to_string(DayOf(kT)) + ", x'07')");
  auto store = OpenStore();
  ASSERT_TRUE(store);
  auto r = store->Load(0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, path_.string() + ": loading: a damaged flow value");
  const Status s = store->Record(Run(*store), {"a", 1, "1"}, std::vector<Flow>{f});
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, path_.string() + ": recording a: a damaged flow value");
  EXPECT_FALSE(*store->Recorded({"a", 1, "1"}));
}

TEST_F(FlowStoreTest, AParentThatIsAFileIsAnError) {
  std::ofstream(root_ / "state").close();
  auto store = FlowStore::Open(path_.string());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().message, path_.string() + ": " + (root_ / "state").string() + ": not a directory");
}

// Two processes write to one store at once: writers take turns, every object counts exactly
// once, and of two writers recording the same object one gets kConflict.
TEST_F(FlowStoreTest, TwoProcessesShareOneStore) {
  OpenStore().reset();  // neither process creates the schema: each forks with no connection open
  constexpr int kObjects = 30;
  const auto work = [this](const std::string& who) {
    auto store = FlowStore::Open(path_.string());
    if (!store) return -1;
    const int64_t run = *(*store)->BeginRun(kT, who);
    std::vector<Flow> flows;
    for (uint32_t i = 0; i < 2000; ++i) {
      flows.push_back({{net::Address::V4(0x0a000000 + i), net::Address::V4(0x0a640001), 5432, 6, Action::kAccept},
                       {1, 1, 1, kT, kT}});
    }
    int conflicts = 0;
    for (int i = 0; i < kObjects; ++i) {
      const Status s = (*store)->Record(run, {who + std::to_string(i), 1, "1"}, flows);
      if (!s) return -1;
      if (i == kObjects / 2) {
        const Status same = (*store)->Record(run, {"shared", 1, "1"}, flows);
        if (!same && same.error().code != ErrorCode::kConflict) return -1;
        conflicts += !same;
      }
    }
    return conflicts;
  };
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(work("child"));
  const int parent_conflicts = work("parent");
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  const int child_conflicts = WEXITSTATUS(status);
  ASSERT_GE(parent_conflicts, 0);
  ASSERT_LE(child_conflicts, 1);
  EXPECT_EQ(parent_conflicts + child_conflicts, 1);
  auto store = OpenStore();
  ASSERT_TRUE(store);
  const auto loaded = Load(*store);
  ASSERT_EQ(loaded.size(), 2000u);
  for (const auto& [k, f] : loaded) ASSERT_EQ(f.flow.counts.records, 2u * kObjects + 1);
}

// WAL: a writer in the middle of a transaction (another process's Record) holds no reader back.
TEST_F(FlowStoreTest, AWriterHoldsNoReaderBack) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  Record(*store, Run(*store), {"a", 1, "1"}, {MakeFlow("10.0.1.20", "10.0.2.45", 5432, 1, kT, kT)});
  sqlite3* writer = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &writer), SQLITE_OK);
  sqlite3_stmt* mode = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(writer, "PRAGMA journal_mode", -1, &mode, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(mode), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(mode, 0)), "wal");
  sqlite3_finalize(mode);
  ASSERT_EQ(sqlite3_exec(writer, "BEGIN IMMEDIATE; DELETE FROM flows; INSERT INTO objects VALUES('b', 1, '1', 1)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_EQ(Load(*store).size(), 1u) << "the last committed state";
  EXPECT_FALSE(*store->Recorded({"b", 1, "1"}));
  sqlite3_exec(writer, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(writer);
}

TEST(FlowStorePath, FollowsTheXdgBaseDirectorySpec) {
  testing::Env env;
  EXPECT_FALSE(DefaultFlowStorePath(env.getter()));
  EXPECT_EQ(DefaultFlowStorePath(env.getter()).error().message,
            "no place for the flow store: neither XDG_STATE_HOME nor HOME is set");
  env.vars["HOME"] = "/home/ana";
  EXPECT_EQ(*DefaultFlowStorePath(env.getter()), "/home/ana/.local/state/moat/flows.sqlite");
  env.vars["XDG_STATE_HOME"] = "relative/state";  // invalid: ignored
  EXPECT_EQ(*DefaultFlowStorePath(env.getter()), "/home/ana/.local/state/moat/flows.sqlite");
  env.vars["XDG_STATE_HOME"] = "";
  EXPECT_EQ(*DefaultFlowStorePath(env.getter()), "/home/ana/.local/state/moat/flows.sqlite");
  env.vars["XDG_STATE_HOME"] = "/var/lib/ana/";
  EXPECT_EQ(*DefaultFlowStorePath(env.getter()), "/var/lib/ana/moat/flows.sqlite");
  env.vars.erase("HOME");
  EXPECT_EQ(*DefaultFlowStorePath(env.getter()), "/var/lib/ana/moat/flows.sqlite");
}

}  // namespace
}  // namespace moat::store
