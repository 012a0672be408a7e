// XraydProcess: the real xrayd (XRAYD_BINARY) as a child process of an SDK
// integration test, on a Unix socket in the test's folder and the test
// binary's private PostgreSQL. The test can freeze it (SIGSTOP), thaw it,
// crash it (SIGKILL) and start it again. The destructor kills what is left.
// One thread (the test's) uses it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace xray::testing {

class XraydProcess {
 public:
  XraydProcess(std::string socket_path, std::string conninfo, std::string log_path,
               std::string http_listen = "127.0.0.1:0")
      : socket_path_(std::move(socket_path)),
        conninfo_(std::move(conninfo)),
        log_path_(std::move(log_path)),
        http_listen_(std::move(http_listen)) {}
  ~XraydProcess() {
    signal(SIGCONT);
    signal(SIGKILL);
    reap();
  }
  XraydProcess(const XraydProcess&) = delete;
  XraydProcess& operator=(const XraydProcess&) = delete;

  // Starts `xrayd serve` and waits until its socket accepts a connection.
  // Returns false (and prints its log) if it does not within 20 s.
  bool start() {
    ::unlink(socket_path_.c_str());  // left behind by a crashed predecessor
    std::vector<std::string> args = {XRAYD_BINARY,    "serve",
                                     "--postgres",    conninfo_,
                                     "--socket-path", socket_path_,
                                     "--http-listen", http_listen_,
                                     "--writers",     "1"};
    pid_ = ::fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      FILE* log = std::fopen(log_path_.c_str(), "a");
      if (log != nullptr) {
        ::dup2(::fileno(log), 1);
        ::dup2(::fileno(log), 2);
      }
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      std::perror("execv xrayd");
      ::_exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      if (accepts_connections()) return true;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::cerr << "xrayd did not become ready; its log:\n" << log() << std::endl;
    signal(SIGKILL);
    reap();
    return false;
  }

  bool running() const { return pid_ > 0; }
  void freeze() { signal(SIGSTOP); }
  void thaw() { signal(SIGCONT); }
  // An abrupt crash: SIGKILL, nothing flushed, nothing acknowledged.
  void crash() {
    signal(SIGKILL);
    reap();
  }
  // SIGTERM and wait for the clean exit (invariant 8); the exit status.
  int terminate() {
    signal(SIGCONT);
    signal(SIGTERM);
    return reap();
  }

  std::string log() const {
    std::ifstream in(log_path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  // A TCP port that was free a moment ago (for a known --http-listen).
  static int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
  }

 private:
  // Only ever our own child: kill() with a pid <= 0 would signal a whole
  // process group or every process we may signal.
  void signal(int sig) {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  int reap() {
    int status = 0;
    if (pid_ > 0) ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

  bool accepts_connections() const {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket_path_.c_str(), sizeof addr.sun_path - 1);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
  }

  std::string socket_path_;
  std::string conninfo_;
  std::string log_path_;
  std::string http_listen_;
  pid_t pid_ = -1;
};

}  // namespace xray::testing
