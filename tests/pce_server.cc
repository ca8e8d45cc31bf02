#include "pce_server.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <vector>

#include "http/transport.h"

extern char** environ;

namespace moat::integration {

PceServer::PceServer(const std::string& bundle, int extra_workloads) { Start(bundle, extra_workloads); }

PceServer::PceServer(const std::string& bundle, Tls) : tls_(true) {
  const std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
      "-keyout '" +
      dir_.path() + "/key.pem' -out '" + ca_file() + "' >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) return;
  Start(bundle, 0);
}

void PceServer::Start(const std::string& bundle, int extra_workloads) {
  const std::string port_file = dir_.path() + "/port";
  std::vector<std::string> args = {"python3",
                                   MOAT_SOURCE_DIR "/tests/pce_test_server.py",
                                   "--bundle",
                                   bundle,
                                   "--port-file",
                                   port_file,
                                   "--user",
                                   kPceUser,
                                   "--secret",
                                   kPceSecret,
                                   "--extra-workloads",
                                   std::to_string(extra_workloads)};
  if (tls_) {
    args.insert(args.end(), {"--tls-cert", ca_file(), "--tls-key", dir_.path() + "/key.pem"});
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (posix_spawnp(&pid_, "python3", nullptr, nullptr, argv.data(), environ) != 0) {
    pid_ = -1;
    return;
  }
  for (int i = 0; i < 200 && port_ == 0; ++i) {  // up to 10 s
    std::ifstream in(port_file);
    if (!(in >> port_)) {
      port_ = 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

PceServer::~PceServer() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
}

void PceServer::Faults(const std::string& json) { Post("faults", json); }

void PceServer::Post(const std::string& what, const std::string& json) {
  auto t = http::NewCurlTransport({tls_ ? ca_file() : "", true});
  http::Request req;
  req.method = "POST";
  req.url = url() + "/_test/" + what;
  req.body = json;
  (void)t->Send(req);
}

std::string PceServer::Get(const std::string& what) {
  auto t = http::NewCurlTransport({tls_ ? ca_file() : "", true});
  http::Request req;
  req.url = url() + "/_test/" + what;
  auto r = t->Send(req);
  return r ? r->body : "";
}

std::string PceServer::Api(const std::string& method, const std::string& rest, const std::string& json) {
  auto t = http::NewCurlTransport({tls_ ? ca_file() : "", true});
  http::Request req;
  req.method = method;
  req.url = url() + "/api/v2/orgs/1/" + rest;
  req.body = json;
  if (!json.empty()) req.headers.emplace_back("Content-Type", "application/json");
  req.basic_user = kPceUser;
  req.basic_password = kPceSecret;
  auto r = t->Send(req);
  return r ? r->body : "";
}

}  // namespace moat::integration
