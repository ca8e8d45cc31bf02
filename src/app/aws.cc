#include "app/aws.h"

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

namespace moat::app {

AwsServices::AwsServices() : transport_(http::NewCurlTransport({})) {
  env_.getenv = [](const char* n) { return std::getenv(n); };
  env_.read_file = [](const std::string& path) -> std::optional<std::string> {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  env_.transport = transport_.get();
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
        config, [this] { return Credentials(); }, *transport_, [] { return static_cast<int64_t>(std::time(nullptr)); });
  }
  return static_cast<ObjectStore*>(s3_.get());
}

}  // namespace moat::app
