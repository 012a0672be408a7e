// SessionRegistry: the open client connections, so that shutdown can reach
// them (invariant 8) and max_connections can be enforced.
//
// A session registers itself when it starts and removes itself when it ends.
// shutdown_all() asks each live session to stop: work in progress is finished
// and answered, anything the client sends afterwards is answered "shutting
// down", and the connection closes once the client is quiet (or closes it),
// or at the shutdown deadline at the latest (invariant 8).
// Threads: any io thread; the mutex is held only to copy or edit the map,
// never across I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "daemon/sync.h"

namespace xrayd {

class Session {
 public:
  using Clock = std::chrono::steady_clock;

  // How long a stopping session waits with nothing in flight and nothing
  // received before it closes: long enough for a client to see its last
  // answer ("shutting down") and stop sending, short enough that idle
  // keep-alive connections do not hold up the exit.
  static constexpr std::chrono::milliseconds kShutdownLinger{500};

  virtual ~Session() = default;
  // Any thread: asks the session to stop (see SessionRegistry). Reads end by
  // `deadline` at the latest. Posts to the session's own strand; returns at once.
  virtual void shutdown(Clock::time_point deadline) = 0;
};

class SessionRegistry {
 public:
  SessionRegistry() = default;
  SessionRegistry(const SessionRegistry&) = delete;
  SessionRegistry& operator=(const SessionRegistry&) = delete;

  std::uint64_t add(std::weak_ptr<Session> session) XRAY_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    std::uint64_t id = ++next_id_;
    sessions_.emplace(id, std::move(session));
    return id;
  }

  void remove(std::uint64_t id) XRAY_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    sessions_.erase(id);
  }

  std::size_t size() XRAY_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return sessions_.size();
  }

  void shutdown_all(Session::Clock::time_point deadline) XRAY_EXCLUDES(mu_) {
    std::vector<std::shared_ptr<Session>> live;
    {
      MutexLock lock(mu_);
      for (auto& [id, weak] : sessions_) {
        if (auto s = weak.lock()) live.push_back(std::move(s));
      }
    }
    // Outside the lock: shutdown() posts, and a session may remove itself.
    for (auto& s : live) s->shutdown(deadline);
  }

 private:
  Mutex mu_;
  std::uint64_t next_id_ XRAY_GUARDED_BY(mu_) = 0;
  std::unordered_map<std::uint64_t, std::weak_ptr<Session>> sessions_ XRAY_GUARDED_BY(mu_);
};

}  // namespace xrayd
