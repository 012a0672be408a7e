// DaemonProcess: a real `xrayd serve` child process for integration tests.
//
// start() runs the built daemon (XRAYD_BINARY) with the given flags plus a
// private socket path and HTTP on 127.0.0.1:0, writes its log to a file in a
// temporary folder, and waits (with a deadline) for the "ready" log line; the
// HTTP port is read from the "listening on http" line. The explorer listens
// on 127.0.0.1:0 too unless `extra` sets --explorer-listen; its port comes
// from the "listening on explorer" line (0 when it is disabled). stop() sends a signal
// and waits for the exit status. The destructor kills a daemon still running.
// Before start(), set_env() adds environment variables (NOTIFY_SOCKET, ...)
// and inherit_listeners() passes sockets the way systemd's socket activation
// does: as fds 3, 4, ... with LISTEN_FDS, and LISTEN_PID set to the child's
// pid after fork. One test thread uses it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace xray::testing {

class DaemonProcess {
 public:
  DaemonProcess();
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // Starts xrayd with `--postgres conninfo` and `extra` flags; waits for ready.
  // Returns false (and the log explains) if it did not become ready in time.
  [[nodiscard]] bool start(const std::string& conninfo, std::vector<std::string> extra = {},
                           std::chrono::seconds ready_within = std::chrono::seconds(30));
  // Like start(), but returns as soon as the process runs, without waiting.
  [[nodiscard]] bool spawn(const std::string& conninfo, std::vector<std::string> extra = {});

  // Before start(): an extra environment variable for the daemon.
  void set_env(const std::string& name, const std::string& value);
  // Before start(): these listening sockets become the daemon's fds 3, 4, ...
  // (in this order), announced by LISTEN_FDS/LISTEN_PID. The caller keeps
  // ownership of its own descriptors.
  void inherit_listeners(std::vector<int> fds) { inherited_ = std::move(fds); }
  // Waits up to `within` for the daemon to exit on its own; its exit code
  // (128+signal if killed by one), or nullopt if it still runs.
  std::optional<int> wait_exit(std::chrono::milliseconds within);

  // Sends `signal` and waits up to `within` for the exit; returns the exit
  // code (128+signal if killed by one), or nullopt if it is still running.
  std::optional<int> stop(int signal, std::chrono::milliseconds within);
  // SIGKILL and reap.
  void kill_now();
  void send_signal(int signal) const;
  bool running();

  unsigned short http_port() const { return http_port_; }
  unsigned short explorer_port() const { return explorer_port_; }
  const std::string& socket_path() const { return socket_path_; }
  const std::string& dir() const { return dir_; }
  pid_t pid() const { return pid_; }
  std::string log() const;
  // Waits until the log contains `text`; false on deadline.
  bool wait_for_log(const std::string& text, std::chrono::milliseconds within) const;
  // Peak resident set size of the running daemon (VmHWM), in bytes.
  std::size_t peak_rss_bytes() const;

 private:
  // Reads the HTTP and explorer ports from the log, once the listeners logged them.
  void read_ports();

  std::vector<std::string> env_;  // "NAME=value" added to the daemon's environment
  std::vector<int> inherited_;
  std::string dir_;
  std::string socket_path_;
  std::string log_path_;
  pid_t pid_ = -1;
  unsigned short http_port_ = 0;
  unsigned short explorer_port_ = 0;
};

}  // namespace xray::testing
