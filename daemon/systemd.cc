#include "daemon/systemd.h"

#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

namespace xrayd {

bool notify_systemd(std::string_view state) {
  // The sd_notify protocol: one datagram to the AF_UNIX socket named by
  // $NOTIFY_SOCKET ('@' prefix = abstract namespace).
  const char* path = std::getenv("NOTIFY_SOCKET");  // NOLINT(concurrency-mt-unsafe): read-only
  if (path == nullptr || path[0] == '\0') return true;
  std::size_t len = std::strlen(path);
  sockaddr_un addr{};
  if (len >= sizeof addr.sun_path) return false;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path, len);
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  auto addr_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len);
  ssize_t sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                          reinterpret_cast<const sockaddr*>(&addr), addr_len);
  ::close(fd);
  return sent == static_cast<ssize_t>(state.size());
}

std::optional<std::chrono::microseconds> watchdog_interval() {
  const char* usec = std::getenv("WATCHDOG_USEC");  // NOLINT(concurrency-mt-unsafe)
  if (usec == nullptr) return std::nullopt;
  const char* pid = std::getenv("WATCHDOG_PID");  // NOLINT(concurrency-mt-unsafe)
  if (pid != nullptr && std::strtol(pid, nullptr, 10) != ::getpid()) return std::nullopt;
  long long n = std::strtoll(usec, nullptr, 10);
  if (n <= 0) return std::nullopt;
  return std::chrono::microseconds(n);
}

std::vector<int> inherited_listen_fds() {
  std::vector<int> fds;
  const char* pid = std::getenv("LISTEN_PID");    // NOLINT(concurrency-mt-unsafe)
  const char* count = std::getenv("LISTEN_FDS");  // NOLINT(concurrency-mt-unsafe)
  if (pid == nullptr || count == nullptr) return fds;
  if (std::strtol(pid, nullptr, 10) != ::getpid()) return fds;
  long n = std::strtol(count, nullptr, 10);
  constexpr int kFirstFd = 3;  // SD_LISTEN_FDS_START
  for (long i = 0; i < n; ++i) {
    int fd = kFirstFd + static_cast<int>(i);
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    fds.push_back(fd);
  }
  return fds;
}

}  // namespace xrayd
