#include "flowlog/object_name.h"

#include <gtest/gtest.h>

namespace moat::flowlog {
namespace {

// Names as the three callers see them: an S3 key from the bucket's root (listed under any prefix,
// or named by an event), or a path below a walked directory.
TEST(ObjectNameTest, FlowLogObjectsAreLogFilesOutsideMoatsOwnDirectory) {
  const struct {
    const char* name;
    bool flow_log;
  } cases[] = {
      // Where AWS delivers flow logs: Control Tower / the default layout, and Hive-compatible.
      {"AWSLogs/123456789012/vpcflowlogs/eu-west-1/2024/05/01/"
       "123456789012_vpcflowlogs_eu-west-1_fl-0abc_20240501T1305Z_1a2b3c4d.log.gz",
       true},
      {"AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2024/month=05/"
       "day=01/hour=13/123456789012_vpcflowlogs_eu-west-1_fl-0abc_20240501T1305Z_1a2b3c4d.log.gz",
       true},
      {"x.log", true},
      {"x.log.gz", true},
      // A `moat` directory that is not at the root belongs to whoever made it.
      {"team/moat/flows/x.log.gz", true},
      {"flows/moat/x.log", true},
      {"moatish/x.log", true},
      {"moat.log", true},
      // moat's own directory at the root: state, audit, flow history, the local state directory.
      {"moat/state/applied.json", false},
      {"moat/state/x.log.gz", false},
      {"moat/audit/1764398567-4f1c.jsonl", false},
      {"moat/audit.log", false},
      {"moat/flows/x.log.gz", false},
      {"moat/flows/x.log.gz.jsonl.gz", false},
      {"moat/flows/team/moat/flows/x.log.gz.jsonl.gz", false},
      // Other names.
      {"x.LOG", false},
      {"x.log.GZ", false},
      {"x.log.gz.tmp", false},
      {"x.log.bak", false},
      {"x.gz", false},
      {"x.json", false},
      {"x.parquet", false},
      {"AWSLogs/123456789012/vpcflowlogs/", false},
      {"", false},
  };
  for (const auto& c : cases) EXPECT_EQ(IsFlowLogObject(c.name), c.flow_log) << '"' << c.name << '"';
}

TEST(ObjectNameTest, AnObjectsAccountAndRegionComeFromItsName) {
  const ObjectPlace eu{"123456789012", "eu-west-1"};
  const std::string file = "123456789012_vpcflowlogs_eu-west-1_fl-0abc_20240501T1305Z_1a2b3c4d.log.gz";
  // The default layout (hourly partitions too), under a prefix as a Control Tower log archive has it.
  EXPECT_EQ(PlaceOfObject("AWSLogs/123456789012/vpcflowlogs/eu-west-1/2024/05/01/" + file), eu);
  EXPECT_EQ(PlaceOfObject("o-a1b2c3/AWSLogs/123456789012/vpcflowlogs/eu-west-1/2024/05/01/13/" + file), eu);
  EXPECT_EQ(PlaceOfObject("AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/"
                          "year=2024/month=05/day=01/hour=13/" +
                          file),
            eu);
  EXPECT_EQ(PlaceOfObject(file), eu);  // a file of its own
  // A directory that names another account or region than the file: nobody's.
  EXPECT_FALSE(PlaceOfObject("AWSLogs/210987654321/vpcflowlogs/eu-west-1/2024/05/01/" + file));
  EXPECT_FALSE(PlaceOfObject("AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/05/01/" + file));
  EXPECT_FALSE(
      PlaceOfObject("AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/" + file));
  // Names that are not AWS's.
  EXPECT_FALSE(PlaceOfObject("flows/2024-05-01.log.gz"));
  EXPECT_FALSE(PlaceOfObject("12345678901_vpcflowlogs_eu-west-1_fl-0abc.log.gz"));
  EXPECT_FALSE(PlaceOfObject("123456789012_vpcflowlogs_eu-west-1.log.gz"));
  EXPECT_FALSE(PlaceOfObject("123456789012_vpcflowlogs_EU_fl-0abc_x.log.gz"));
}

}  // namespace
}  // namespace moat::flowlog
