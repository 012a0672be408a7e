// FileLayer: every file operation of the spool goes through this interface,
// the seam where tests inject faults (fail the Nth write or sync, tear a
// write, lose unsynced bytes as a crash would; LevelDB's Env).
//
// PosixFileLayer is the real one. Implementations are stateless or guard
// their own state; the spool calls them from the sender thread only. Each
// call returns an error value rather than throwing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "errors.h"

namespace xray::sdk {

struct FileInfo {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::uint64_t size = 0;
  bool same_file(const FileInfo& o) const { return device == o.device && inode == o.inode; }
};

struct DirEntry {
  std::string name;
  std::uint64_t size = 0;
};

class FileLayer {
 public:
  virtual ~FileLayer() = default;

  // Creates `path` and missing parents (mode 0700); fine if it exists.
  [[nodiscard]] virtual Result<void> create_dir(const std::string& path) = 0;
  // Regular files in `dir`, with their sizes; files that vanish meanwhile are left out.
  [[nodiscard]] virtual Result<std::vector<DirEntry>> list(const std::string& dir) = 0;
  // Creates a new file (O_EXCL, mode 0600) opened for reading and appending.
  [[nodiscard]] virtual Result<int> create_exclusive(const std::string& path) = 0;
  // Opens an existing file read-only.
  [[nodiscard]] virtual Result<int> open_read(const std::string& path) = 0;
  virtual void close(int fd) = 0;
  // Appends all of `data`. On error some prefix may have been written.
  [[nodiscard]] virtual Result<void> append(int fd, std::string_view data) = 0;
  // Reads up to `n` bytes at `offset`; fewer only at end of file.
  [[nodiscard]] virtual Result<std::size_t> read_at(int fd, char* buf, std::size_t n,
                                                    std::uint64_t offset) = 0;
  // fdatasync.
  [[nodiscard]] virtual Result<void> sync(int fd) = 0;
  // fsync of a directory, so that a created or removed entry is durable.
  [[nodiscard]] virtual Result<void> sync_dir(const std::string& dir) = 0;
  [[nodiscard]] virtual Result<void> truncate(int fd, std::uint64_t size) = 0;
  // flock(LOCK_EX | LOCK_NB): true if taken, false if another open file holds it.
  // The lock lasts until `fd` is closed (or the process dies).
  [[nodiscard]] virtual Result<bool> try_lock(int fd) = 0;
  [[nodiscard]] virtual Result<FileInfo> stat_fd(int fd) = 0;
  [[nodiscard]] virtual Result<FileInfo> stat_path(const std::string& path) = 0;
  [[nodiscard]] virtual Result<void> remove(const std::string& path) = 0;
};

class PosixFileLayer : public FileLayer {
 public:
  Result<void> create_dir(const std::string& path) override;
  Result<std::vector<DirEntry>> list(const std::string& dir) override;
  Result<int> create_exclusive(const std::string& path) override;
  Result<int> open_read(const std::string& path) override;
  void close(int fd) override;
  Result<void> append(int fd, std::string_view data) override;
  Result<std::size_t> read_at(int fd, char* buf, std::size_t n, std::uint64_t offset) override;
  Result<void> sync(int fd) override;
  Result<void> sync_dir(const std::string& dir) override;
  Result<void> truncate(int fd, std::uint64_t size) override;
  Result<bool> try_lock(int fd) override;
  Result<FileInfo> stat_fd(int fd) override;
  Result<FileInfo> stat_path(const std::string& path) override;
  Result<void> remove(const std::string& path) override;
};

}  // namespace xray::sdk
