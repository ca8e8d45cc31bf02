#include "traffic/flow_table.h"

#include <gtest/gtest.h>

namespace moat::traffic {
namespace {

flowlog::Record Rec(const char* src, uint16_t sport, const char* dst, uint16_t dport,
                    flowlog::Action action = flowlog::Action::kAccept, uint64_t bytes = 100, int64_t start = 1000,
                    int64_t end = 1060) {
  flowlog::Record r;
  r.src = *net::ParseAddress(src);
  r.dst = *net::ParseAddress(dst);
  r.src_port = sport;
  r.dst_port = dport;
  r.protocol = 6;
  r.action = action;
  r.packets = 1;
  r.bytes = bytes;
  r.start = start;
  r.end = end;
  return r;
}

const ServicePorts& Ports() {
  static const ServicePorts ports;
  return ports;
}

TEST(FlowTableTest, BothDirectionsOfAConversationAggregateIntoOneFlow) {
  FlowTable t(Ports());
  t.Add(Rec("10.1.0.17", 49152, "10.0.2.45", 5432, flowlog::Action::kAccept, 100, 1000, 1060));
  t.Add(Rec("10.0.2.45", 5432, "10.1.0.17", 49152, flowlog::Action::kAccept, 300, 990, 1100));
  t.Add(Rec("10.1.0.17", 50000, "10.0.2.45", 5432, flowlog::Action::kAccept, 1, 1200, 1300));  // new client port
  ASSERT_EQ(t.size(), 1u);
  const Flow f = t.flows()[0];
  EXPECT_EQ(net::ToString(f.key.initiator), "10.1.0.17");
  EXPECT_EQ(net::ToString(f.key.responder), "10.0.2.45");
  EXPECT_EQ(f.key.port, 5432);
  EXPECT_EQ(f.counts.records, 3u);
  EXPECT_EQ(f.counts.packets, 3u);
  EXPECT_EQ(f.counts.bytes, 401u);
  EXPECT_EQ(f.counts.first, 990);
  EXPECT_EQ(f.counts.last, 1300);
}

TEST(FlowTableTest, ActionIsPartOfTheKey) {
  FlowTable t(Ports());
  t.Add(Rec("10.1.0.17", 49152, "10.0.2.45", 5432, flowlog::Action::kAccept));
  t.Add(Rec("10.1.0.17", 49152, "10.0.2.45", 5432, flowlog::Action::kReject));
  EXPECT_EQ(t.size(), 2u);
}

TEST(FlowTableTest, RecordsWithoutTimesKeepFirstAndLastUnset) {
  FlowTable t(Ports());
  t.Add(Rec("10.1.0.17", 49152, "10.0.2.45", 5432, flowlog::Action::kAccept, 1, flowlog::kNoTime, flowlog::kNoTime));
  EXPECT_EQ(t.flows()[0].counts.first, flowlog::kNoTime);
  EXPECT_EQ(t.flows()[0].counts.last, flowlog::kNoTime);
  t.Add(Rec("10.1.0.17", 49152, "10.0.2.45", 5432, flowlog::Action::kAccept, 1, 5, 6));
  EXPECT_EQ(t.flows()[0].counts.first, 5);
  EXPECT_EQ(t.flows()[0].counts.last, 6);
}

TEST(FlowTableTest, GrowsWithoutLosingFlows) {
  FlowTable t(Ports());
  std::vector<flowlog::Record> batch;
  for (uint32_t i = 0; i < 100000; ++i) {
    flowlog::Record r = Rec("10.0.0.1", 40000, "10.0.2.45", 5432);
    r.src = net::Address::V4(0x0a000000 + i);
    batch.push_back(r);
  }
  t.AddBatch(batch);
  t.AddBatch(batch);
  ASSERT_EQ(t.size(), 100000u);
  for (const Flow& f : t.flows()) ASSERT_EQ(f.counts.records, 2u);
}

TEST(FlowTableTest, MergeEqualsReadingEverythingIntoOneTable) {
  FlowTable all(Ports()), a(Ports()), b(Ports());
  for (uint16_t i = 0; i < 500; ++i) {
    auto r = Rec("10.1.0.17", static_cast<uint16_t>(40000 + i), i % 2 ? "10.0.2.45" : "10.0.3.12", 5432,
                 flowlog::Action::kAccept, i, 1000 + i, 2000 + i);
    all.Add(r);
    (i % 3 ? a : b).Add(r);
  }
  a.Merge(b);
  auto x = all.Sorted(), y = a.Sorted();
  ASSERT_EQ(x.size(), y.size());
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(x[i].key, y[i].key);
    EXPECT_EQ(x[i].counts.bytes, y[i].counts.bytes);
    EXPECT_EQ(x[i].counts.first, y[i].counts.first);
    EXPECT_EQ(x[i].counts.last, y[i].counts.last);
  }
}

TEST(FlowTableTest, SortedByRecordsDescendingThenByKey) {
  FlowTable t(Ports());
  t.Add(Rec("10.1.0.9", 40000, "10.0.2.45", 5432));
  t.Add(Rec("10.1.0.10", 40000, "10.0.2.45", 5432));
  t.Add(Rec("10.1.0.10", 40000, "10.0.2.45", 5432));
  t.Add(Rec("10.1.0.8", 40000, "10.0.2.45", 5432));
  auto s = t.Sorted();
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(net::ToString(s[0].key.initiator), "10.1.0.10");
  EXPECT_EQ(net::ToString(s[1].key.initiator), "10.1.0.8");  // numerically, not as text
  EXPECT_EQ(net::ToString(s[2].key.initiator), "10.1.0.9");
}

TEST(FlowTableTest, ATableThatKeepsInterfacesKeepsAFlowOfTwoInterfacesApart) {
  FlowTable t(Ports(), true);
  ASSERT_NE(t.interfaces(), nullptr);
  const uint32_t client_side = t.interfaces()->Number("eni-0aaaaaaaaaaaaaaa1");
  const uint32_t database_side = t.interfaces()->Number("eni-0bbbbbbbbbbbbbbb2");
  flowlog::Record r = Rec("10.1.0.17", 49152, "10.0.2.45", 5432);
  r.interface = client_side;
  t.Add(r);
  t.Add(r);
  r.interface = database_side;
  t.Add(r);
  r = Rec("2001:db8::17", 49152, "2001:db8::45", 5432, flowlog::Action::kReject);
  r.interface = database_side;
  t.Add(r);
  std::vector<uint32_t> interface_of;
  const std::vector<Flow> flows = t.Sorted(&interface_of);
  ASSERT_EQ(flows.size(), 3u);
  ASSERT_EQ(interface_of.size(), 3u);
  EXPECT_EQ(flows[0].counts.records, 2u);
  EXPECT_EQ(t.interface_names()[interface_of[0]], "eni-0aaaaaaaaaaaaaaa1");
  EXPECT_EQ(flows[1].key, flows[0].key);
  EXPECT_EQ(t.interface_names()[interface_of[1]], "eni-0bbbbbbbbbbbbbbb2");
  // The key comes back whole beside the interface.
  EXPECT_EQ(net::ToString(flows[2].key.initiator), "2001:db8::17");
  EXPECT_EQ(net::ToString(flows[2].key.responder), "2001:db8::45");
  EXPECT_EQ(flows[2].key.action, flowlog::Action::kReject);
  EXPECT_EQ(flows[2].key.port, 5432);
  EXPECT_EQ(interface_of[2], database_side);
}

TEST(FlowTableTest, ATableThatDoesNotKeepInterfacesHasNoneToNumber) {
  FlowTable t(Ports());
  EXPECT_EQ(t.interfaces(), nullptr);
  t.Add(Rec("10.1.0.17", 49152, "10.0.2.45", 5432));
  std::vector<uint32_t> interface_of;
  t.Sorted(&interface_of);
  EXPECT_EQ(interface_of, std::vector<uint32_t>{0});
}

TEST(FlowTableTest, MergeMatchesInterfacesByNameNotByNumber) {
  FlowTable a(Ports(), true), b(Ports(), true);
  flowlog::Record r = Rec("10.1.0.17", 49152, "10.0.2.45", 5432);
  r.interface = a.interfaces()->Number("eni-0aaaaaaaaaaaaaaa1");  // 1 in a
  a.Add(r);
  b.interfaces()->Number("eni-0ccccccccccccccc3");
  r.interface = b.interfaces()->Number("eni-0aaaaaaaaaaaaaaa1");  // 2 in b
  b.Add(r);
  r.interface = 1;  // eni-0ccc... in b
  b.Add(r);
  a.Merge(b);
  std::vector<uint32_t> interface_of;
  const std::vector<Flow> flows = a.Sorted(&interface_of);
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows[0].counts.records, 2u);
  EXPECT_EQ(a.interface_names()[interface_of[0]], "eni-0aaaaaaaaaaaaaaa1");
  EXPECT_EQ(a.interface_names()[interface_of[1]], "eni-0ccccccccccccccc3");
}

}  // namespace
}  // namespace moat::traffic
