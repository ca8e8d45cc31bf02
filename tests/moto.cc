#include "moto.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "aws/query.h"

extern char** environ;

namespace moat::integration {
namespace {

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

bool Accepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

}  // namespace

bool MotoServer::Start() {
  port_ = FreePort();
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  env_strings.emplace_back("INITIAL_NO_AUTH_ACTION_COUNT=4");
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  // moto_server through a launcher that keeps the interface stand-ins' groups equal to their
  // database's, as AWS does (tests/moto_server.py).
  std::vector<std::string> args = {
      "python3", MOAT_SOURCE_DIR "/tests/moto_server.py", "-H", "127.0.0.1", "-p", std::to_string(port_)};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string log = dir_.path() + "/moto.log";
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  const int rc = posix_spawnp(&pid_, "python3", &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    error_ = "moto_server could not be started (pip install 'moto[server]')";
    return false;
  }
  for (int i = 0; i < 300 && !Accepts(port_); ++i) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error_ = "moto could not be started (is it installed? pip install 'moto[server]'): " + ReadFile(log);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

MotoServer::MotoServer(const std::string& bucket, const std::string& dir) {
  // A free port can be taken by another test between the probe and moto's bind: try another.
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (Start()) break;
    if (error_.find("Address already in use") == std::string::npos) return;
  }
  if (pid_ <= 0) return;
  error_.clear();
  const RunResult setup = RunProcess(
      "/usr/bin/env",
      bucket.empty() ? std::vector<std::string>{"python3", MOAT_SOURCE_DIR "/tests/moto_setup.py", url()}
                     : std::vector<std::string>{"python3", MOAT_SOURCE_DIR "/tests/moto_setup.py", url(), bucket, dir},
      {}, dir_.path());
  if (setup.exit_code != 0) {
    error_ = "moto setup failed: " + Describe(setup);
    return;
  }
  const auto j = nlohmann::json::parse(setup.out);
  access_key_id_ = j["access_key_id"];
  secret_ = j["secret_access_key"];
  vpc_ = j["vpc_id"];
  db_group_ = j["db_group"];
  cluster_group_ = j["cluster_group"];
  cluster_endpoint_ = j["cluster_endpoint"];
  secret_arn_ = j["secret_arn"];
}

std::vector<std::pair<std::string, std::string>> MotoServer::Environment() const {
  return {{"AWS_ENDPOINT_URL", url()},
          {"AWS_ACCESS_KEY_ID", access_key_id_},
          {"AWS_SECRET_ACCESS_KEY", secret_},
          {"AWS_REGION", "us-east-1"}};
}

MotoServer::~MotoServer() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
}

int QueueDepth(aws::QueryClient& sqs, const std::string& url) {
  auto r = sqs.Call("GetQueueAttributes", {{"QueueUrl", url},
                                           {"AttributeName.1", "ApproximateNumberOfMessages"},
                                           {"AttributeName.2", "ApproximateNumberOfMessagesNotVisible"}});
  if (!r) return -1;
  int n = 0;
  for (const auto& a : aws::Children(aws::Child(*r, "GetQueueAttributesResult"), "Attribute")) {
    n += aws::Sub(a, "Value").text().as_int();
  }
  return n;
}

}  // namespace moat::integration
