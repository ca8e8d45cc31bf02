#include "app/aws.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace moat::app {
namespace {

aws::AwsEnvironment ProcessEnvironment() {
  aws::AwsEnvironment env;
  env.getenv = [](const char* n) { return std::getenv(n); };
  env.read_file = [](const std::string& path) -> std::optional<std::string> {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  return env;
}

std::string_view ActionOf(std::string_view body) {
  const size_t at = body.starts_with("Action=") ? 0 : body.find("&Action=");
  if (at == std::string_view::npos) return {};
  const size_t start = body.find('=', at) + 1;
  return body.substr(start, body.find('&', start) - start);
}

}  // namespace

std::vector<std::string> ResolveHost(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::vector<std::string> out;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0) return out;
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    char buf[NI_MAXHOST];
    if (getnameinfo(a->ai_addr, a->ai_addrlen, buf, sizeof buf, nullptr, 0, NI_NUMERICHOST) != 0) continue;
    if (std::find(out.begin(), out.end(), buf) == out.end()) out.emplace_back(buf);
  }
  freeaddrinfo(res);
  return out;
}

bool IsWriteAction(std::string_view a) {
  return a.starts_with("Create") || a.starts_with("Authorize") || a.starts_with("Revoke") || a.starts_with("Modify") ||
         a.starts_with("Update") || a.starts_with("Delete");
}

Result<http::Response> CountingTransport::Send(const http::Request& request) {
  const bool write = request.method == "POST" ? IsWriteAction(ActionOf(request.body))
                                              : request.method == "PUT" || request.method == "DELETE";
  ++(write ? writes_ : reads_);
  return inner_.Send(request);
}

AwsServices::AwsServices()
    : owned_(http::NewCurlTransport({})), counter_(*owned_), env_(ProcessEnvironment()), clock_(SystemClock()) {
  env_.transport = owned_.get();
  credentials_ = aws::NewCredentialsProvider(env_, clock_);
}

AwsServices::AwsServices(http::Transport& transport, aws::AwsEnvironment env, Clock& clock)
    : counter_(transport), env_(std::move(env)), clock_(clock) {
  if (env_.transport == nullptr) env_.transport = &transport;
  credentials_ = aws::NewCredentialsProvider(env_, clock_);
}

AwsServices::AwsServices(AwsServices& home, std::string region, std::shared_ptr<aws::CredentialsProvider> credentials,
                         std::string account)
    : counter_(static_cast<http::Transport&>(home.counter_)),
      env_(home.env_),
      region_(std::move(region)),
      clock_(home.clock_) {
  credentials_ = credentials ? std::move(credentials) : home.credentials_;
  if (!account.empty()) identity_ = Result<aws::CallerIdentity>(aws::CallerIdentity{std::move(account), ""});
}

AwsServices::~AwsServices() = default;

Result<std::string> AwsServices::Region() const {
  if (!region_.empty()) return region_;
  return aws::ResolveRegion(env_);
}

Result<aws::AssumedRole> AwsServices::AssumeRole(const aws::AssumeRoleRequest& request) {
  auto c = Client("sts", aws::kStsApiVersion, sts_client_);
  if (!c) return Fail(std::move(c).error());
  return aws::AssumeRole(**c, request);
}

Result<std::vector<aws::OrgAccount>> AwsServices::OrgAccounts(const std::string& parent) {
  auto region = Region();
  if (!region) return Fail(std::move(region).error());
  // A global service: one endpoint per partition, signed for its home region.
  const std::string home = region->starts_with("cn-")       ? "cn-northwest-1"
                           : region->starts_with("us-gov-") ? "us-gov-west-1"
                                                            : "us-east-1";
  aws::SignedClient client({"organizations", aws::ResolveEndpoint(env_, "organizations", home), home}, credentials_,
                           counter_, clock_);
  return parent.empty() ? aws::ListOrgAccounts(client) : aws::ListOrgAccountsUnder(client, parent);
}

Result<ObjectStore*> AwsServices::S3() {
  if (!s3_) {
    auto region = Region();
    if (!region) return Fail(std::move(region).error());
    aws::S3Config config{aws::ResolveEndpoint(env_, "s3", *region), *region};
    s3_ = std::make_unique<aws::S3Store>(config, credentials_, counter_, clock_);
  }
  return static_cast<ObjectStore*>(s3_.get());
}

Result<aws::S3Store*> AwsServices::S3Objects() {
  if (auto st = S3(); !st) return Fail(std::move(st).error());
  return s3_.get();
}

Result<std::unique_ptr<aws::QueryClient>> AwsServices::NewClient(const char* service, const char* version) {
  auto region = Region();
  if (!region) return Fail(std::move(region).error());
  return std::make_unique<aws::QueryClient>(
      aws::ServiceConfig{service, aws::ResolveEndpoint(env_, service, *region), *region, version}, credentials_,
      counter_, clock_);
}

Result<aws::QueryClient*> AwsServices::Client(const char* service, const char* version,
                                              std::unique_ptr<aws::QueryClient>& slot) {
  if (!slot) {
    auto client = NewClient(service, version);
    if (!client) return Fail(std::move(client).error());
    slot = std::move(*client);
  }
  return slot.get();
}

Result<aws::Ec2*> AwsServices::Ec2() {
  if (!ec2_) {
    auto c = Client("ec2", aws::kEc2ApiVersion, ec2_client_);
    if (!c) return Fail(std::move(c).error());
    ec2_ = std::make_unique<aws::Ec2>(**c);
  }
  return ec2_.get();
}

Result<aws::Rds*> AwsServices::Rds() {
  if (!rds_) {
    auto c = Client("rds", aws::kRdsApiVersion, rds_client_);
    if (!c) return Fail(std::move(c).error());
    rds_ = std::make_unique<aws::Rds>(**c);
  }
  return rds_.get();
}

Result<aws::CallerIdentity> AwsServices::Identity() {
  if (!identity_) {
    auto c = Client("sts", aws::kStsApiVersion, sts_client_);
    identity_ = c ? aws::GetCallerIdentity(**c) : Result<aws::CallerIdentity>(Fail(std::move(c).error()));
  }
  return *identity_;
}

Result<std::unique_ptr<aws::QueryClient>> AwsServices::NewSqsClient() {
  if (auto c = credentials_->Get(); !c) return Fail(std::move(c).error());
  return NewClient("sqs", aws::kSqsApiVersion);
}

Result<std::string> AwsServices::Secret(const std::string& secret_id) {
  auto region = Region();
  if (!region) return Fail(std::move(region).error());
  aws::SignedClient client({"secretsmanager", aws::ResolveEndpoint(env_, "secretsmanager", *region), *region},
                           credentials_, counter_, clock_);
  return aws::GetSecretString(client, secret_id);
}

bool AwsServices::CustomRdsEndpoint() const {
  for (const char* name : {"AWS_ENDPOINT_URL_RDS", "AWS_ENDPOINT_URL"}) {
    const char* v = env_.getenv(name);
    if (v != nullptr && *v != '\0') return true;
  }
  return false;
}

}  // namespace moat::app
