// LiveConfig: the current Config, replaceable at run time (SIGHUP reload).
//
// Readers take a shared_ptr snapshot per request or batch and use it to the
// end, so one request never sees half of an old config and half of a new one.
// Any thread may call get(); set() is called by the service on SIGHUP.
#pragma once

#include <atomic>
#include <memory>

#include "daemon/config.h"

namespace xrayd {

class LiveConfig {
 public:
  explicit LiveConfig(Config config)
      : current_(std::make_shared<const Config>(std::move(config))) {}
  LiveConfig(const LiveConfig&) = delete;
  LiveConfig& operator=(const LiveConfig&) = delete;

  std::shared_ptr<const Config> get() const { return current_.load(); }
  void set(Config config) { current_.store(std::make_shared<const Config>(std::move(config))); }

 private:
  std::atomic<std::shared_ptr<const Config>> current_;
};

}  // namespace xrayd
