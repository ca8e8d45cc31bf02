// The AWS services of a run, made from the process environment (credentials, region, endpoints:
// aws/config.h) on first use, and shared by the commands that need them. Every HTTP request goes
// through one counting transport, so a run can say how many read and write calls it made; every
// client signs with one credentials provider (renewed before they expire) and waits on one Clock.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "aws/config.h"
#include "aws/ec2.h"
#include "aws/organizations.h"
#include "aws/rds.h"
#include "aws/s3.h"
#include "aws/secrets.h"
#include "aws/sqs.h"
#include "aws/sts.h"
#include "base/clock.h"
#include "base/result.h"
#include "http/transport.h"

namespace moat::app {

// Counts requests: writes are the Query actions that change something (Create*, Authorize*,
// Revoke*, Modify*, Update*, Delete*), reads everything else.
class CountingTransport : public http::Transport {
 public:
  explicit CountingTransport(http::Transport& inner) : inner_(inner) {}
  Result<http::Response> Send(const http::Request& request) override;
  int reads() const { return reads_; }
  int writes() const { return writes_; }

 private:
  http::Transport& inner_;
  std::atomic<int> reads_{0}, writes_{0};  // a worker's heartbeat thread shares it
};

// True for a Query action that changes something.
bool IsWriteAction(std::string_view action);

// The addresses a host name resolves to (getaddrinfo); empty when it does not resolve.
std::vector<std::string> ResolveHost(const std::string& host);

class AwsServices {
 public:
  // Over libcurl, the process environment and the system clock.
  AwsServices();
  // Over another transport (tests: a scripted or faulty one), environment and clock, which must
  // outlive it.
  AwsServices(http::Transport& transport, aws::AwsEnvironment env, Clock& clock);
  // The services of another place: `home`'s environment, transport (their calls are counted in
  // `home`'s calls() too) and clock, in `region`, signed with `credentials` (nullptr: home's) and
  // acting as `account` (Identity() asks nothing; "": asked as home does). `home` outlives it.
  AwsServices(AwsServices& home, std::string region, std::shared_ptr<aws::CredentialsProvider> credentials,
              std::string account);
  ~AwsServices();

  // An S3 store for this region and endpoint; errors name what is missing.
  Result<ObjectStore*> S3();
  Result<aws::S3Store*> S3Objects();  // the same store, with its whole-object calls
  Result<aws::Ec2*> Ec2();
  Result<aws::Rds*> Rds();
  // A new SQS client (one per thread that uses it).
  Result<std::unique_ptr<aws::QueryClient>> NewSqsClient();
  // Who the run acts as (STS GetCallerIdentity): asked once, the answer (or the error) kept.
  Result<aws::CallerIdentity> Identity();
  // The region the clients use (the place's, else AWS_REGION, AWS_DEFAULT_REGION or the profile).
  Result<std::string> Region() const;
  // A role's credentials (STS AssumeRole with this run's own credentials).
  Result<aws::AssumedRole> AssumeRole(const aws::AssumeRoleRequest& request);
  // The organisation's accounts (AWS Organizations): every one, or those under `parent` (an OU or
  // root id, nested OUs included) when it is not empty.
  Result<std::vector<aws::OrgAccount>> OrgAccounts(const std::string& parent);
  Clock& clock() { return clock_; }
  // A Secrets Manager secret's value (GetSecretValue).
  Result<std::string> Secret(const std::string& secret_id);
  const CountingTransport& calls() const { return counter_; }
  // True when the RDS endpoint is not AWS's own (AWS_ENDPOINT_URL[_RDS]): database endpoints
  // are then not names to resolve.
  bool CustomRdsEndpoint() const;

 private:
  Result<std::unique_ptr<aws::QueryClient>> NewClient(const char* service, const char* version);
  Result<aws::QueryClient*> Client(const char* service, const char* version, std::unique_ptr<aws::QueryClient>& slot);

  std::unique_ptr<http::Transport> owned_;
  CountingTransport counter_;
  aws::AwsEnvironment env_;
  std::string region_;  // a place's region; empty: the environment's
  Clock& clock_;
  std::shared_ptr<aws::CredentialsProvider> credentials_;
  std::unique_ptr<aws::S3Store> s3_;
  std::unique_ptr<aws::QueryClient> ec2_client_, rds_client_, sts_client_;
  std::optional<Result<aws::CallerIdentity>> identity_;
  std::unique_ptr<aws::Ec2> ec2_;
  std::unique_ptr<aws::Rds> rds_;
};

}  // namespace moat::app
