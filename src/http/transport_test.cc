#include "http/transport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace moat::http {
namespace {

TEST(TransportTest, ResponseHeadersByLowerCaseName) {
  Response r;
  r.headers = {{"x-total-count", "1200"}, {"retry-after", "2"}};
  EXPECT_EQ(r.Header("x-total-count"), "1200");
  EXPECT_EQ(r.Header("location"), "");
}

TEST(TransportTest, RefusedConnectionIsTransient) {
  auto t = NewCurlTransport({});
  Request req;
  req.url = "http://127.0.0.1:9/";  // discard port: nothing listens
  req.timeout_ms = 2000;
  auto r = t->Send(req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTransient);
  EXPECT_TRUE(r.error().message.starts_with("GET http://127.0.0.1:9/: ")) << r.error().message;
}

// Accepts one connection on loopback, keeps its request head, answers 200.
class OneShotServer {
 public:
  OneShotServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(fd_, 1) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      const int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      while (head_.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = read(c, buf, sizeof(buf));
        if (n <= 0) break;
        head_.append(buf, static_cast<size_t>(n));
      }
      const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      (void)!write(c, answer.data(), answer.size());
      close(c);
    });
  }
  ~OneShotServer() {
    shutdown(fd_, SHUT_RDWR);  // an accept still waiting returns
    if (thread_.joinable()) thread_.join();
    close(fd_);
  }
  int port() const { return port_; }
  // The request line; call once the exchange is over.
  std::string RequestLine() {
    if (thread_.joinable()) thread_.join();
    return head_.substr(0, head_.find("\r\n"));
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::string head_;
  std::thread thread_;
};

TEST(TransportTest, PathIsSentExactlyAsGivenDotSegmentsIncluded) {
  OneShotServer server;
  ASSERT_GT(server.port(), 0);
  auto t = NewCurlTransport({});
  Request req;
  req.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/flow-logs/AWSLogs/../moat/./state//x.log.gz";
  req.timeout_ms = 5000;
  auto r = t->Send(req);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  // Not /flow-logs/moat/state//x.log.gz: what was signed is what is sent.
  EXPECT_EQ(server.RequestLine(), "GET /flow-logs/AWSLogs/../moat/./state//x.log.gz HTTP/1.1");
}

TEST(TransportTest, SystemCaBundleFollowsTheEnvironmentThenKnownPlaces) {
  const auto none = [](const char*) -> const char* { return nullptr; };
  const auto amazon_linux = [](const std::string& p) { return p == "/etc/pki/tls/certs/ca-bundle.crt"; };
  EXPECT_EQ(SystemCaBundle(none, amazon_linux), "/etc/pki/tls/certs/ca-bundle.crt");
  const auto set = [](const char* n) -> const char* {
    return std::string_view(n) == "SSL_CERT_FILE" ? "/custom/ca.pem" : nullptr;
  };
  EXPECT_EQ(SystemCaBundle(set, amazon_linux), "/custom/ca.pem");
  EXPECT_EQ(SystemCaBundle(none, [](const std::string&) { return false; }), "");
}

}  // namespace
}  // namespace moat::http
