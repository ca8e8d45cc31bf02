#include "app/aws.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

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

AwsServices::AwsServices() : owned_(http::NewCurlTransport({})), counter_(*owned_), env_(ProcessEnvironment()) {
  env_.transport = owned_.get();
}

AwsServices::AwsServices(http::Transport& transport, aws::AwsEnvironment env)
    : counter_(transport), env_(std::move(env)) {
  if (env_.transport == nullptr) env_.transport = &transport;
}

AwsServices::~AwsServices() = default;

Result<aws::Credentials> AwsServices::Credentials() {
  if (!credentials_) {
    auto c = aws::ResolveCredentials(env_);
    if (!c) return Fail(std::move(c).error());
    credentials_ = c->credentials;
  }
  return *credentials_;
}

Result<ObjectStore*> AwsServices::S3() {
  if (!s3_) {
    auto region = aws::ResolveRegion(env_);
    if (!region) return Fail(std::move(region).error());
    aws::S3Config config{aws::ResolveEndpoint(env_, "s3", *region), *region};
    s3_ = std::make_unique<aws::S3Store>(
        config, [this] { return Credentials(); }, counter_, [] { return static_cast<int64_t>(std::time(nullptr)); });
  }
  return static_cast<ObjectStore*>(s3_.get());
}

Result<aws::S3Store*> AwsServices::S3Objects() {
  if (auto st = S3(); !st) return Fail(std::move(st).error());
  return s3_.get();
}

Result<aws::QueryClient*> AwsServices::Client(const char* service, const char* version,
                                              std::unique_ptr<aws::QueryClient>& slot) {
  if (!slot) {
    auto region = aws::ResolveRegion(env_);
    if (!region) return Fail(std::move(region).error());
    slot = std::make_unique<aws::QueryClient>(
        aws::ServiceConfig{service, aws::ResolveEndpoint(env_, service, *region), *region, version},
        [this] { return Credentials(); }, counter_, [] { return static_cast<int64_t>(std::time(nullptr)); },
        [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); });
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

Result<std::unique_ptr<aws::QueryClient>> AwsServices::NewSqsClient() {
  auto region = aws::ResolveRegion(env_);
  if (!region) return Fail(std::move(region).error());
  if (auto c = Credentials(); !c) return Fail(std::move(c).error());
  return std::make_unique<aws::QueryClient>(
      aws::ServiceConfig{"sqs", aws::ResolveEndpoint(env_, "sqs", *region), *region, aws::kSqsApiVersion},
      [this] { return Credentials(); }, counter_, [] { return static_cast<int64_t>(std::time(nullptr)); },
      [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); });
}

Result<std::string> AwsServices::Secret(const std::string& secret_id) {
  auto region = aws::ResolveRegion(env_);
  if (!region) return Fail(std::move(region).error());
  auto creds = Credentials();
  if (!creds) return Fail(std::move(creds).error());
  return aws::GetSecretString({aws::ResolveEndpoint(env_, "secretsmanager", *region), *region}, *creds, counter_,
                              static_cast<int64_t>(std::time(nullptr)), secret_id,
                              [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); });
}

bool AwsServices::CustomRdsEndpoint() const {
  for (const char* name : {"AWS_ENDPOINT_URL_RDS", "AWS_ENDPOINT_URL"}) {
    const char* v = env_.getenv(name);
    if (v != nullptr && *v != '\0') return true;
  }
  return false;
}

}  // namespace moat::app
