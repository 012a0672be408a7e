#include "tests/support/daemon_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace xray::testing {

DaemonProcess::DaemonProcess() {
  char templ[] = "/tmp/xrayd-test-XXXXXX";
  if (::mkdtemp(templ) != nullptr) dir_ = templ;
  socket_path_ = dir_ + "/xrayd.sock";
  log_path_ = dir_ + "/xrayd.log";
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0) kill_now();
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

bool DaemonProcess::start(const std::string& conninfo, std::vector<std::string> extra,
                          std::chrono::seconds ready_within) {
  std::vector<std::string> args = {XRAYD_BINARY,
                                   "serve",
                                   "--postgres=" + conninfo,
                                   "--socket-path=" + socket_path_,
                                   "--http-listen=127.0.0.1:0",
                                   "--log-level=info"};
  for (auto& e : extra) args.push_back(std::move(e));
  {
    std::ofstream truncate(log_path_, std::ios::trunc);
  }
  pid_ = ::fork();
  if (pid_ == 0) {
    int fd = ::open(log_path_.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
    ::dup2(fd, 2);
    ::dup2(fd, 1);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  if (!wait_for_log("ready", ready_within)) return false;
  std::string text = log();
  auto at = text.find("listening on http ");
  if (at != std::string::npos) {
    auto line_end = text.find('\n', at);
    auto colon = text.rfind(':', line_end);
    http_port_ = static_cast<unsigned short>(std::stoi(text.substr(colon + 1, line_end - colon - 1)));
  }
  return true;
}

std::string DaemonProcess::log() const {
  std::ifstream in(log_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool DaemonProcess::wait_for_log(const std::string& text, std::chrono::milliseconds within) const {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    if (log().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

void DaemonProcess::send_signal(int signal) const {
  if (pid_ > 0) ::kill(pid_, signal);
}

bool DaemonProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

std::optional<int> DaemonProcess::stop(int signal, std::chrono::milliseconds within) {
  if (pid_ <= 0) return std::nullopt;
  ::kill(pid_, signal);
  auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

void DaemonProcess::kill_now() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::size_t DaemonProcess::peak_rss_bytes() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      return std::stoull(line.substr(6)) * 1024;  // reported in kB
    }
  }
  return 0;
}

}  // namespace xray::testing
