// Integration tests of `moat flows` and the command table. The real moat binary runs as a
// subprocess on inputs written to a fresh temporary directory per test, and on samples/flowlogs.
// Where DESIGN.md §4/§8 fix a text (keys, reasons, one-line errors, exit codes), it is asserted exactly.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "moat_process.h"

namespace moat::integration {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const std::string kMoat = MOAT_BINARY;
const std::string kSourceDir = MOAT_SOURCE_DIR;
const std::string kSamples = "samples/flowlogs";  // relative to kSourceDir

constexpr char kV2Header[] =
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
    "log-status";
constexpr int64_t kT0 = 1714521600;  // 2024-05-01T00:00:00Z

// One default-format (v2) TCP record: 10 packets, 840 bytes, one minute from `start`.
std::string V2(const std::string& src, const std::string& dst, int sport, int dport,
               const std::string& action = "ACCEPT", int64_t start = kT0) {
  return "2 123456789012 eni-0123456789abcdef0 " + src + " " + dst + " " + std::to_string(sport) + " " +
         std::to_string(dport) + " 6 10 840 " + std::to_string(start) + " " + std::to_string(start + 59) + " " +
         action + " OK";
}

std::string NoData(int64_t start = kT0) {
  return "2 123456789012 eni-0123456789abcdef0 - - - - - - - " + std::to_string(start) + " " +
         std::to_string(start + 59) + " - NODATA";
}

// A default-format file: the header, then `lines`, each ended by a newline.
std::string V2File(const std::vector<std::string>& lines) {
  std::string out = std::string(kV2Header) + "\n";
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// A small conversation: `client` talks to 10.0.2.45:5432, both directions, plus a NODATA line.
std::string Conversation(const std::string& client, int connections = 1) {
  std::vector<std::string> lines;
  for (int i = 0; i < connections; ++i) {
    lines.push_back(V2(client, "10.0.2.45", 40000 + i, 5432, "ACCEPT", kT0 + 60 * i));
    lines.push_back(V2("10.0.2.45", client, 5432, 40000 + i, "ACCEPT", kT0 + 60 * i));
  }
  lines.push_back(NoData());
  return V2File(lines);
}

// Parses a run's stdout as JSON; a failure is reported and yields null.
json ParseJson(const RunResult& r) {
  try {
    return json::parse(r.out);
  } catch (const json::exception& e) {
    ADD_FAILURE() << "stdout is not JSON: " << e.what() << "\n" << Describe(r);
    return json();
  }
}

// The flow with this key in a `moat flows --json` report, or nullptr.
const json* FindFlow(const json& report, const std::string& initiator, const std::string& responder, int port,
                     const std::string& action = "ACCEPT") {
  if (!report.contains("flows")) return nullptr;
  for (const json& f : report["flows"]) {
    if (f.value("initiator", "") == initiator && f.value("responder", "") == responder && f.value("port", -1) == port &&
        f.value("action", "") == action) {
      return &f;
    }
  }
  return nullptr;
}

// The entry of `reason` in report["skipped"], or nullptr.
const json* FindSkip(const json& report, const std::string& reason) {
  if (!report.contains("skipped")) return nullptr;
  for (const json& s : report["skipped"]) {
    if (s.value("reason", "") == reason) return &s;
  }
  return nullptr;
}

uint64_t SkipCount(const json& report, const std::string& reason) {
  const json* s = FindSkip(report, reason);
  return s == nullptr ? 0 : s->value("count", uint64_t{0});
}

std::string SkipExample(const json& report, const std::string& reason) {
  const json* s = FindSkip(report, reason);
  return s == nullptr ? "<no '" + reason + "' entry>" : s->value("example", "<no example>");
}

std::set<std::string> Initiators(const json& report) {
  std::set<std::string> out;
  if (!report.contains("flows")) return out;
  for (const json& f : report["flows"]) out.insert(f.value("initiator", ""));
  return out;
}

// exit 1, and stderr exactly one line that starts with `prefix`.
void ExpectOneLineError(const RunResult& r, const std::string& prefix) {
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_TRUE(r.err.starts_with(prefix)) << "stderr should start with '" << prefix << "'\n" << Describe(r);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "stderr should be one line\n" << Describe(r);
  EXPECT_TRUE(r.err.ends_with("\n")) << Describe(r);
}

class FlowsCliTest : public ::testing::Test {
 protected:
  FlowsCliTest() { fs::create_directories(CaptureDir()); }

  // Runs moat in the temporary directory (unless options say otherwise).
  RunResult Moat(const std::vector<std::string>& args, RunOptions options = {}) {
    if (options.cwd.empty()) options.cwd = dir_.path();
    return RunProcess(kMoat, args, options, CaptureDir());
  }

  // Runs `moat flows samples/flowlogs args...` from the source directory, as a new user would.
  RunResult MoatOnSamples(std::vector<std::string> args) {
    args.insert(args.begin(), {"flows", kSamples});
    RunOptions options;
    options.cwd = kSourceDir;
    return Moat(args, options);
  }

  std::string Write(const std::string& relative, const std::string& bytes) { return dir_.Write(relative, bytes); }
  std::string CaptureDir() const { return dir_.path() + "/.capture"; }

  TempDir dir_;
};

// ---------------------------------------------------------------------------------------------
// The bundled samples (samples/make_samples.py writes them).

size_t CountSampleFiles() {
  size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(kSourceDir + "/" + kSamples)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && (name.ends_with(".log") || name.ends_with(".log.gz"))) ++n;
  }
  return n;
}

