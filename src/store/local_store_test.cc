#include "store/local_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace moat::store {
namespace {

namespace fs = std::filesystem;

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/moat-store-XXXXXX";
    root_ = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(root_); }
  void Write(const std::string& rel, const std::string& data = "x") {
    fs::create_directories((fs::path(root_) / rel).parent_path());
    std::ofstream(fs::path(root_) / rel) << data;
  }
  std::vector<std::string> Names(const std::string& path) {
    auto l = store_.List(path);
    EXPECT_TRUE(l) << (l ? "" : l.error().message);
    std::vector<std::string> out;
    if (l) {
      for (const auto& o : *l) out.push_back(fs::relative(o.name, root_).string());
    }
    return out;
  }
  std::string root_;
  LocalStore store_;
};

TEST_F(LocalStoreTest, DirectoryListsFlowLogFilesRecursivelyInNameOrder) {
  Write("AWSLogs/1/vpcflowlogs/us-east-1/2024/05/02/b.log.gz");
  Write("AWSLogs/1/vpcflowlogs/us-east-1/2024/05/01/13/a.log.gz");
  Write("AWSLogs/aws-account-id=1/year=2024/month=05/day=01/c.log");
  Write("notes.txt");
  Write("AWSLogs/1/x.log.gz.tmp");
  EXPECT_EQ(Names(root_), (std::vector<std::string>{
                              "AWSLogs/1/vpcflowlogs/us-east-1/2024/05/01/13/a.log.gz",
                              "AWSLogs/1/vpcflowlogs/us-east-1/2024/05/02/b.log.gz",
                              "AWSLogs/aws-account-id=1/year=2024/month=05/day=01/c.log",
                          }));
}

TEST_F(LocalStoreTest, OnlyTheMoatDirectoryAtTheTopIsMoats) {
  Write("moat/state/summary.log.gz");
  Write("moat/audit.log");
  Write("flows/moat/x.log");
  Write("flows/a.log");
  EXPECT_EQ(Names(root_), (std::vector<std::string>{"flows/a.log", "flows/moat/x.log"}));
  // Listed itself, `flows` is the root: its moat/ is at the top.
  EXPECT_EQ(Names(root_ + "/flows"), (std::vector<std::string>{"flows/a.log"}));
  EXPECT_EQ(Names(root_ + "/flows/"), (std::vector<std::string>{"flows/a.log"}));
}

TEST_F(LocalStoreTest, AnExplicitlyNamedFileIsAlwaysListed) {
  Write("capture.txt");
  EXPECT_EQ(Names(root_ + "/capture.txt"), (std::vector<std::string>{"capture.txt"}));
}

TEST_F(LocalStoreTest, MissingPathNamesThePath) {
  auto l = store_.List(root_ + "/nope");
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().message, root_ + "/nope: No such file or directory");
  auto o = store_.Open(root_ + "/nope.log");
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().message, root_ + "/nope.log: No such file or directory");
}

TEST_F(LocalStoreTest, OpenReadsTheBytes) {
  Write("a.log", "hello\n");
  auto s = store_.Open(root_ + "/a.log");
  ASSERT_TRUE(s);
  char buf[16];
  auto n = (*s)->Read(std::span<char>(buf, sizeof buf));
  ASSERT_TRUE(n);
  EXPECT_EQ(std::string(buf, *n), "hello\n");
}

}  // namespace
}  // namespace moat::store
