// Fuzz target for the AWS answers moat parses (XML, by element name): any bytes as the body of
// an EC2, RDS or SQS answer, with a success or an error status, give values or an error, never a
// crash. The first byte picks the call, the second the HTTP status.
#include <cstddef>
#include <cstdint>
#include <string>

#include "aws/ec2.h"
#include "aws/rds.h"
#include "aws/sqs.h"
#include "http/transport.h"
#include "testing/fake_clock.h"

namespace {

class OneAnswer : public moat::http::Transport {
 public:
  OneAnswer(int status, std::string body) : status_(status), body_(std::move(body)) {}
  moat::Result<moat::http::Response> Send(const moat::http::Request&) override {
    if (used_) return moat::Fail(moat::Transient("no more answers"));
    used_ = true;
    return moat::http::Response{status_, {}, body_};
  }

 private:
  int status_;
  std::string body_;
  bool used_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static constexpr int kStatuses[] = {200, 400, 403, 404, 500, 503};
  OneAnswer transport(kStatuses[data[1] % 6], std::string(reinterpret_cast<const char*>(data) + 2, size - 2));
  static moat::testing::FakeClock clock;
  moat::aws::QueryClient client(
      {"ec2", "http://127.0.0.1:1", "us-east-1", "2016-11-15"},
      std::make_shared<moat::aws::StaticCredentials>(moat::aws::Credentials{"AKID", "SECRET", ""}), transport, clock,
      moat::aws::RetryPolicy{2, {}, {}});
  moat::aws::Ec2 ec2(client);
  moat::aws::Rds rds(client);
  moat::aws::Sqs sqs(client, "http://127.0.0.1:1/123456789012/q");
  switch (data[0] % 7) {
    case 0:
      (void)ec2.DescribeSecurityGroups({{"tag:moat:managed", {"true"}}});
      break;
    case 1:
      (void)ec2.DescribeIngressRules("sg-1");
      break;
    case 2:
      (void)ec2.DescribeNetworkInterfaces({{"description", {"RDSNetworkInterface"}}});
      break;
    case 3:
      (void)rds.DescribeInstances();
      break;
    case 4:
      (void)rds.DescribeClusters();
      break;
    case 5:
      (void)ec2.CreateSecurityGroup("moat-x-1", "d", "vpc-1", {{"moat:managed", "true"}});
      break;
    default:
      (void)sqs.Receive(10, 0);
      break;
  }
  return 0;
}
