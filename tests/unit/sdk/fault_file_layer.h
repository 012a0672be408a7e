// FaultFileLayer: the real file layer with faults on request (STYLE §8,
// LevelDB's fault-injection Env). It can fail the Nth append — after writing
// part of it, like a torn write — or the Nth sync, and crash(): cut every
// file it wrote back to what was synced, plus an optional torn remainder,
// as a power loss would. Counting starts when the fault is armed. Guarded by
// a mutex, so two spools on two threads may share one.
#pragma once

#include <cerrno>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>

#include "sdk/src/file_layer.h"

namespace xray::testing {

class FaultFileLayer : public sdk::PosixFileLayer {
 public:
  // The `n`-th append from now (1 = the next) writes its first `partial_bytes`, then fails (EIO).
  void fail_append_at(int n, std::size_t partial_bytes = 0) {
    std::lock_guard<std::mutex> lock(mu_);
    appends_until_failure_ = n;
    partial_bytes_ = partial_bytes;
  }
  // The `n`-th sync from now fails (EIO).
  void fail_sync_at(int n) {
    std::lock_guard<std::mutex> lock(mu_);
    syncs_until_failure_ = n;
  }
  // Truncates every file appended to through this layer to its synced size
  // plus `torn_bytes` of what followed (a crash in the middle of a write).
  void crash(std::size_t torn_bytes = 0) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [path, f] : files_) {
      std::error_code ec;
      auto size = std::filesystem::file_size(path, ec);
      if (ec) continue;
      std::uint64_t keep = std::min<std::uint64_t>(size, f.synced + torn_bytes);
      std::filesystem::resize_file(path, keep, ec);
    }
  }
  int appends() const {
    std::lock_guard<std::mutex> lock(mu_);
    return appends_;
  }

  sdk::Result<int> create_exclusive(const std::string& path) override {
    auto fd = PosixFileLayer::create_exclusive(path);
    if (fd) {
      std::lock_guard<std::mutex> lock(mu_);
      fd_paths_[*fd] = path;
      files_[path] = {};
    }
    return fd;
  }
  sdk::Result<void> append(int fd, std::string_view data) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++appends_;
      if (appends_until_failure_ > 0 && --appends_until_failure_ == 0) {
        (void)PosixFileLayer::append(fd, data.substr(0, std::min(partial_bytes_, data.size())));
        return boost::system::error_code(EIO, boost::system::system_category());
      }
    }
    return PosixFileLayer::append(fd, data);
  }
  sdk::Result<void> sync(int fd) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (syncs_until_failure_ > 0 && --syncs_until_failure_ == 0) {
        return boost::system::error_code(EIO, boost::system::system_category());
      }
    }
    auto r = PosixFileLayer::sync(fd);
    if (r) {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = fd_paths_.find(fd);
      if (it != fd_paths_.end()) {
        if (auto info = PosixFileLayer::stat_fd(fd)) files_[it->second].synced = info->size;
      }
    }
    return r;
  }
  void close(int fd) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      fd_paths_.erase(fd);
    }
    PosixFileLayer::close(fd);
  }

 private:
  struct Written {
    std::uint64_t synced = 0;
  };
  mutable std::mutex mu_;
  std::map<int, std::string> fd_paths_;
  std::map<std::string, Written> files_;
  int appends_ = 0;
  int appends_until_failure_ = 0;
  std::size_t partial_bytes_ = 0;
  int syncs_until_failure_ = 0;
};

}  // namespace xray::testing
