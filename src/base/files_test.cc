#include "base/files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

namespace moat {
namespace {

namespace fs = std::filesystem;

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/moat-files-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  static mode_t Mode(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 0777;
  }
  fs::path dir_;
};

TEST_F(FilesTest, CreatesEveryMissingDirectoryPrivate) {
  ASSERT_TRUE(MakeDirectories(dir_ / "state" / "moat"));
  EXPECT_EQ(Mode(dir_ / "state"), 0700u);
  EXPECT_EQ(Mode(dir_ / "state" / "moat"), 0700u);
  EXPECT_TRUE(MakeDirectories(dir_ / "state" / "moat"));  // already there
  EXPECT_TRUE(MakeDirectories(""));
}

TEST_F(FilesTest, AFileInTheWayIsAnErrorNamingIt) {
  std::ofstream(dir_ / "taken") << "x";
  const Status s = MakeDirectories(dir_ / "taken" / "moat");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, (dir_ / "taken").string() + ": not a directory");
}

}  // namespace
}  // namespace moat
