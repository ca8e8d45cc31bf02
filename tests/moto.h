// moto's AWS server (moto_server, preinstalled with pip) as a test fixture: started on a free
// loopback port with signature checking on, an IAM user and key made for the tests, stopped with
// the fixture.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "moat_process.h"

namespace moat::aws {
class QueryClient;
}  // namespace moat::aws

namespace moat::integration {

// The messages of an SQS queue, visible plus in flight; -1 when it cannot be read.
int QueueDepth(aws::QueryClient& sqs, const std::string& url);

class MotoServer {
 public:
  // With `bucket` and `dir`: that bucket, holding every file under `dir`.
  explicit MotoServer(const std::string& bucket = "", const std::string& dir = "");
  ~MotoServer();
  MotoServer(const MotoServer&) = delete;
  MotoServer& operator=(const MotoServer&) = delete;

  bool ok() const { return !access_key_id_.empty(); }
  const std::string& error() const { return error_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& access_key_id() const { return access_key_id_; }
  const std::string& secret_access_key() const { return secret_; }
  const std::string& vpc_id() const { return vpc_; }
  const std::string& db_group() const { return db_group_; }            // orders-db's hand-made group
  const std::string& cluster_group() const { return cluster_group_; }  // the ledger cluster's
  const std::string& cluster_endpoint() const { return cluster_endpoint_; }
  const std::string& secret_arn() const { return secret_arn_; }  // Secrets Manager: moat/pce
  // The environment that points moat at this server as the test user.
  std::vector<std::pair<std::string, std::string>> Environment() const;

 private:
  bool Start();  // moto_server on a free port, accepting; false with error_ set otherwise

  TempDir dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string access_key_id_, secret_, vpc_, db_group_, cluster_group_, cluster_endpoint_, secret_arn_, error_;
};

}  // namespace moat::integration
