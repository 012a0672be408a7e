#include "file_layer.h"

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <sys/file.h>
#include <sys/stat.h>

namespace xray::sdk {
namespace {

FileInfo to_info(const struct stat& st) {
  return {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
          static_cast<std::uint64_t>(st.st_size)};
}

}  // namespace

Result<void> PosixFileLayer::create_dir(const std::string& path) {
  // mkdir -p, one component at a time.
  for (std::size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    std::string prefix = path.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) return last_error();
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return last_error();
  if (!S_ISDIR(st.st_mode)) {
    return boost::system::error_code(ENOTDIR, boost::system::system_category());
  }
  return {};
}

Result<std::vector<DirEntry>> PosixFileLayer::list(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return last_error();
  std::vector<DirEntry> out;
  int dfd = ::dirfd(d);
  while (struct dirent* e = ::readdir(d)) {
    struct stat st {};
    if (::fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // vanished
    if (!S_ISREG(st.st_mode)) continue;
    out.push_back({e->d_name, static_cast<std::uint64_t>(st.st_size)});
  }
  ::closedir(d);
  return out;
}

Result<int> PosixFileLayer::create_exclusive(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return last_error();
  return fd;
}

Result<int> PosixFileLayer::open_read(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return last_error();
  return fd;
}

void PosixFileLayer::close(int fd) { ::close(fd); }

Result<void> PosixFileLayer::append(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_error();
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

Result<std::size_t> PosixFileLayer::read_at(int fd, char* buf, std::size_t n,
                                            std::uint64_t offset) {
  std::size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, buf + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return last_error();
    }
    if (r == 0) break;
    done += static_cast<std::size_t>(r);
  }
  return done;
}

Result<void> PosixFileLayer::sync(int fd) {
  if (::fdatasync(fd) != 0) return last_error();
  return {};
}

Result<void> PosixFileLayer::sync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return last_error();
  int rc = ::fsync(fd);
  auto ec = last_error();
  ::close(fd);
  if (rc != 0) return ec;
  return {};
}

Result<void> PosixFileLayer::truncate(int fd, std::uint64_t size) {
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) return last_error();
  return {};
}

Result<bool> PosixFileLayer::try_lock(int fd) {
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return false;
    if (errno != EINTR) return Result<bool>(boost::system::in_place_error, last_error());
  }
  return true;
}

Result<FileInfo> PosixFileLayer::stat_fd(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return last_error();
  return to_info(st);
}

Result<FileInfo> PosixFileLayer::stat_path(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return last_error();
  return to_info(st);
}

Result<void> PosixFileLayer::remove(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return last_error();
  return {};
}

}  // namespace xray::sdk
