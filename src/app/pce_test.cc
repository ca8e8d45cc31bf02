#include "app/pce.h"

#include <gtest/gtest.h>

namespace moat::app {
namespace {

traffic::Flow F(const char* ini, const char* resp, uint16_t port, flowlog::Action action) {
  traffic::Flow f;
  f.key.initiator = *net::ParseAddress(ini);
  f.key.responder = *net::ParseAddress(resp);
  f.key.port = port;
  f.key.protocol = 6;
  f.key.action = action;
  return f;
}

TEST(UploadLinesTest, OneLinePerDistinctTupleAcceptedOnlyByDefault) {
  const std::vector<traffic::Flow> flows = {F("10.0.1.20", "10.0.2.45", 5432, flowlog::Action::kAccept),
                                            F("10.0.1.20", "10.0.2.45", 5432, flowlog::Action::kReject),
                                            F("198.51.100.23", "10.0.2.45", 22, flowlog::Action::kReject),
                                            F("2001:db8::1", "2001:db8::45", 6379, flowlog::Action::kAccept)};
  EXPECT_EQ(UploadLines(flows, false),
            (std::vector<std::string>{"10.0.1.20,10.0.2.45,5432,6", "2001:db8::1,2001:db8::45,6379,6"}));
  EXPECT_EQ(UploadLines(flows, true),
            (std::vector<std::string>{"10.0.1.20,10.0.2.45,5432,6", "198.51.100.23,10.0.2.45,22,6",
                                      "2001:db8::1,2001:db8::45,6379,6"}));
}

}  // namespace
}  // namespace moat::app
