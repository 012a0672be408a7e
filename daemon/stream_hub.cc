#include "daemon/stream_hub.h"

#include <algorithm>

namespace xrayd {

StreamSubscriber::Batch StreamSubscriber::take() {
  Batch batch;
  MutexLock lock(mu_);
  batch.events.assign(std::make_move_iterator(queue_.begin()),
                      std::make_move_iterator(queue_.end()));
  queue_.clear();
  batch.dropped = dropped_;
  batch.gap = gap_;
  dropped_ = 0;
  gap_ = false;
  return batch;
}

bool StreamSubscriber::push(std::shared_ptr<const std::string> event) {
  MutexLock lock(mu_);
  if (queue_.size() >= kQueueCapacity) {
    ++dropped_;
    return false;
  }
  queue_.push_back(std::move(event));
  return true;
}

void StreamSubscriber::mark_gap() {
  MutexLock lock(mu_);
  gap_ = true;
}

std::unique_ptr<StreamHub::Subscription> StreamHub::subscribe(StreamFilter filter,
                                                              std::size_t max_streams,
                                                              std::function<void()> wake) {
  auto subscriber = std::make_shared<StreamSubscriber>(std::move(filter), std::move(wake));
  {
    MutexLock lock(mu_);
    if (subscribers_.size() >= max_streams) return nullptr;
    subscribers_.push_back(subscriber);
    metrics_.stream_subscribers.store(static_cast<std::int64_t>(subscribers_.size()),
                                      std::memory_order_relaxed);
  }
  return std::make_unique<Subscription>(*this, std::move(subscriber));
}

void StreamHub::unsubscribe(const StreamSubscriber* subscriber) {
  MutexLock lock(mu_);
  std::erase_if(subscribers_, [subscriber](const auto& s) { return s.get() == subscriber; });
  metrics_.stream_subscribers.store(static_cast<std::int64_t>(subscribers_.size()),
                                    std::memory_order_relaxed);
}

std::size_t StreamHub::subscribers() const {
  MutexLock lock(mu_);
  return subscribers_.size();
}

std::vector<std::shared_ptr<StreamSubscriber>> StreamHub::snapshot() const {
  MutexLock lock(mu_);
  return subscribers_;
}

std::size_t StreamHub::publish(std::string_view app, std::string_view pipeline,
                               const std::shared_ptr<const std::string>& event) {
  std::size_t delivered = 0;
  // Outside the hub's lock: a subscriber's queue lock and its wake never nest in it.
  for (const auto& s : snapshot()) {
    if (!s->filter().matches(app, pipeline)) continue;
    if (s->push(event)) {
      ++delivered;
      metrics_.stream_events.fetch_add(1, std::memory_order_relaxed);
    } else {
      metrics_.stream_events_dropped.fetch_add(1, std::memory_order_relaxed);
    }
    // Woken even when full: the session may be idle with a full queue only
    // if a wake was lost, and one more costs nothing.
    s->wake_();
  }
  return delivered;
}

void StreamHub::publish_gap() {
  for (const auto& s : snapshot()) {
    s->mark_gap();
    s->wake_();
  }
}

}  // namespace xrayd
