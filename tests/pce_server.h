// The PCE test server (pce_test_server.py) as a fixture: started on a free loopback port for a
// test, stopped with it. Faults and inspection go through its /_test endpoints.
#pragma once

#include <sys/types.h>

#include <string>

#include "moat_process.h"

namespace moat::integration {

inline constexpr const char* kPceUser = "api_1a2b3c4d5e6f";
inline constexpr const char* kPceSecret = "test-secret-0123456789";

class PceServer {
 public:
  // REQUIRES: python3 on PATH. `bundle` seeds the policy; `extra_workloads` pads the workloads.
  explicit PceServer(const std::string& bundle, int extra_workloads = 0);
  // Serves HTTPS with a self-signed certificate for 127.0.0.1 (made with openssl); ca_file() is it.
  struct Tls {};
  PceServer(const std::string& bundle, Tls);
  ~PceServer();
  PceServer(const PceServer&) = delete;
  PceServer& operator=(const PceServer&) = delete;

  bool ok() const { return port_ > 0; }
  std::string url() const { return (tls_ ? "https" : "http") + std::string("://127.0.0.1:") + std::to_string(port_); }
  std::string ca_file() const { return dir_.path() + "/cert.pem"; }
  // POST /_test/faults with this JSON object.
  void Faults(const std::string& json);
  // POST /_test/<what> ("reset") with this JSON body.
  void Post(const std::string& what, const std::string& json);
  // GET /_test/<what> ("log", "flows").
  std::string Get(const std::string& what);
  // `method` /api/v2/orgs/1/<rest> with `json` as the test's API key: the answer's body.
  std::string Api(const std::string& method, const std::string& rest, const std::string& json);

 private:
  void Start(const std::string& bundle, int extra_workloads);

  TempDir dir_;
  bool tls_ = false;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace moat::integration
