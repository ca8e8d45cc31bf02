// FlowStore::OpenReadOnly: the flow history read by commands that record nothing (plan, map
// without --flows) — nothing created, nothing written, any file that is not a store refused.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "store/flow_store.h"

namespace moat::store {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kT = 1793491200;  // 2026-11-01T00:00:00Z

Flow MakeFlow(const char* initiator, uint64_t records) {
  return Flow{{*net::ParseAddress(initiator), *net::ParseAddress("10.0.2.45"), 5432, 6, flowlog::Action::kAccept},
              {records, records * 10, records * 1000, kT, kT + 60}};
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int64_t Runs(const fs::path& file) {
  sqlite3* db = nullptr;
  int64_t n = -1;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM runs", -1, &s, nullptr) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
      n = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return n;
}

class FlowStoreReadOnlyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/moat-flow-store-ro-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    path_ = root_ / "state" / "flows.sqlite";
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(root_ / "state", fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(root_);
  }
  // A store holding two flows recorded by one run, closed.
  void MakeStore() {
    auto store = FlowStore::Open(path_.string());
    ASSERT_TRUE(store) << store.error().message;
    auto run = (*store)->BeginRun(kT, "test");
    ASSERT_TRUE(run);
    const std::vector<Flow> flows = {MakeFlow("10.0.1.20", 3), MakeFlow("10.0.7.7", 1)};
    ASSERT_TRUE((*store)->Record(*run, {"a.log", 10, ""}, flows));
  }

  fs::path root_, path_;
};

TEST_F(FlowStoreReadOnlyTest, LoadsTheHistoryAndWritesNothing) {
  MakeStore();
  const std::string bytes = ReadFile(path_);
  const fs::file_time_type mtime = fs::last_write_time(path_);
  {
    auto store = FlowStore::OpenReadOnly(path_.string());
    ASSERT_TRUE(store) << store.error().message;
    auto loaded = (*store)->Load(0);
    ASSERT_TRUE(loaded) << loaded.error().message;
    ASSERT_EQ(loaded->flows.size(), 2u);
    EXPECT_EQ(loaded->flows[0].counts.records + loaded->flows[1].counts.records, 4u);
    // Writing is refused, and says where.
    auto run = (*store)->BeginRun(kT, "plan");
    ASSERT_FALSE(run);
    EXPECT_EQ(run.error().code, ErrorCode::kDenied);
    EXPECT_EQ(run.error().message, path_.string() + ": cannot start a run: attempt to write a readonly database");
    EXPECT_FALSE((*store)->Record(1, {"b.log", 10, ""}, std::vector<Flow>{MakeFlow("10.0.1.21", 1)}));
  }
  EXPECT_EQ(ReadFile(path_), bytes);
  EXPECT_EQ(fs::last_write_time(path_), mtime);
  EXPECT_FALSE(fs::exists(path_.string() + "-journal"));
  if (fs::exists(path_.string() + "-wal")) {
    EXPECT_EQ(fs::file_size(path_.string() + "-wal"), 0u);
  }
  EXPECT_EQ(Runs(path_), 1);
}

TEST_F(FlowStoreReadOnlyTest, SeesWhatAWriterHasCommittedButNotCheckpointed) {
  MakeStore();
  auto writer = FlowStore::Open(path_.string());
  ASSERT_TRUE(writer);
  ASSERT_TRUE((*writer)->Record(*(*writer)->BeginRun(kT, "map"), {"b.log", 10, ""},
                                std::vector<Flow>{MakeFlow("10.0.1.21", 5)}));
  auto reader = FlowStore::OpenReadOnly(path_.string());
  ASSERT_TRUE(reader) << reader.error().message;
  auto loaded = (*reader)->Load(0);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->flows.size(), 3u);  // read with the WAL's locks, not as an immutable file
}

TEST_F(FlowStoreReadOnlyTest, AMissingOrEmptyFileIsNoHistoryAndIsNotCreated) {
  auto missing = FlowStore::OpenReadOnly(path_.string());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message, path_.string() + ": no flow history");
  EXPECT_FALSE(fs::exists(path_.parent_path()));

  fs::create_directories(path_.parent_path());
  std::ofstream(path_).close();
  auto empty = FlowStore::OpenReadOnly(path_.string());
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(empty.error().message, path_.string() + ": no flow history (an empty file)");
  EXPECT_EQ(fs::file_size(path_), 0u);
}

TEST_F(FlowStoreReadOnlyTest, AFileThatIsNotAStoreIsRefusedAndLeftAlone) {
  fs::create_directories(path_.parent_path());
  const std::string text = "these are my notes, not a database\n" + std::string(5000, 'x');
  std::ofstream(path_) << text;
  auto store = FlowStore::OpenReadOnly(path_.string());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().message, path_.string() + ": not a moat flow store: file is not a database");
  EXPECT_EQ(ReadFile(path_), text);
}

// Root is not stopped by the modes (CI runs as root): there the test says so and stops.
TEST_F(FlowStoreReadOnlyTest, AStoreInADirectoryMoatMayNotWriteIsRead) {
  MakeStore();
  fs::permissions(path_, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  fs::permissions(path_.parent_path(), fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                                           fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  if (geteuid() == 0) GTEST_SKIP() << "root writes whatever the modes say";
  auto store = FlowStore::OpenReadOnly(path_.string());
  ASSERT_TRUE(store) << store.error().message;
  auto loaded = (*store)->Load(0);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->flows.size(), 2u);
  EXPECT_FALSE(fs::exists(path_.string() + "-wal"));
}

}  // namespace
}  // namespace moat::store
