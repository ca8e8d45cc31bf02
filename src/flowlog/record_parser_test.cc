#include "flowlog/record_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace moat::flowlog {
namespace {

constexpr const char* kV2 =
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action "
    "log-status";

struct Parsed {
  LineKind kind;
  Record record;
  SkipReason reason;
  std::string message;
};

Parsed ParseWith(const std::string& header_line, const std::string& line) {
  Header h = ParseHeader(header_line);
  RecordParser p(h);
  Parsed out{};
  out.kind = p.Parse(line, &out.record);
  if (out.kind == LineKind::kSkipped) {
    out.reason = p.reason();
    out.message = p.Message();
  }
  return out;
}

Parsed ParseV2(const std::string& line) { return ParseWith(kV2, line); }

std::string Addr(const net::Address& a) { return net::ToString(a); }

TEST(RecordParserTest, ParsesDefaultFormatRecord) {
  auto p = ParseV2("2 123456789012 eni-0a1b 10.1.0.17 10.0.2.45 49152 5432 6 10 840 1714521600 1714521660 ACCEPT OK");
  ASSERT_EQ(p.kind, LineKind::kRecord);
  EXPECT_EQ(Addr(p.record.src), "10.1.0.17");
  EXPECT_EQ(Addr(p.record.dst), "10.0.2.45");
  EXPECT_EQ(p.record.src_port, 49152);
  EXPECT_EQ(p.record.dst_port, 5432);
  EXPECT_EQ(p.record.protocol, 6);
  EXPECT_EQ(p.record.packets, 10u);
  EXPECT_EQ(p.record.bytes, 840u);
  EXPECT_EQ(p.record.start, 1714521600);
  EXPECT_EQ(p.record.end, 1714521660);
  EXPECT_EQ(p.record.action, Action::kAccept);
  EXPECT_EQ(p.record.tcp_flags, kNoFlags);
}

TEST(RecordParserTest, ParsesByHeaderNotByPosition) {
  auto p =
      ParseWith("action dstport srcport protocol dstaddr srcaddr bytes", "REJECT 5432 40000 17 10.0.2.45 10.1.0.17 99");
  ASSERT_EQ(p.kind, LineKind::kRecord);
  EXPECT_EQ(Addr(p.record.src), "10.1.0.17");
  EXPECT_EQ(p.record.dst_port, 5432);
  EXPECT_EQ(p.record.src_port, 40000);
  EXPECT_EQ(p.record.protocol, 17);
  EXPECT_EQ(p.record.bytes, 99u);
  EXPECT_EQ(p.record.action, Action::kReject);
  EXPECT_EQ(p.record.start, kNoTime);  // no time fields in this format
}

TEST(RecordParserTest, DashMeansAbsent) {
  auto p = ParseV2("2 123456789012 eni-0a1b 10.1.0.17 10.0.2.45 49152 5432 6 - - - - - OK");
  ASSERT_EQ(p.kind, LineKind::kRecord);
  EXPECT_EQ(p.record.packets, 0u);
  EXPECT_EQ(p.record.start, kNoTime);
  EXPECT_EQ(p.record.end, kNoTime);
  EXPECT_EQ(p.record.action, Action::kNone);
}

TEST(RecordParserTest, NoDataAndSkipDataAreClassifiedNotSkipped) {
  EXPECT_EQ(ParseV2("2 123456789012 eni-0a1b - - - - - - - 1714521600 1714521660 - NODATA").kind, LineKind::kNoData);
  EXPECT_EQ(ParseV2("2 123456789012 eni-0a1b - - - - - - - 1714521600 1714521660 - SKIPDATA").kind,
            LineKind::kSkipData);
  // Without a log-status column, a record with no flow fields at all is a no-data record too.
  EXPECT_EQ(ParseWith("srcaddr dstaddr srcport dstport protocol", "- - - - -").kind, LineKind::kNoData);
}

TEST(RecordParserTest, MalformedPortIsSkippedWithFieldAndValue) {
  auto p = ParseV2("2 123456789012 eni-0a1b 10.1.0.17 10.0.2.45 49152 x 6 10 840 1714521600 1714521660 ACCEPT OK");
  ASSERT_EQ(p.kind, LineKind::kSkipped);
  EXPECT_EQ(p.reason, SkipReason::kBadPort);
  EXPECT_EQ(p.message, "field 'dstport': not an integer \"x\"");
}

TEST(RecordParserTest, PortAbove65535IsBadPort) {
  auto p = ParseV2("2 1 eni-1 10.1.0.17 10.0.2.45 65536 5432 6 10 840 1 2 ACCEPT OK");
  EXPECT_EQ(p.reason, SkipReason::kBadPort);
  EXPECT_EQ(p.message, "field 'srcport': out of range 0-65535 \"65536\"");
}

TEST(RecordParserTest, InvalidAddressIsBadAddress) {
  for (const char* addr : {"10.0.2.256", "10.0.2", "10.0.02.1", "not-an-ip", "2001:db8::g", "1.2.3.4.5"}) {
    auto p = ParseV2(std::string("2 1 eni-1 ") + addr + " 10.0.2.45 49152 5432 6 10 840 1 2 ACCEPT OK");
    ASSERT_EQ(p.kind, LineKind::kSkipped) << addr;
    EXPECT_EQ(p.reason, SkipReason::kBadAddress) << addr;
    EXPECT_EQ(p.message, std::string("field 'srcaddr': not an IP address \"") + addr + "\"");
  }
}

TEST(RecordParserTest, NonNumericCountsAreBadNumber) {
  auto p = ParseV2("2 1 eni-1 10.1.0.17 10.0.2.45 49152 5432 6 ten 840 1 2 ACCEPT OK");
  EXPECT_EQ(p.reason, SkipReason::kBadNumber);
  EXPECT_EQ(p.message, "field 'packets': not an integer \"ten\"");
  EXPECT_EQ(ParseV2("2 1 eni-1 10.1.0.17 10.0.2.45 49152 5432 6 1 -5 1 2 ACCEPT OK").reason, SkipReason::kBadNumber);
  EXPECT_EQ(ParseV2("2 1 eni-1 10.1.0.17 10.0.2.45 49152 5432 6 1 99999999999999999999999 1 2 ACCEPT OK").reason,
            SkipReason::kBadNumber);
}

TEST(RecordParserTest, LargestCountsParse) {
  auto p = ParseV2(
      "2 1 eni-1 10.1.0.17 10.0.2.45 49152 5432 6 18446744073709551615 9223372036854775807 "
      "9223372036854775807 1 ACCEPT OK");
  ASSERT_EQ(p.kind, LineKind::kRecord);
  EXPECT_EQ(p.record.packets, 18446744073709551615u);
  EXPECT_EQ(p.record.start, 9223372036854775807);
}

TEST(RecordParserTest, UnknownActionOrStatusIsBadValue) {
  auto p = ParseV2("2 1 eni-1 10.1.0.17 10.0.2.45 49152 5432 6 1 1 1 2 ALLOW OK");
  EXPECT_EQ(p.reason, SkipReason::kBadValue);
  EXPECT_EQ(p.message, "field 'action': not ACCEPT, REJECT or - \"ALLOW\"");
  EXPECT_EQ(ParseV2("2 1 eni-1 10.1.0.17 10.0.2.45 49152 5432 6 1 1 1 2 ACCEPT MAYBE").reason, SkipReason::kBadValue);
  EXPECT_EQ(ParseV2("2 1 eni-1 10.1.0.17 10.0.2.45 49152 5432 300 1 1 1 2 ACCEPT OK").reason, SkipReason::kBadValue);
}

TEST(RecordParserTest, WrongFieldCountSaysHowMany) {
  auto few = ParseV2("2 1 eni-1 10.1.0.17 10.0.2.45 49152 5432 6 1 1 1 2 ACCEPT");
  EXPECT_EQ(few.reason, SkipReason::kBadFieldCount);
  EXPECT_EQ(few.message, "expected 14 fields, found 13");
  auto many = ParseV2("2 1 eni-1 10.1.0.17 10.0.2.45 49152 5432 6 1 1 1 2 ACCEPT OK extra");
  EXPECT_EQ(many.reason, SkipReason::kBadFieldCount);
  EXPECT_EQ(many.message, "expected 14 fields, found 15");
}

TEST(RecordParserTest, AbsentAddressInDataRecordIsBadAddress) {
  auto p = ParseV2("2 1 eni-1 - 10.0.2.45 49152 5432 6 1 1 1 2 ACCEPT OK");
  EXPECT_EQ(p.reason, SkipReason::kBadAddress);
  EXPECT_EQ(p.message, "field 'srcaddr': absent in a record with data \"-\"");
}

TEST(RecordParserTest, ParsesIPv6) {
  auto p = ParseV2("2 1 eni-1 2001:db8::10 2001:DB8:0:0:0:0:0:2d 49152 5432 6 1 1 1 2 ACCEPT OK");
  ASSERT_EQ(p.kind, LineKind::kRecord);
  EXPECT_EQ(Addr(p.record.src), "2001:db8::10");
  EXPECT_EQ(Addr(p.record.dst), "2001:db8::2d");
}

TEST(RecordParserTest, PacketAddressesWinOverInterfaceAddresses) {
  const std::string h = "srcaddr dstaddr pkt-srcaddr pkt-dstaddr srcport dstport protocol tcp-flags flow-direction";
  auto p = ParseWith(h, "10.0.9.9 10.0.2.45 10.1.0.17 - 40000 5432 6 2 ingress");
  ASSERT_EQ(p.kind, LineKind::kRecord);
  EXPECT_EQ(Addr(p.record.src), "10.1.0.17");  // the NAT gateway's client, not the gateway
  EXPECT_EQ(Addr(p.record.dst), "10.0.2.45");  // '-' keeps dstaddr
  EXPECT_EQ(p.record.tcp_flags, 2);
  EXPECT_EQ(p.record.direction, Direction::kIngress);
  EXPECT_EQ(ParseWith(h, "10.0.9.9 10.0.2.45 - - 40000 5432 6 - sideways").reason, SkipReason::kBadValue);
}

TEST(RecordParserTest, RunsOfSpacesSeparateLikeOne) {
  auto p = ParseV2("2  1 eni-1   10.1.0.17 10.0.2.45 49152 5432 6 1 1 1 2 ACCEPT OK  ");
  EXPECT_EQ(p.kind, LineKind::kRecord);
}

TEST(RecordParserTest, LongLinesAcrossSimdChunksSplitExactly) {
  std::string header, line;
  for (int i = 0; i < 30; ++i) {
    header += "ecs-task-id ";
    line += std::string(static_cast<size_t>(i % 17 + 1), 'a') + " ";
  }
  header += "srcaddr dstaddr srcport dstport protocol";
  line += "10.1.0.17 10.0.2.45 1 2 6";
  auto p = ParseWith(header, line);
  ASSERT_EQ(p.kind, LineKind::kRecord) << p.message;
  EXPECT_EQ(p.record.protocol, 6);
}

TEST(RecordParserTest, TheInterfaceIdIsNumberedOnlyForASinkThatKeepsInterfaces) {
  const Header h = ParseHeader(kV2);
  const std::string a = "2 123456789012 eni-0a1b2c3d4e5f60718 10.1.0.17 10.0.2.45 49152 5432 6 1 1 1 2 ACCEPT OK";
  const std::string b = "2 123456789012 eni-7d3e0c91 10.1.0.18 10.0.2.45 49152 5432 6 1 1 1 2 ACCEPT OK";
  Record r;
  RecordParser plain(h);
  ASSERT_EQ(plain.Parse(a, &r), LineKind::kRecord);
  EXPECT_EQ(r.interface, 0u);

  InterfaceNames names;
  RecordParser keeping(h, &names);
  ASSERT_EQ(keeping.Parse(a, &r), LineKind::kRecord);
  EXPECT_EQ(r.interface, 1u);
  ASSERT_EQ(keeping.Parse(b, &r), LineKind::kRecord);
  EXPECT_EQ(r.interface, 2u);
  ASSERT_EQ(keeping.Parse(a, &r), LineKind::kRecord);
  EXPECT_EQ(r.interface, 1u);
  EXPECT_EQ(names.names(), (std::vector<std::string>{"", "eni-0a1b2c3d4e5f60718", "eni-7d3e0c91"}));
  // A second file's parser numbers into the same names.
  RecordParser next(h, &names);
  ASSERT_EQ(next.Parse(b, &r), LineKind::kRecord);
  EXPECT_EQ(r.interface, 2u);
}

TEST(RecordParserTest, AnInterfaceIdThatIsNotOneIsNoInterfaceAndTheRecordIsKept) {
  const Header h = ParseHeader(kV2);
  InterfaceNames names;
  RecordParser p(h, &names);
  for (const char* id :
       {"-", "eni-", "eni-0A1B", "eni-0a1g", "tgw-attach-0a1b", "eni-0123456789abcdef0123456789abcdef0"}) {
    Record r;
    const std::string line =
        std::string("2 123456789012 ") + id + " 10.1.0.17 10.0.2.45 49152 5432 6 1 1 1 2 ACCEPT OK";
    ASSERT_EQ(p.Parse(line, &r), LineKind::kRecord) << id;
    EXPECT_EQ(r.interface, 0u) << id;
  }
  EXPECT_EQ(names.names().size(), 1u);
}

TEST(RecordParserTest, AFormatWithoutInterfaceIdKeepsNone) {
  const Header h = ParseHeader("srcaddr dstaddr srcport dstport protocol action");
  InterfaceNames names;
  RecordParser p(h, &names);
  Record r;
  ASSERT_EQ(p.Parse("10.1.0.17 10.0.2.45 49152 5432 6 ACCEPT", &r), LineKind::kRecord);
  EXPECT_EQ(r.interface, 0u);
}

}  // namespace
}  // namespace moat::flowlog
