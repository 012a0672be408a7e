// FakeDaemon: a stand-in for xrayd's Unix socket in SDK unit tests. It
// accepts connections on a socket in a temporary folder, reads snapshot
// frames (xray/wire.h) and answers each as the test's policy says: committed,
// busy, invalid, failed, or not at all (a frozen daemon). It keeps every
// payload it received. One background thread; the accessors lock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <poll.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <sys/socket.h>
#include <sys/un.h>

#include "xray/wire.h"

namespace xray::testing {

class FakeDaemon {
 public:
  // What to answer to the n-th frame (0-based, over all connections) with this payload;
  // nullopt: never answer it.
  using Policy = std::function<std::optional<wire::AckStatus>(std::size_t n, const std::string&)>;

  static Policy commit_all() {
    return [](std::size_t, const std::string&) { return wire::AckStatus::kCommitted; };
  }
  static Policy never_answer() {
    return [](std::size_t, const std::string&) { return std::optional<wire::AckStatus>(); };
  }

  FakeDaemon(std::string path, Policy policy) : path_(std::move(path)), policy_(std::move(policy)) {
    start();
  }
  ~FakeDaemon() { stop(); }
  FakeDaemon(const FakeDaemon&) = delete;
  FakeDaemon& operator=(const FakeDaemon&) = delete;

  // Closes the listener and every connection (a daemon that went away).
  void stop() {
    if (!thread_.joinable()) return;
    stop_.store(true);
    thread_.join();
    ::unlink(path_.c_str());
  }

  void start() {
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    ::unlink(path_.c_str());
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 16) != 0) {
      std::perror("FakeDaemon bind/listen");
      std::abort();
    }
    stop_.store(false);
    thread_ = std::thread([this] { run(); });
  }

  std::vector<std::string> payloads() const {
    std::lock_guard<std::mutex> lock(mu_);
    return payloads_;
  }
  std::size_t frames() const {
    std::lock_guard<std::mutex> lock(mu_);
    return payloads_.size();
  }
  std::size_t connections() const { return connections_.load(); }

  void set_policy(Policy policy) {
    std::lock_guard<std::mutex> lock(mu_);
    policy_ = std::move(policy);
  }

 private:
  struct Conn {
    int fd;
    std::string in;
  };

  void run() {
    std::vector<Conn> conns;
    while (!stop_.load()) {
      std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
      for (auto& c : conns) fds.push_back({c.fd, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 10) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) {
          conns.push_back({fd, {}});
          connections_.fetch_add(1);
        }
      }
      for (std::size_t i = 1; i < fds.size(); ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        Conn& c = conns[i - 1];
        char buf[65536];
        ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
        if (n <= 0) {
          ::close(c.fd);
          c.fd = -1;
          continue;
        }
        c.in.append(buf, static_cast<std::size_t>(n));
        consume(c);
      }
      std::erase_if(conns, [](const Conn& c) { return c.fd < 0; });
    }
    for (auto& c : conns) ::close(c.fd);
    ::close(listen_fd_);
  }

  void consume(Conn& c) {
    while (c.in.size() >= wire::kHeaderBytes) {
      auto d = wire::decode_header(reinterpret_cast<const unsigned char*>(c.in.data()));
      if (c.in.size() < wire::kHeaderBytes + d.header.payload_bytes) return;
      std::string payload = c.in.substr(wire::kHeaderBytes, d.header.payload_bytes);
      c.in.erase(0, wire::kHeaderBytes + d.header.payload_bytes);
      std::optional<wire::AckStatus> answer;
      {
        std::lock_guard<std::mutex> lock(mu_);
        answer = policy_(payloads_.size(), payload);
        payloads_.push_back(payload);
      }
      if (answer) {
        std::string ack =
            wire::encode_ack_frame(d.header.sequence, *answer,
                                   *answer == wire::AckStatus::kCommitted ? "" : "test says so");
        (void)!::send(c.fd, ack.data(), ack.size(), MSG_NOSIGNAL);
      }
    }
  }

  std::string path_;
  Policy policy_;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> connections_{0};
  mutable std::mutex mu_;
  std::vector<std::string> payloads_;
  std::thread thread_;
};

// Polls `condition` every 5 ms until it holds or `timeout` passes.
inline bool wait_until(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace xray::testing
