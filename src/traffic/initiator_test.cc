#include "traffic/initiator.h"

#include <gtest/gtest.h>

namespace moat::traffic {
namespace {

flowlog::Record Rec(const char* src, uint16_t sport, const char* dst, uint16_t dport, int flags = flowlog::kNoFlags,
                    uint8_t proto = 6) {
  flowlog::Record r;
  r.src = *net::ParseAddress(src);
  r.dst = *net::ParseAddress(dst);
  r.src_port = sport;
  r.dst_port = dport;
  r.tcp_flags = flags;
  r.protocol = proto;
  return r;
}

std::string Who(const FlowKey& k) {
  return net::ToString(k.initiator) + " -> " + net::ToString(k.responder) + ":" + std::to_string(k.port);
}

const ServicePorts& Default() {
  static const ServicePorts ports;
  return ports;
}

TEST(InitiatorTest, SynMarksTheSourceAsInitiatorWhateverThePorts) {
  // The client happens to use a lower port than the server.
  EXPECT_EQ(Who(KeyOf(Rec("10.1.0.17", 80, "10.0.2.45", 5432, 2), Default())), "10.1.0.17 -> 10.0.2.45:5432");
  EXPECT_EQ(Who(KeyOf(Rec("10.1.0.17", 80, "10.0.2.45", 5432, 3), Default())), "10.1.0.17 -> 10.0.2.45:5432");
}

TEST(InitiatorTest, SynAckMarksTheSourceAsResponder) {
  EXPECT_EQ(Who(KeyOf(Rec("10.0.2.45", 50000, "10.1.0.17", 443, 18), Default())), "10.1.0.17 -> 10.0.2.45:50000");
  EXPECT_EQ(Who(KeyOf(Rec("10.0.2.45", 50000, "10.1.0.17", 443, 19), Default())), "10.1.0.17 -> 10.0.2.45:50000");
}

TEST(InitiatorTest, WithoutFlagsAServicePortResponds) {
  // 443 is below 1024; 80 vs 60000 with the source on 443.
  EXPECT_EQ(Who(KeyOf(Rec("10.0.2.45", 443, "10.1.0.17", 60000), Default())), "10.1.0.17 -> 10.0.2.45:443");
  // Flags 0 (a pooled connection in a later window) fall back to ports as well.
  EXPECT_EQ(Who(KeyOf(Rec("10.1.0.17", 60000, "10.0.2.45", 443, 0), Default())), "10.1.0.17 -> 10.0.2.45:443");
}

TEST(InitiatorTest, ConfiguredServicePortWinsOverTheLowerPort) {
  const ServicePorts with_40000({40000});
  auto r = Rec("10.0.2.45", 40000, "10.1.0.17", 30000);
  EXPECT_EQ(Who(KeyOf(r, Default())), "10.0.2.45 -> 10.1.0.17:30000");  // lower port responds
  EXPECT_EQ(Who(KeyOf(r, with_40000)), "10.1.0.17 -> 10.0.2.45:40000");
}

TEST(InitiatorTest, BothServicePortsFallBackToTheLowerPort) {
  EXPECT_EQ(Who(KeyOf(Rec("10.0.0.1", 123, "10.0.0.2", 53, flowlog::kNoFlags, 17), Default())),
            "10.0.0.1 -> 10.0.0.2:53");
}

TEST(InitiatorTest, EqualPortsMakeTheDestinationTheResponder) {
  EXPECT_EQ(Who(KeyOf(Rec("10.0.0.1", 0, "10.0.0.2", 0, flowlog::kNoFlags, 1), Default())), "10.0.0.1 -> 10.0.0.2:0");
  EXPECT_EQ(Who(KeyOf(Rec("10.0.0.1", 7000, "10.0.0.2", 7000), Default())), "10.0.0.1 -> 10.0.0.2:7000");
}

TEST(InitiatorTest, FlagsCountOnlyForTcp) {
  // A UDP record cannot carry TCP flags meaningfully: ports decide.
  EXPECT_EQ(Who(KeyOf(Rec("10.0.0.1", 53, "10.0.0.2", 40000, 2, 17), Default())), "10.0.0.2 -> 10.0.0.1:53");
}

TEST(InitiatorTest, OtherFlagValuesFallBackToPorts) {
  // RST (4) or FIN (1) alone say nothing about who started the connection.
  EXPECT_EQ(Who(KeyOf(Rec("10.0.2.45", 5432, "10.1.0.17", 49152, 4), Default())), "10.1.0.17 -> 10.0.2.45:5432");
  EXPECT_EQ(Who(KeyOf(Rec("10.0.2.45", 5432, "10.1.0.17", 49152, 1), Default())), "10.1.0.17 -> 10.0.2.45:5432");
}

}  // namespace
}  // namespace moat::traffic
