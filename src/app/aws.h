// The AWS services of a run, made from the process environment (credentials, region, endpoints:
// aws/config.h) on first use, and shared by the commands that need them.
#pragma once

#include <memory>
#include <string>

#include "aws/config.h"
#include "aws/s3.h"
#include "base/result.h"
#include "http/transport.h"

namespace moat::app {

class AwsServices {
 public:
  AwsServices();
  ~AwsServices();

  // An S3 store for this region and endpoint; errors name what is missing.
  Result<ObjectStore*> S3();

 private:
  Result<aws::Credentials> Credentials();

  std::unique_ptr<http::Transport> transport_;
  aws::AwsEnvironment env_;
  std::optional<aws::Credentials> credentials_;
  std::unique_ptr<aws::S3Store> s3_;
};

}  // namespace moat::app
