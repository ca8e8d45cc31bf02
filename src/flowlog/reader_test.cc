#include "flowlog/reader.h"

#include <gtest/gtest.h>

#include "testing/gzip.h"

namespace moat::flowlog {
namespace {

using moat::testing::Gzip;

constexpr const char* kHeader =
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
    "log-status\n";
constexpr const char* kRecord =
    "2 123456789012 eni-1 10.1.0.17 10.0.2.45 49152 5432 6 10 840 1714521600 1714521660 ACCEPT OK\n";

struct Outcome {
  Stats stats;
  std::vector<Record> records;
  uint64_t skipped(SkipReason r) const { return stats.skipped[static_cast<size_t>(r)]; }
  const std::string& example(SkipReason r) const { return stats.examples[static_cast<size_t>(r)]; }
};

Outcome Read(const std::string& bytes, const std::string& name = "a.log") {
  Outcome o;
  moat::testing::CollectingSink sink;
  ReadFlowLog(std::make_unique<StringStream>(bytes), name, sink, o.stats);
  o.records = std::move(sink.records);
  return o;
}

TEST(ReaderTest, CountsLinesRecordsAndNoData) {
  auto o = Read(std::string(kHeader) + kRecord + kRecord + "2 1 eni-1 - - - - - - - 1 2 - NODATA\n" +
                "2 1 eni-1 - - - - - - - 1 2 - SKIPDATA\n");
  EXPECT_EQ(o.stats.files, 1u);
  EXPECT_EQ(o.stats.files_read, 1u);
  EXPECT_EQ(o.stats.lines, 4u);
  EXPECT_EQ(o.stats.records, 2u);
  EXPECT_EQ(o.stats.nodata, 1u);
  EXPECT_EQ(o.stats.skipdata, 1u);
  EXPECT_EQ(o.stats.TotalSkipped(), 0u);
  EXPECT_EQ(o.records.size(), 2u);
}

TEST(ReaderTest, ReadsGzipLikePlainText) {
  std::string text = kHeader;
  for (int i = 0; i < 10000; ++i) text += kRecord;
  auto o = Read(Gzip(text), "a.log.gz");
  EXPECT_EQ(o.stats.records, 10000u);
  EXPECT_EQ(o.records.size(), 10000u);
  EXPECT_EQ(o.stats.TotalSkipped(), 0u);
}

TEST(ReaderTest, LastLineWithoutNewlineAndCrLfAreRead) {
  std::string rec = kRecord;
  rec.pop_back();
  auto o = Read(std::string(kHeader) + rec + "\r\n" + rec);
  EXPECT_EQ(o.stats.records, 2u);
}

TEST(ReaderTest, BadLinesAreSkippedCountedAndTheFirstKeptAsExample) {
  auto o = Read(std::string(kHeader) + kRecord + "2 1 eni-1 10.1.0.17 10.0.2.45 49152 x 6 1 1 1 2 ACCEPT OK\n" +
                "2 1 eni-1 10.1.0.17 10.0.2.45 49152 y 6 1 1 1 2 ACCEPT OK\n" +
                "2 1 eni-1 10.1.0.17 10.0.2.45 49152 5432 6 1 1 1 2 ACCEPT\n" + kRecord);
  EXPECT_EQ(o.stats.records, 2u);
  EXPECT_EQ(o.stats.lines, 5u);
  EXPECT_EQ(o.skipped(SkipReason::kBadPort), 2u);
  EXPECT_EQ(o.example(SkipReason::kBadPort), "a.log:3: field 'dstport': not an integer \"x\"");
  EXPECT_EQ(o.skipped(SkipReason::kBadFieldCount), 1u);
  EXPECT_EQ(o.example(SkipReason::kBadFieldCount), "a.log:5: expected 14 fields, found 13");
}

TEST(ReaderTest, EmptyFileHasNoHeader) {
  auto o = Read("");
  EXPECT_EQ(o.skipped(SkipReason::kNoHeader), 1u);
  EXPECT_EQ(o.example(SkipReason::kNoHeader), "a.log: empty file, no header line");
  EXPECT_EQ(o.stats.files_read, 0u);
}

TEST(ReaderTest, FileWithoutHeaderIsSkippedWhole) {
  auto o = Read(std::string(kRecord) + kRecord);
  EXPECT_EQ(o.skipped(SkipReason::kNoHeader), 1u);
  EXPECT_EQ(o.stats.records, 0u);
  EXPECT_EQ(o.stats.lines, 0u);
  EXPECT_TRUE(o.example(SkipReason::kNoHeader).starts_with("a.log:1: no header line: first line \"2 1234"))
      << o.example(SkipReason::kNoHeader);
}

TEST(ReaderTest, HeaderLackingFlowFieldsIsMissingFields) {
  auto o = Read("version srcaddr dstaddr packets\n2 10.0.0.1 10.0.0.2 5\n");
  EXPECT_EQ(o.skipped(SkipReason::kMissingFields), 1u);
  EXPECT_EQ(o.example(SkipReason::kMissingFields), "a.log:1: header lacks 'srcport', 'dstport', 'protocol'");
  EXPECT_EQ(o.stats.records, 0u);
}

TEST(ReaderTest, UnknownHeaderFieldWarnsOnceAndRecordsStillParse) {
  auto o = Read(
      "srcaddr dstaddr srcport dstport protocol future-field\n"
      "10.1.0.17 10.0.2.45 40000 5432 6 abc\n10.1.0.17 10.0.2.45 40001 5432 6 def\n");
  EXPECT_EQ(o.stats.records, 2u);
  ASSERT_EQ(o.stats.warnings.size(), 1u);
  EXPECT_EQ(o.stats.warnings[0], "a.log:1: unknown field 'future-field' ignored");
}

TEST(ReaderTest, BinaryContentIsNotText) {
  std::string bin(5000, '\0');
  for (size_t i = 0; i < bin.size(); ++i) bin[i] = static_cast<char>(i * 7);
  auto o = Read(bin, "x.bin");
  EXPECT_EQ(o.skipped(SkipReason::kNotText), 1u);
  EXPECT_EQ(o.example(SkipReason::kNotText), "x.bin: binary content, not flow-log text");
}

TEST(ReaderTest, CorruptGzipKeepsWhatWasReadBefore) {
  std::string text = kHeader;
  for (int i = 0; i < 200000; ++i) text += kRecord;
  const std::string gz = Gzip(text);
  auto o = Read(gz.substr(0, gz.size() * 3 / 4), "c.log.gz");
  EXPECT_EQ(o.skipped(SkipReason::kCorruptGzip), 1u);
  EXPECT_GT(o.stats.records, 0u);
  EXPECT_LT(o.stats.records, 200000u);
  EXPECT_TRUE(o.example(SkipReason::kCorruptGzip).starts_with("c.log.gz: truncated gzip stream (after line "))
      << o.example(SkipReason::kCorruptGzip);
}

TEST(ReaderTest, TenMegabyteLineIsSkippedAndReadingGoesOn) {
  const std::string huge(10 << 20, 'z');
  auto o = Read(std::string(kHeader) + kRecord + huge + "\n" + kRecord);
  EXPECT_EQ(o.skipped(SkipReason::kLineTooLong), 1u);
  EXPECT_EQ(o.example(SkipReason::kLineTooLong), "a.log:3: line longer than 65536 bytes");
  EXPECT_EQ(o.stats.records, 2u);
  EXPECT_EQ(o.stats.lines, 3u);
}

TEST(ReaderTest, LongLineInsideOneBufferIsAlsoTooLong) {
  auto o = Read(std::string(kHeader) + std::string(100000, 'q') + "\n" + kRecord);
  EXPECT_EQ(o.skipped(SkipReason::kLineTooLong), 1u);
  EXPECT_EQ(o.stats.records, 1u);
}

TEST(ReaderTest, RepeatedHeaderStartsANewLayout) {
  // `cat a.log b.log` of two formats: the second header takes over.
  auto o = Read(std::string(kHeader) + kRecord + "dstaddr srcaddr dstport srcport protocol\n" +
                "10.0.2.45 10.1.0.99 5432 40000 6\n");
  EXPECT_EQ(o.stats.records, 2u);
  EXPECT_EQ(o.stats.lines, 2u);
  ASSERT_EQ(o.records.size(), 2u);
  EXPECT_EQ(net::ToString(o.records[1].src), "10.1.0.99");
}

TEST(ReaderTest, BlankLinesAreIgnored) {
  auto o = Read(std::string("\n") + kHeader + "\n   \n" + kRecord);
  EXPECT_EQ(o.stats.records, 1u);
  EXPECT_EQ(o.stats.lines, 1u);
  EXPECT_EQ(o.stats.TotalSkipped(), 0u);
}

}  // namespace
}  // namespace moat::flowlog
