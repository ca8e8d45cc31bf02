#include "apply/audit.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "testing/fake_clock.h"

namespace moat::apply {
namespace {

testing::FakeClock clock(1764398567000);  // 2025-11-29T06:42:47Z

AuditEntry Revoke() {
  AuditEntry e;
  e.time = 1764398567;
  e.target = "orders-db";
  e.group = "sg-0abc";
  e.group_name = "moat-orders-db-1";
  e.change = "revoke";
  e.rule = "tcp 5432 from 0.0.0.0/0";
  e.drift = true;
  return e;
}

TEST(AuditTest, FileLogAppendsOneLinePerChange) {
  char tmpl[] = "/tmp/moat-audit-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string path = dir + "/sub/audit.log";
  {
    auto log = FileAuditLog::Open(path, clock);
    ASSERT_TRUE(log) << log.error().message;
    ASSERT_TRUE((*log)->Write(Revoke()));
    ASSERT_TRUE((*log)->Write(Revoke()));
  }
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  EXPECT_EQ(text.str(), AuditLine(Revoke()) + "\n" + AuditLine(Revoke()) + "\n");
  EXPECT_NE(text.str().find(R"("time":"2025-11-29T06:42:47Z")"), std::string::npos) << text.str();
  std::filesystem::remove_all(dir);
}

TEST(AuditTest, FileLogThatCannotWriteSaysSoNamingTheFile) {
  auto log = FileAuditLog::Open("/dev/full", clock);
  ASSERT_TRUE(log) << log.error().message;
  Status st = (*log)->Write(Revoke());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "audit log /dev/full: No space left on device");
}

TEST(AuditTest, FileLogThatCannotBeOpenedSaysWhy) {
  auto log = FileAuditLog::Open("/proc/version/audit.log", clock);
  ASSERT_FALSE(log);
  EXPECT_NE(log.error().message.find("audit log /proc/version/audit.log"), std::string::npos) << log.error().message;
}

TEST(AuditTest, TeeWritesEveryLogAndReportsTheOnesThatFailed) {
  auto full = FileAuditLog::Open("/dev/full", clock);
  ASSERT_TRUE(full);
  MemoryAuditLog before, after;
  TeeAuditLog tee({&before, nullptr, full->get(), &after});
  Status st = tee.Write(Revoke());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "audit log /dev/full: No space left on device");
  EXPECT_EQ(before.entries.size(), 1u);
  EXPECT_EQ(after.entries.size(), 1u);
  EXPECT_TRUE(TeeAuditLog({&before, &after}).Write(Revoke()));
}

TEST(AuditTest, DescribeChangeNamesTargetChangeRuleAndGroup) {
  EXPECT_EQ(DescribeChange(Revoke()), "orders-db: revoke tcp 5432 from 0.0.0.0/0, group sg-0abc (moat-orders-db-1)");
  AuditEntry attach;
  attach.target = "cluster/ledger";
  attach.group = "sg-1";
  attach.change = "attach";
  EXPECT_EQ(DescribeChange(attach), "cluster/ledger: attach, group sg-1");
}

TEST(AuditTest, APlacedLogNamesTheAccountAndRegionOfEveryLine) {
  MemoryAuditLog inner;
  PlacedAuditLog placed(inner, "222233334444", "eu-west-1");
  ASSERT_TRUE(placed.Write(Revoke()));
  ASSERT_TRUE(placed.Note(Revoke()));  // a memory log keeps no notes
  ASSERT_EQ(inner.entries.size(), 1u);
  const std::string line = AuditLine(inner.entries[0]);
  EXPECT_TRUE(line.starts_with(R"({"time":"2025-11-29T06:42:47Z","account":"222233334444","region":"eu-west-1",)"
                               R"("target":"orders-db",)"))
      << line;
  EXPECT_EQ(DescribeChange(inner.entries[0]),
            "222233334444/eu-west-1/orders-db: revoke tcp 5432 from 0.0.0.0/0, group sg-0abc (moat-orders-db-1)");
  EXPECT_EQ(AuditLine(Revoke()).find("account"), std::string::npos);  // one place: as before
}

}  // namespace
}  // namespace moat::apply
