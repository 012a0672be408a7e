#include "sdk/src/http_transport.h"

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <unistd.h>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "tests/unit/sdk/fake_daemon.h"
#include "xray/recorder.h"

namespace xray::sdk {
namespace {

using std::chrono::milliseconds;

// A one-thread HTTP server on 127.0.0.1:<ephemeral>: for each request it reads
// the headers and the Content-Length body, then writes what `respond` returns
// (an empty string: say nothing). `close_after` closes the connection after
// each response.
class FakeHttpServer {
 public:
  using Respond = std::function<std::string(const std::string& body)>;

  explicit FakeHttpServer(Respond respond, bool close_after = false)
      : respond_(std::move(respond)), close_after_(close_after) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 8);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~FakeHttpServer() {
    stop_.store(true);
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }
  int requests() const { return requests_.load(); }
  int connections() const { return connections_.load(); }

  static std::string response(int status, std::string body = "{}") {
    return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\n" +
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }

 private:
  void run() {
    while (!stop_.load()) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      connections_.fetch_add(1);
      serve(c);
      ::close(c);
    }
  }
  void serve(int c) {
    std::string in;
    char buf[8192];
    for (;;) {
      auto end = in.find("\r\n\r\n");
      while (end == std::string::npos) {
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) return;
        in.append(buf, static_cast<std::size_t>(n));
        end = in.find("\r\n\r\n");
      }
      auto cl = in.find("Content-Length: ");
      std::size_t length = std::stoul(in.substr(cl + 16));
      while (in.size() < end + 4 + length) {
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) return;
        in.append(buf, static_cast<std::size_t>(n));
      }
      std::string body = in.substr(end + 4, length);
      in.erase(0, end + 4 + length);
      requests_.fetch_add(1);
      std::string out = respond_(body);
      if (out.empty()) {
        while (!stop_.load() && ::recv(c, buf, sizeof buf, MSG_DONTWAIT) != 0) {
          std::this_thread::sleep_for(milliseconds(5));
        }
        return;
      }
      (void)!::send(c, out.data(), out.size(), MSG_NOSIGNAL);
      if (close_after_) return;
    }
  }

  Respond respond_;
  bool close_after_;
  int fd_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

auto soon() { return std::chrono::steady_clock::now() + milliseconds(2000); }

TEST(HttpClient, ReturnsStatusAndReusesTheConnection) {
  FakeHttpServer server([](const std::string&) { return FakeHttpServer::response(200); });
  HttpClient client({"127.0.0.1", server.port()});
  EXPECT_EQ(client.post_snapshot("{}", soon()).value(), 200);
  EXPECT_EQ(client.post_snapshot("{}", soon()).value(), 200);
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClient, ReturnsErrorStatuses) {
  FakeHttpServer server([](const std::string& body) {
    return FakeHttpServer::response(body == "bad" ? 400 : 503, R"({"error":"x"})");
  });
  HttpClient client({"127.0.0.1", server.port()});
  EXPECT_EQ(client.post_snapshot("bad", soon()).value(), 400);
  EXPECT_EQ(client.post_snapshot("{}", soon()).value(), 503);
}

TEST(HttpClient, ReadsChunkedResponses) {
  FakeHttpServer server([](const std::string&) {
    return std::string(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
        "chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n");
  });
  HttpClient client({"127.0.0.1", server.port()});
  EXPECT_EQ(client.post_snapshot("{}", soon()).value(), 200);
  EXPECT_EQ(client.post_snapshot("{}", soon()).value(), 200);
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClient, ReconnectsWhenServerClosedTheKeptConnection) {
  FakeHttpServer server([](const std::string&) { return FakeHttpServer::response(200); },
                        /*close_after=*/true);
  HttpClient client({"127.0.0.1", server.port()});
  EXPECT_EQ(client.post_snapshot("{}", soon()).value(), 200);
  EXPECT_EQ(client.post_snapshot("{}", soon()).value(), 200);
  EXPECT_EQ(server.requests(), 2);
}

TEST(HttpClient, TimesOutWhenServerNeverAnswers) {
  FakeHttpServer server([](const std::string&) { return std::string(); });
  HttpClient client({"127.0.0.1", server.port()});
  auto start = std::chrono::steady_clock::now();
  auto r = client.post_snapshot("{}", std::chrono::steady_clock::now() + milliseconds(200));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1500));
}

TEST(HttpClient, GivesUpWhenAbortSaysSo) {
  FakeHttpServer server([](const std::string&) { return std::string(); });
  auto start = std::chrono::steady_clock::now();
  HttpClient client({"127.0.0.1", server.port()},
                    [&] { return std::chrono::steady_clock::now() - start > milliseconds(100); });
  auto r = client.post_snapshot("{}", std::chrono::steady_clock::now() + milliseconds(60000));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(2000));
}

TEST(HttpClient, FailsToConnectWhenNobodyListens) {
  std::uint16_t port = 0;
  {
    FakeHttpServer gone([](const std::string&) { return std::string(); });
    port = gone.port();
  }
  HttpClient client({"127.0.0.1", port});
  EXPECT_FALSE(client.post_snapshot("{}", soon()));
}

TEST(HttpClient, ClientFallsBackToHttpWhenSocketIsUnreachable) {
  FakeHttpServer server([](const std::string& body) {
    return FakeHttpServer::response(body.find("\"bad\"") != std::string::npos ? 400 : 201);
  });
  ClientConfig c;
  c.socket_path = "/nonexistent/xrayd.sock";
  c.http_endpoint = "http://127.0.0.1:" + std::to_string(server.port());
  c.app = "http-test";
  Client client(c);
  client.start_execution("p").complete();
  client.start_execution("p", {{"kind", "bad"}}).complete();
  ASSERT_TRUE(client.flush(milliseconds(5000)));
  Counters n = client.counters();
  EXPECT_EQ(n.committed, 1u);
  EXPECT_EQ(n.invalid, 1u);
  EXPECT_EQ(n.dropped, 0u);
}

}  // namespace
}  // namespace xray::sdk
