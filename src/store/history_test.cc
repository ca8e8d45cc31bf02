#include "store/history.h"

#include <gtest/gtest.h>
#include <zlib.h>

namespace moat::store {
namespace {

std::string Gunzip(const std::string& gz) {
  z_stream z{};
  inflateInit2(&z, 15 + 16);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  std::string out;
  char buf[4096];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  }
  inflateEnd(&z);
  return out;
}

TEST(HistoryTest, GzipJsonLinesOfTotalsThenFlows) {
  traffic::FlowsReport r;
  r.stats.files = 1;
  r.stats.records = 3;
  for (int i = 0; i < 3000; ++i) {
    traffic::Flow f;
    f.key.initiator = net::Address::V4(0x0a000100 + static_cast<uint32_t>(i));
    f.key.responder = *net::ParseAddress("10.0.2.45");
    f.key.port = 5432;
    f.key.protocol = 6;
    f.key.action = flowlog::Action::kAccept;
    f.counts.records = 1;
    r.flows.push_back(f);
  }
  auto gz = FlowHistory(r, "s3://b/k\"1.log.gz");
  ASSERT_TRUE(gz);
  const std::string text = Gunzip(*gz);
  EXPECT_LT(gz->size(), text.size() / 4);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3001);
  EXPECT_TRUE(text.starts_with(R"({"source": "s3://b/k\"1.log.gz", "totals": {"files": 1, "lines": 0, "records": 3,)"))
      << text.substr(0, 120);
  EXPECT_NE(
      text.find(
          R"({"initiator": "10.0.1.0", "responder": "10.0.2.45", "port": 5432, "protocol": 6, "action": "ACCEPT")"),
      std::string::npos);
}

}  // namespace
}  // namespace moat::store