TEST_F(FlowsCliTest, SamplesJsonCountsEveryFileWithTheContractTotals) {
  const RunResult r = MoatOnSamples({"--json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.err, "");
  json report = ParseJson(r);
  ASSERT_TRUE(report.contains("totals")) << r.out;
  const json& totals = report["totals"];
  for (const char* key : {"files", "lines", "records", "nodata", "skipdata", "skipped"}) {
    ASSERT_TRUE(totals.contains(key)) << "totals lacks '" << key << "': " << totals.dump();
    EXPECT_TRUE(totals[key].is_number_unsigned()) << key << ": " << totals[key].dump();
  }
  const size_t sample_files = CountSampleFiles();
  EXPECT_GE(sample_files, 4u);
  EXPECT_EQ(totals["files"].get<uint64_t>(), sample_files);
  EXPECT_EQ(totals["skipped"].get<uint64_t>(), 0u);
  EXPECT_TRUE(report["skipped"].is_array() && report["skipped"].empty()) << report["skipped"].dump();
  EXPECT_GT(totals["nodata"].get<uint64_t>(), 0u);
  EXPECT_GT(totals["skipdata"].get<uint64_t>(), 0u);
  // lines = every non-header line; records = those that parsed into a flow.
  EXPECT_EQ(totals["lines"].get<uint64_t>(),
            totals["records"].get<uint64_t>() + totals["nodata"].get<uint64_t>() + totals["skipdata"].get<uint64_t>());
  uint64_t flow_records = 0;
  for (const json& f : report["flows"]) flow_records += f.value("records", uint64_t{0});
  EXPECT_EQ(flow_records, totals["records"].get<uint64_t>());
}

TEST_F(FlowsCliTest, SamplesFlowsHaveEveryKeyAndAreSortedByRecordsDescending) {
  const RunResult r = MoatOnSamples({"--json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  json report = ParseJson(r);
  ASSERT_TRUE(report.contains("flows") && report["flows"].is_array()) << r.out;
  const json& flows = report["flows"];
  ASSERT_GE(flows.size(), 10u);
  for (const json& f : flows) {
    for (const char* key :
         {"initiator", "responder", "port", "protocol", "action", "records", "packets", "bytes", "first", "last"}) {
      EXPECT_TRUE(f.contains(key)) << "flow lacks '" << key << "': " << f.dump();
    }
    EXPECT_TRUE(f["initiator"].is_string() && f["responder"].is_string()) << f.dump();
    EXPECT_TRUE(f["first"].is_number_integer() && f["last"].is_number_integer()) << f.dump();  // samples have times
  }
  for (size_t i = 1; i < flows.size(); ++i) {
    EXPECT_GE(flows[i - 1].value("records", 0), flows[i].value("records", 0)) << "flows out of order at " << i;
  }
}

TEST_F(FlowsCliTest, SamplesBothDirectionsOfAConversationAggregateIntoOneFlow) {
  const RunResult r = MoatOnSamples({"--json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  json report = ParseJson(r);
  // make_samples.py: 10.0.1.20 opens 2 connections a minute to orders for the 5 minutes of each
  // of 3 files, logged both ways: 2 x 5 x 3 x 2 = 60 records, one flow.
  const json* f = FindFlow(report, "10.0.1.20", "10.0.2.45", 5432);
  ASSERT_NE(f, nullptr) << r.out;
  EXPECT_EQ(f->value("records", 0), 60);
  EXPECT_EQ(f->value("protocol", 0), 6);
  EXPECT_EQ(f->value("first", int64_t{0}), 1714521600 + 2);  // the first record starts 00:00:02
  // The databases never show up as initiators: their replies joined the clients' flows.
  for (const char* db : {"10.0.2.45", "10.0.3.12", "2001:db8:0:2::45"}) EXPECT_EQ(Initiators(report).count(db), 0u);
}

TEST_F(FlowsCliTest, SamplesPrintIpv6InRfc5952Form) {
  const RunResult r = MoatOnSamples({"--json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  json report = ParseJson(r);
  // The sample writes the cache as 2001:0db8:0000:0002:0000:0000:0000:0045.
  const json* f = FindFlow(report, "2001:db8:0:1::20", "2001:db8:0:2::45", 6379);
  ASSERT_NE(f, nullptr) << r.out;
  EXPECT_EQ(f->value("records", 0), 10);
  EXPECT_EQ(r.out.find("0db8"), std::string::npos);
  EXPECT_EQ(r.out.find(":0000"), std::string::npos);
}

TEST_F(FlowsCliTest, SamplesShowTheNatClientUnderItsPktSrcaddr) {
  const RunResult r = MoatOnSamples({"--json"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  json report = ParseJson(r);
  const json* f = FindFlow(report, "172.16.8.77", "10.0.3.12", 3306);
  ASSERT_NE(f, nullptr) << r.out;
  EXPECT_EQ(f->value("records", 0), 10);  // 5 minutes, both directions
  EXPECT_EQ(r.out.find("\"10.0.0.10\""), std::string::npos) << "the NAT gateway's own address is not a flow end";
}

TEST_F(FlowsCliTest, SamplesTextNamesEachDatabaseWithAcceptedAndRejectedCounts) {
  json report = ParseJson(MoatOnSamples({"--json"}));
  const RunResult r = MoatOnSamples({});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.err, "");
  for (const std::string db : {"10.0.2.45", "10.0.3.12", "2001:db8:0:2::45"}) {
    uint64_t accepted = 0, rejected = 0;
    for (const json& f : report["flows"]) {
      if (f.value("responder", "") != db) continue;
      (f.value("action", "") == "REJECT" ? rejected : accepted) += f.value("records", uint64_t{0});
    }
    EXPECT_GT(accepted, 0u) << db;
    // The database's block: from the line that starts with its address to the next blank line.
    const size_t at = r.out.find("\n" + db + " ");
    ASSERT_NE(at, std::string::npos) << db << " not named\n" << r.out;
    const std::string block = r.out.substr(at, r.out.find("\n\n", at + 1) - at);
    EXPECT_TRUE(std::regex_search(block, std::regex("accepted\\s+" + std::to_string(accepted) + "\\b")))
        << db << ": expected accepted " << accepted << "\n"
        << block;
    EXPECT_TRUE(std::regex_search(block, std::regex("rejected\\s+" + std::to_string(rejected) + "\\b")))
        << db << ": expected rejected " << rejected << "\n"
        << block;
  }
  EXPECT_EQ(r.out.find("0db8"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Sources: stdin, directories, explicitly named files, missing paths.

TEST_F(FlowsCliTest, StdinPlainAndGzipGiveTheSameFlowsAsTheFile) {
  const std::string text = Conversation("10.0.1.20", 3) + V2("198.51.100.23", "10.0.2.45", 50000, 22, "REJECT") + "\n";
  const std::string plain = Write("in.log", text);
  const std::string gz = Write("in.log.gz", Gzip(text));
  const RunResult from_file = Moat({"flows", "--json", "in.log"});
  ASSERT_EQ(from_file.exit_code, 0) << Describe(from_file);
  const json expected = ParseJson(from_file);
  ASSERT_EQ(expected["flows"].size(), 2u) << from_file.out;

  for (const std::string& input : {plain, gz}) {
    SCOPED_TRACE(input);
    RunOptions options;
    options.stdin_path = input;
    const RunResult r = Moat({"flows", "--json", "-"}, options);
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    json report = ParseJson(r);
    EXPECT_EQ(report["flows"], expected["flows"]);
    EXPECT_EQ(report["totals"]["files"], 1);
    for (const char* key : {"lines", "records", "nodata", "skipped"}) {
      EXPECT_EQ(report["totals"][key], expected["totals"][key]) << key;
    }
  }
}

// A tree with flow logs where moat must look and where it must not; each file has its own client.
void WriteTree(TempDir& dir) {
  dir.Write("tree/a.log", Conversation("10.0.7.1"));
  dir.Write("tree/sub/deeper/b.log.gz", Gzip(Conversation("10.0.7.2")));
  dir.Write("tree/sub/c.log", Conversation("10.0.7.3"));
  dir.Write("tree/moatish/g.log", Conversation("10.0.7.9"));  // only a directory named exactly moat is moat's
  dir.Write("tree/notes.txt", Conversation("10.0.7.4"));
  dir.Write("tree/d.log.bak", Conversation("10.0.7.5"));
  dir.Write("tree/e.gz", Gzip(Conversation("10.0.7.6")));
  dir.Write("tree/moat/state.log", Conversation("10.0.7.7"));
  dir.Write("tree/sub/moat/cache/f.log.gz", Gzip(Conversation("10.0.7.8")));  // not at the top: not moat's
}

TEST_F(FlowsCliTest, DirectoryIsReadRecursivelyTakingOnlyLogAndLogGzFiles) {
  WriteTree(dir_);
  const RunResult r = Moat({"flows", "--json", "tree"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  json report = ParseJson(r);
  EXPECT_EQ(report["totals"]["files"], 5) << r.out;
  EXPECT_EQ(report["totals"]["skipped"], 0) << r.out;
  const std::set<std::string> initiators = Initiators(report);
  for (const char* read : {"10.0.7.1", "10.0.7.2", "10.0.7.3", "10.0.7.8", "10.0.7.9"}) {
    EXPECT_EQ(initiators.count(read), 1u) << read;
  }
  for (const char* not_read : {"10.0.7.4", "10.0.7.5", "10.0.7.6"}) {
    EXPECT_EQ(initiators.count(not_read), 0u) << not_read << " comes from a file not named .log / .log.gz";
  }
}

TEST_F(FlowsCliTest, DirectoryLeavesOutTheMoatDirectoryAtItsTop) {
  WriteTree(dir_);
  const RunResult r = Moat({"flows", "--json", "tree"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const std::set<std::string> initiators = Initiators(ParseJson(r));
  EXPECT_EQ(initiators.count("10.0.7.7"), 0u) << "tree/moat/state.log was read";
  EXPECT_EQ(initiators.count("10.0.7.8"), 1u) << "tree/sub/moat/cache/f.log.gz was not read";
  // Listed itself, tree/sub is the top: its moat/ is left out.
  const RunResult sub = Moat({"flows", "--json", "tree/sub"});
  ASSERT_EQ(sub.exit_code, 0) << Describe(sub);
  EXPECT_EQ(Initiators(ParseJson(sub)), (std::set<std::string>{"10.0.7.2", "10.0.7.3"}));
}

TEST_F(FlowsCliTest, ExplicitlyNamedFileIsReadWhateverItsName) {
  WriteTree(dir_);
  const RunResult r = Moat({"flows", "--json", "tree/notes.txt", "tree/e.gz", "tree/moat/state.log"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  json report = ParseJson(r);
  EXPECT_EQ(report["totals"]["files"], 3);
  EXPECT_EQ(report["totals"]["skipped"], 0) << r.out;
  EXPECT_EQ(Initiators(report), (std::set<std::string>{"10.0.7.4", "10.0.7.6", "10.0.7.7"}));
}

TEST_F(FlowsCliTest, MissingPathIsCountedAsUnreadableAndNamed) {
  Write("good.log", Conversation("10.0.1.20"));
  const RunResult r = Moat({"flows", "--json", "good.log", "no/such/file.log.gz"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.err, "");
  json report = ParseJson(r);
  EXPECT_EQ(report["totals"]["files"], 2);
  EXPECT_EQ(report["totals"]["skipped"], 1);
  EXPECT_EQ(SkipCount(report, "unreadable"), 1u) << r.out;
  EXPECT_TRUE(SkipExample(report, "unreadable").starts_with("no/such/file.log.gz: ")) << r.out;
  EXPECT_NE(FindFlow(report, "10.0.1.20", "10.0.2.45", 5432), nullptr);
}

// ---------------------------------------------------------------------------------------------
// Bad input: every kind, each in a file of its own.

std::string GoodThen(const std::string& line) { return V2File({V2("10.0.1.20", "10.0.2.45", 40000, 5432), line}); }

std::string ManyRecords(int n) {
  std::vector<std::string> lines;
  for (int i = 0; i < n; ++i) lines.push_back(V2("10.0.1.20", "10.0.2.45", 40000 + i, 5432, "ACCEPT", kT0 + i));
  return V2File(lines);
}

std::string TruncatedGzip() {
  const std::string gz = Gzip(ManyRecords(400));
  return gz.substr(0, gz.size() / 2);
}

std::string CorruptGzip() {
  std::string gz = Gzip(ManyRecords(50));
  gz[10] = static_cast<char>(0xff);  // first deflate block: BFINAL=1, reserved block type 3
  return gz;
}

std::string Binary() {
  std::string b = {'\x7f', 'E', 'L', 'F', '\x02', '\x01', '\x01'};  // an ELF header's start
  b += std::string(64, '\0');
  for (int i = 0; i < 512; ++i) b += static_cast<char>(i * 37);
  return b;
}

std::string TooLongLine() {
  return GoodThen(std::string(10 << 20, '7')) + V2("10.0.9.4", "10.0.2.45", 40001, 5432) + "\n";
}

struct BadFile {
  const char* test_name;
  const char* file;
  std::string (*content)();
  const char* reason;
  const char* example;  // what follows the file's path in the example
  bool exact;           // else `example` is a prefix
};

const BadFile kBadFiles[] = {
    {"TruncatedGzip", "truncated.log.gz", TruncatedGzip, "corrupt-gzip", ": ", false},
    {"CorruptGzipBytes", "corrupt.log.gz", CorruptGzip, "corrupt-gzip", ": ", false},
    {"BinaryFile", "binary.log", Binary, "not-text", ": ", false},
    {"EmptyFile", "empty.log", [] { return std::string(); }, "no-header", ": ", false},
    {"NoHeader", "noheader.log", [] { return V2("10.0.1.20", "10.0.2.45", 40000, 5432) + "\n"; }, "no-header",
     ":1: ", false},
    {"TooFewFields", "fewfields.log",
     [] { return GoodThen("2 123456789012 eni-0123456789abcdef0 10.0.1.20 10.0.2.45 40000 5432 6 10 840 1 2 ACCEPT"); },
     "bad-field-count", ":3: ", false},
    {"TooManyFields", "manyfields.log", [] { return GoodThen(V2("10.0.1.20", "10.0.2.45", 40000, 5432) + " extra"); },
     "bad-field-count", ":3: ", false},
    {"NonNumericPort", "port.log",
     [] { return GoodThen("2 123456789012 eni-0123456789abcdef0 10.0.1.20 10.0.2.45 40000 x 6 10 840 1 2 ACCEPT OK"); },
     "bad-port", ":3: field 'dstport': not an integer \"x\"", true},
    {"InvalidAddress", "address.log", [] { return GoodThen(V2("10.0.1.300", "10.0.2.45", 40000, 5432)); },
     "bad-address", ":3: field 'srcaddr': ", false},
    {"NonNumericPacketCount", "packets.log",
     [] {
       return GoodThen("2 123456789012 eni-0123456789abcdef0 10.0.1.20 10.0.2.45 40000 5432 6 ten 840 1 2 ACCEPT OK");
     },
     "bad-number", ":3: field 'packets': ", false},
    {"UnknownAction", "action.log", [] { return GoodThen(V2("10.0.1.20", "10.0.2.45", 40000, 5432, "MAYBE")); },
     "bad-value", ":3: field 'action': ", false},
    {"TenMegabyteLine", "longline.log", TooLongLine, "line-too-long", ":3: ", false},
    {"HeaderLacksDstportAndProtocol", "missing.log",
     [] {
       return std::string(
           "version account-id interface-id srcaddr dstaddr srcport packets bytes start end action "
           "log-status\n2 123456789012 eni-0123456789abcdef0 10.0.1.20 10.0.2.45 40000 10 840 1 2 "
           "ACCEPT OK\n");
     },
     "missing-fields", ":1: ", false},
};

void ExpectExample(const json& report, const BadFile& bad, const std::string& path) {
  const std::string example = SkipExample(report, bad.reason);
  const std::string expected = path + bad.example;
  if (bad.exact) {
    EXPECT_EQ(example, expected) << bad.reason;
  } else {
    EXPECT_TRUE(example.starts_with(expected))
        << bad.reason << ": example '" << example << "' should start with '" << expected << "'";
  }
}

class BadInputTest : public FlowsCliTest, public ::testing::WithParamInterface<BadFile> {};

TEST_P(BadInputTest, IsSkippedWithItsReasonAndAnExampleNamingFileAndLine) {
  const BadFile& bad = GetParam();
  Write("good.log", Conversation("10.0.1.21"));
  Write(bad.file, bad.content());
  const RunResult r = Moat({"flows", "--json", "good.log", bad.file});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);  // the good file was read
  EXPECT_EQ(r.err, "");
  json report = ParseJson(r);
  EXPECT_EQ(report["totals"]["files"], 2);
  EXPECT_EQ(report["totals"]["skipped"], 1) << r.out;
  EXPECT_EQ(SkipCount(report, bad.reason), 1u) << r.out;
  ExpectExample(report, bad, bad.file);
  EXPECT_NE(FindFlow(report, "10.0.1.21", "10.0.2.45", 5432), nullptr) << r.out;
}

INSTANTIATE_TEST_SUITE_P(EachKind, BadInputTest, ::testing::ValuesIn(kBadFiles),
                         [](const ::testing::TestParamInfo<BadFile>& info) { return info.param.test_name; });

TEST_F(FlowsCliTest, EveryKindOfBadInputInOneDirectoryIsCountedByReasonAndExitsZero) {
  Write("in/good.log", Conversation("10.0.1.21"));
  std::map<std::string, uint64_t> expected_counts;
  std::map<std::string, const BadFile*> first;  // the example comes from the first file in name order
  for (const BadFile& bad : kBadFiles) {
    Write(std::string("in/") + bad.file, bad.content());
    ++expected_counts[bad.reason];
    const BadFile*& f = first[bad.reason];
    if (f == nullptr || std::string(bad.file) < f->file) f = &bad;
  }
  const RunResult r = Moat({"flows", "--json", "in"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.err, "");
  json report = ParseJson(r);
  EXPECT_EQ(report["totals"]["files"], std::size(kBadFiles) + 1);
  uint64_t total = 0;
  for (const auto& [reason, count] : expected_counts) {
    EXPECT_EQ(SkipCount(report, reason), count) << reason << "\n" << r.out;
    ExpectExample(report, *first[reason], std::string("in/") + first[reason]->file);
    total += count;
  }
  EXPECT_EQ(report["totals"]["skipped"], total) << r.out;
  EXPECT_EQ(report["skipped"].size(), expected_counts.size()) << "unexpected reasons: " << report["skipped"].dump();
  EXPECT_NE(FindFlow(report, "10.0.1.21", "10.0.2.45", 5432), nullptr);
}

TEST_F(FlowsCliTest, RecordAfterATooLongLineIsStillRead) {
  Write("longline.log", TooLongLine());
  const RunResult r = Moat({"flows", "--json", "longline.log"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  json report = ParseJson(r);
  EXPECT_EQ(report["totals"]["records"], 2) << r.out;
  EXPECT_EQ(SkipCount(report, "line-too-long"), 1u);
  EXPECT_TRUE(SkipExample(report, "line-too-long").starts_with("longline.log:3: ")) << r.out;
  const json* after = FindFlow(report, "10.0.9.4", "10.0.2.45", 5432);
  ASSERT_NE(after, nullptr) << "line 4 was lost\n" << r.out;
}

TEST_F(FlowsCliTest, UnknownHeaderFieldIsAWarningNotASkip) {
  const std::string text = std::string(kV2Header) + " color\n" + V2("10.0.1.20", "10.0.2.45", 40000, 5432) + " blue\n" +
                           V2("10.0.2.45", "10.0.1.20", 5432, 40000) + " green\n";
  Write("extra.log", text);
  const RunResult r = Moat({"flows", "--json", "extra.log"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  json report = ParseJson(r);
  EXPECT_EQ(report["totals"]["records"], 2) << r.out;
  EXPECT_EQ(report["totals"]["skipped"], 0) << r.out;
  EXPECT_TRUE(report["skipped"].empty()) << r.out;
  const json* f = FindFlow(report, "10.0.1.20", "10.0.2.45", 5432);
  ASSERT_NE(f, nullptr) << r.out;
  EXPECT_EQ(f->value("records", 0), 2);
  ASSERT_TRUE(report.contains("warnings") && report["warnings"].is_array()) << r.out;
  ASSERT_EQ(report["warnings"].size(), 1u) << r.out;
  const std::string warning = report["warnings"][0];
  EXPECT_TRUE(warning.starts_with("extra.log")) << warning;
  EXPECT_NE(warning.find("color"), std::string::npos) << warning;
}

// Complete lines in what zlib can inflate of a cut gzip member, header excluded.
uint64_t DecodableRecords(const std::string& cut_gzip) {
  z_stream z{};
  inflateInit2(&z, 15 + 16);
  std::string text(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(cut_gzip.data()));
  z.avail_in = static_cast<uInt>(cut_gzip.size());
  z.next_out = reinterpret_cast<Bytef*>(text.data());
  z.avail_out = static_cast<uInt>(text.size());
  inflate(&z, Z_SYNC_FLUSH);
  text.resize(z.total_out);
  inflateEnd(&z);
  const auto lines = static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n'));
  return lines == 0 ? 0 : lines - 1;
}

// A cut gzip file keeps the complete lines inflated before the cut (reader.h: "abandoned with
// the lines read so far kept"), even when the whole file fits in one reading window.
TEST_F(FlowsCliTest, TruncatedGzipKeepsTheRecordsBeforeTheCut) {
  const std::string gz = Gzip(ManyRecords(400));
  const std::string cut = gz.substr(0, gz.size() / 2);
  const uint64_t decodable = DecodableRecords(cut);
  ASSERT_GT(decodable, 100u);
  Write("truncated.log.gz", cut);
  const RunResult r = Moat({"flows", "--json", "truncated.log.gz"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  json report = ParseJson(r);
  EXPECT_EQ(SkipCount(report, "corrupt-gzip"), 1u) << r.out;
  EXPECT_GT(report["totals"]["records"].get<uint64_t>(), 0u) << "expected about " << decodable << " records\n" << r.out;
  EXPECT_LE(report["totals"]["records"].get<uint64_t>(), decodable) << r.out;
}

// DESIGN.md §8: an unknown header field gives a warning once per file, even when the header
// repeats inside it (as `cat a.gz b.gz` makes).
TEST_F(FlowsCliTest, UnknownHeaderFieldIsWarnedOncePerFileEvenWhenTheHeaderRepeats) {
  const std::string part = std::string(kV2Header) + " color\n" + V2("10.0.1.20", "10.0.2.45", 40000, 5432) + " blue\n";
  Write("twice.log.gz", Gzip(part) + Gzip(part));
  const RunResult r = Moat({"flows", "--json", "twice.log.gz"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  json report = ParseJson(r);
  EXPECT_EQ(report["totals"]["records"], 2) << r.out;
  EXPECT_EQ(report["warnings"].size(), 1u) << report["warnings"].dump();
}

TEST_F(FlowsCliTest, MultiMemberGzipIsReadCompletely) {
  std::vector<std::string> lines;
  for (int i = 0; i < 100; ++i) {
    lines.push_back(V2(i < 50 ? "10.0.1.20" : "10.0.1.21", "10.0.2.45", 40000 + i, 5432, "ACCEPT", kT0 + i));
  }
  const std::string text = V2File(lines);
  const size_t cut = text.size() * 3 / 4 + 7;  // inside a line of the second client
  Write("multi.log.gz", Gzip(text.substr(0, cut)) + Gzip(text.substr(cut)));
  const RunResult r = Moat({"flows", "--json", "multi.log.gz"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  json report = ParseJson(r);
  EXPECT_EQ(report["totals"]["lines"], 100) << r.out;
  EXPECT_EQ(report["totals"]["records"], 100) << r.out;
  EXPECT_EQ(report["totals"]["skipped"], 0) << r.out;
  const json* first = FindFlow(report, "10.0.1.20", "10.0.2.45", 5432);
  const json* second = FindFlow(report, "10.0.1.21", "10.0.2.45", 5432);
  ASSERT_TRUE(first != nullptr && second != nullptr) << r.out;
  EXPECT_EQ(first->value("records", 0), 50);
  EXPECT_EQ(second->value("records", 0), 50);
}

TEST_F(FlowsCliTest, NothingReadableExitsOneWithOneLineError) {
  Write("bad/binary.log", Binary());
  Write("bad/empty.log", "");
  Write("bad/noheader.log", V2("10.0.1.20", "10.0.2.45", 40000, 5432) + "\n");
  Write("bad/missing.log", "srcaddr dstaddr\n10.0.1.20 10.0.2.45\n");
  const RunResult r = Moat({"flows", "--json", "bad"});
  ExpectOneLineError(r, "moat: flows: ");
  json report = ParseJson(r);  // the report is still printed
  EXPECT_EQ(report["totals"]["files"], 4);
  EXPECT_EQ(report["totals"]["skipped"], 4);
  EXPECT_EQ(SkipCount(report, "not-text"), 1u);
  EXPECT_EQ(SkipCount(report, "no-header"), 2u);
  EXPECT_EQ(SkipCount(report, "missing-fields"), 1u);
}

TEST_F(FlowsCliTest, OnlyAMissingPathExitsOneWithOneLineError) {
  const RunResult r = Moat({"flows", "nothere.log"});
  ExpectOneLineError(r, "moat: flows: ");
  EXPECT_NE(r.out.find("unreadable"), std::string::npos) << Describe(r);
  EXPECT_NE(r.out.find("nothere.log"), std::string::npos) << Describe(r);
}

TEST_F(FlowsCliTest, FirstAndLastAreNullWhenTheFormatHasNoTimes) {
  Write("notimes.log", "srcaddr dstaddr srcport dstport protocol action\n10.0.1.20 10.0.2.45 40000 5432 6 ACCEPT\n");
  const RunResult r = Moat({"flows", "--json", "notimes.log"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  json report = ParseJson(r);
  const json* f = FindFlow(report, "10.0.1.20", "10.0.2.45", 5432);
  ASSERT_NE(f, nullptr) << r.out;
  EXPECT_TRUE(f->at("first").is_null()) << f->dump();
  EXPECT_TRUE(f->at("last").is_null()) << f->dump();
}

// ---------------------------------------------------------------------------------------------
// Threads and initiator inference.

TEST_F(FlowsCliTest, OneAndTwoThreadsGiveIdenticalJson) {
  for (int i = 0; i < 8; ++i) {
    std::vector<std::string> lines;
    for (int j = 0; j < 40; ++j) {
      const std::string client = "10.0.1." + std::to_string(20 + (i * 7 + j) % 9);
      lines.push_back(V2(client, "10.0.2.45", 40000 + j, 5432, j % 11 == 0 ? "REJECT" : "ACCEPT", kT0 + 60 * i + j));
      lines.push_back(V2("10.0.2.45", client, 5432, 40000 + j, "ACCEPT", kT0 + 60 * i + j));
    }
    if (i == 2 || i == 5) {  // a bad port in two files: the example is the first one's
      lines.push_back("2 1 eni-1 10.0.1.20 10.0.2.45 40000 x" + std::to_string(i) + " 6 1 1 1 2 ACCEPT OK");
    }
    const std::string text = V2File(lines);
    const std::string name = "many/part" + std::to_string(i) + ".log";
    Write(i % 2 == 0 ? name + ".gz" : name, i % 2 == 0 ? Gzip(text) : text);
  }
  const RunResult one = Moat({"flows", "--json", "--threads", "1", "many"});
  const RunResult two = Moat({"flows", "--json", "--threads", "2", "many"});
  ASSERT_EQ(one.exit_code, 0) << Describe(one);
  ASSERT_EQ(two.exit_code, 0) << Describe(two);
  EXPECT_EQ(one.out, two.out);
  json report = ParseJson(one);
  EXPECT_EQ(report["totals"]["files"], 8);
  EXPECT_EQ(SkipCount(report, "bad-port"), 2u);
  EXPECT_EQ(SkipExample(report, "bad-port"), "many/part2.log.gz:82: field 'dstport': not an integer \"x2\"");
}

// A v3 format with tcp-flags.
std::string FlagsRecord(const std::string& src, const std::string& dst, int sport, int dport, int flags) {
  return src + " " + dst + " " + std::to_string(sport) + " " + std::to_string(dport) + " 6 3 180 " +
         std::to_string(kT0) + " " + std::to_string(kT0 + 10) + " ACCEPT OK " + std::to_string(flags) + "\n";
}

constexpr char kFlagsHeader[] =
    "srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status tcp-flags\n";

TEST_F(FlowsCliTest, SynFlagMarksTheSourceAsInitiatorEvenFromTheLowerPort) {
  Write("flags.log", std::string(kFlagsHeader) + FlagsRecord("10.0.6.1", "10.0.6.2", 80, 50000, 2) +
                         FlagsRecord("10.0.6.7", "10.0.6.8", 443, 50002, 3) +
                         FlagsRecord("10.0.6.5", "10.0.6.6", 80, 50000, 0));  // control: no flags
  const RunResult r = Moat({"flows", "--json", "flags.log"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  json report = ParseJson(r);
  EXPECT_NE(FindFlow(report, "10.0.6.1", "10.0.6.2", 50000), nullptr) << "SYN (2)\n" << r.out;
  EXPECT_NE(FindFlow(report, "10.0.6.7", "10.0.6.8", 50002), nullptr) << "SYN|FIN (3)\n" << r.out;
  EXPECT_NE(FindFlow(report, "10.0.6.6", "10.0.6.5", 80), nullptr) << "no flags: port 80 responds\n" << r.out;
}

TEST_F(FlowsCliTest, SynAckFlagMarksTheSourceAsResponder) {
  Write("flags.log", std::string(kFlagsHeader) + FlagsRecord("10.0.6.3", "10.0.6.4", 50001, 443, 18) +
                         FlagsRecord("10.0.6.9", "10.0.6.10", 50003, 22, 19));
  const RunResult r = Moat({"flows", "--json", "flags.log"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  json report = ParseJson(r);
  EXPECT_NE(FindFlow(report, "10.0.6.4", "10.0.6.3", 50001), nullptr) << "SYN-ACK (18)\n" << r.out;
  EXPECT_NE(FindFlow(report, "10.0.6.10", "10.0.6.9", 50003), nullptr) << "SYN-ACK|FIN (19)\n" << r.out;
}

// ---------------------------------------------------------------------------------------------
// Environment.

// Ports 40000 and 30000: without a service port the lower one, 30000, responds.
std::string ServicePortCase() { return V2File({V2("10.0.5.1", "10.0.5.2", 40000, 30000)}); }

TEST_F(FlowsCliTest, ServicePortFromTheEnvironmentChangesTheResponder) {
  Write("svc.log", ServicePortCase());
  const RunResult plain = Moat({"flows", "--json", "svc.log"});
  ASSERT_EQ(plain.exit_code, 0) << Describe(plain);
  EXPECT_NE(FindFlow(ParseJson(plain), "10.0.5.1", "10.0.5.2", 30000), nullptr) << plain.out;

  RunOptions options;
  options.env = {{"MOAT_SERVICE_PORT", "40000"}};
  const RunResult env = Moat({"flows", "--json", "svc.log"}, options);
  ASSERT_EQ(env.exit_code, 0) << Describe(env);
  EXPECT_NE(FindFlow(ParseJson(env), "10.0.5.2", "10.0.5.1", 40000), nullptr) << env.out;

  const RunResult flag = Moat({"flows", "--json", "--service-port", "40000", "svc.log"});
  ASSERT_EQ(flag.exit_code, 0) << Describe(flag);
  EXPECT_EQ(flag.out, env.out);
}

// MOAT_JSON is a boolean: true|false|1|0 (DESIGN.md §8). An earlier moat passed it on as
// `--json <value>`, so the value became one more source; these tests keep that from coming back.
TEST_F(FlowsCliTest, JsonFromTheEnvironmentTruePrintsJson) {
  Write("one.log", Conversation("10.0.1.20"));
  RunOptions options;
  options.env = {{"MOAT_JSON", "true"}};
  const RunResult r = Moat({"flows", "one.log"}, options);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.err, "");
  json report = ParseJson(r);
  EXPECT_EQ(report["totals"]["files"], 1) << r.out;
  EXPECT_EQ(report["totals"]["skipped"], 0) << r.out;
  EXPECT_NE(FindFlow(report, "10.0.1.20", "10.0.2.45", 5432), nullptr);
}

TEST_F(FlowsCliTest, JsonFromTheEnvironmentFalsePrintsText) {
  Write("one.log", Conversation("10.0.1.20"));
  RunOptions options;
  options.env = {{"MOAT_JSON", "false"}};
  const RunResult r = Moat({"flows", "one.log"}, options);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_FALSE(r.out.starts_with("{")) << Describe(r);
  EXPECT_NE(r.out.find("10.0.2.45"), std::string::npos) << Describe(r);
  EXPECT_EQ(r.out.find("unreadable"), std::string::npos) << Describe(r);
}

TEST_F(FlowsCliTest, JsonFromTheEnvironmentInvalidIsAOneLineError) {
  Write("one.log", Conversation("10.0.1.20"));
  RunOptions options;
  options.env = {{"MOAT_JSON", "maybe"}};
  const RunResult r = Moat({"flows", "one.log"}, options);
  ExpectOneLineError(r, "moat: flows: ");
  EXPECT_NE(r.err.find("MOAT_JSON"), std::string::npos) << Describe(r);
}

// ---------------------------------------------------------------------------------------------
// The command table.

TEST_F(FlowsCliTest, HelpListsEveryCommand) {
  const RunResult r = Moat({"help"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.err, "");
  for (const std::string command : {"flows", "policy", "plan", "apply", "map", "pce", "lambda", "watch"}) {
    EXPECT_TRUE(std::regex_search(r.out, std::regex("(^|\n)\\s+" + command + "\\s"))) << command << "\n" << r.out;
  }
}

TEST_F(FlowsCliTest, VersionPrintsMoatAndTheVersion) {
  const RunResult r = Moat({"--version"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "moat " MOAT_EXPECTED_VERSION "\n");
  EXPECT_EQ(r.err, "");
}

TEST_F(FlowsCliTest, UnknownCommandExitsOneWithOneLineError) {
  const RunResult r = Moat({"frobnicate"});
  ExpectOneLineError(r, "moat: ");
  EXPECT_EQ(r.out, "");
}

TEST_F(FlowsCliTest, FlowsWithoutSourceExitsOneWithOneLineError) {
  const RunResult r = Moat({"flows"});
  ExpectOneLineError(r, "moat: flows: ");
  EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace moat::integration
