#include "tests/support/daemon_process.h"

#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <signal.h>
#include <sstream>
#include <thread>
#include <unistd.h>

#include <sys/prctl.h>
#include <sys/wait.h>

extern char** environ;

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

void DaemonProcess::set_env(const std::string& name, const std::string& value) {
  env_.push_back(name + "=" + value);
}

bool DaemonProcess::spawn(const std::string& conninfo, std::vector<std::string> extra) {
  std::vector<std::string> args = {XRAYD_BINARY,
                                   "serve",
                                   "--postgres=" + conninfo,
                                   "--socket-path=" + socket_path_,
                                   "--http-listen=127.0.0.1:0",
                                   "--log-level=info"};
  // The explorer listens on a free port unless the test chooses (or disables) it.
  bool explorer_chosen = false;
  for (const auto& e : extra)
    explorer_chosen = explorer_chosen || e.rfind("--explorer-listen", 0) == 0;
  if (!explorer_chosen) args.push_back("--explorer-listen=127.0.0.1:0");
  for (auto& e : extra) args.push_back(std::move(e));
  { std::ofstream truncate(log_path_, std::ios::trunc); }
  // Everything the child needs is built before fork: between fork and exec a
  // child of a threaded process may only make async-signal-safe calls.
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    if (entry.rfind("LISTEN_", 0) == 0 || entry.rfind("NOTIFY_SOCKET=", 0) == 0 ||
        entry.rfind("WATCHDOG_", 0) == 0) {
      continue;
    }
    env.push_back(std::move(entry));
  }
  for (const auto& e : env_) env.push_back(e);
  std::size_t listen_pid_index = env.size();
  if (!inherited_.empty()) {
    env.push_back("LISTEN_FDS=" + std::to_string(inherited_.size()));
    listen_pid_index = env.size();
    env.push_back("LISTEN_PID=" + std::string(20, '\0'));
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<int> inherited = inherited_;

  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ == 0) {
    // A test binary killed by a ctest timeout must not leave its daemon
    // running: the kernel kills the daemon when the test thread that started
    // it ends (tests start daemons from their main thread).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    int fd = ::open(log_path_.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
    ::dup2(fd, 2);
    ::dup2(fd, 1);
    if (!inherited.empty()) {
      // Move the sockets out of the way first, so dup2 onto 3, 4, ... cannot
      // overwrite one that is still to be moved.
      for (int& s : inherited) s = ::fcntl(s, F_DUPFD_CLOEXEC, 100);
      for (std::size_t i = 0; i < inherited.size(); ++i) {
        ::dup2(inherited[i], 3 + static_cast<int>(i));  // dup2 clears FD_CLOEXEC
      }
      // LISTEN_PID=<our pid>, formatted without allocating.
      char* digits = envp[listen_pid_index] + std::strlen("LISTEN_PID=");
      char reversed[20];
      int n = 0;
      for (long pid = ::getpid(); pid > 0; pid /= 10) {
        reversed[n++] = static_cast<char>('0' + pid % 10);
      }
      for (int k = 0; k < n; ++k) digits[k] = reversed[n - 1 - k];
      digits[n] = '\0';
    }
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  return pid_ > 0;
}

bool DaemonProcess::start(const std::string& conninfo, std::vector<std::string> extra,
                          std::chrono::seconds ready_within) {
  if (!spawn(conninfo, std::move(extra))) return false;
  if (!wait_for_log("ready", ready_within)) return false;
  read_ports();
  return true;
}

void DaemonProcess::read_ports() {
  std::string text = log();
  if (auto at = text.find("listening on explorer "); at != std::string::npos) {
    auto line_end = text.find('\n', at);
    auto colon = text.rfind(':', line_end);
    explorer_port_ =
        static_cast<unsigned short>(std::stoi(text.substr(colon + 1, line_end - colon - 1)));
  }
  auto at = text.find("listening on http ");
  if (at == std::string::npos) at = text.find("listening on inherited http ");
  if (at != std::string::npos) {
    auto line_end = text.find('\n', at);
    auto colon = text.rfind(':', line_end);
    http_port_ =
        static_cast<unsigned short>(std::stoi(text.substr(colon + 1, line_end - colon - 1)));
  }
}

std::optional<int> DaemonProcess::wait_exit(std::chrono::milliseconds within) {
  if (pid_ <= 0) return std::nullopt;
  auto deadline = std::chrono::steady_clock::now() + within;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return -1;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
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
  return wait_exit(within);
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
