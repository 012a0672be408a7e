// StreamHub: the subscribers of the live stream (GET /v1/stream), each with
// its filter and a bounded queue of events, and the fan-out from the live
// feed to them.
//
// The live feed publishes each committed execution once, as the finished
// Server-Sent Events text; the hub queues that one shared string for every
// subscriber whose filter matches and wakes its session, which writes what is
// queued. Delivery is best-effort: a subscriber whose queue holds
// kQueueCapacity events loses the next ones, counted (its session then
// sends `event: lagged`, and xray_stream_events_dropped_total counts them),
// so a slow client costs a bounded amount of memory and never slows the feed
// or the other subscribers.
//
// Threads: any thread may call any method. Locks are held only to touch the
// subscriber list or one queue; `wake` callbacks run without any lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/metrics.h"
#include "daemon/sync.h"

namespace xrayd {

// Which executions a subscriber wants; an empty member matches any value.
struct StreamFilter {
  std::string app;
  std::string pipeline;

  bool matches(std::string_view app_value, std::string_view pipeline_value) const {
    return (app.empty() || app == app_value) && (pipeline.empty() || pipeline == pipeline_value);
  }
};

class StreamSubscriber {
 public:
  static constexpr std::size_t kQueueCapacity = 256;

  struct Batch {
    std::vector<std::shared_ptr<const std::string>> events;  // SSE text, oldest first
    std::uint64_t dropped = 0;                               // events lost since the last take()
    bool gap = false;  // events may have been lost uncounted (the feed reconnected)
  };

  StreamSubscriber(StreamFilter filter, std::function<void()> wake)
      : filter_(std::move(filter)), wake_(std::move(wake)) {}

  // The subscriber's session: everything queued since the last call.
  Batch take() XRAY_EXCLUDES(mu_);

  const StreamFilter& filter() const { return filter_; }

 private:
  friend class StreamHub;
  // Queues `event`; false when the queue is full (the event is dropped and counted).
  bool push(std::shared_ptr<const std::string> event) XRAY_EXCLUDES(mu_);
  void mark_gap() XRAY_EXCLUDES(mu_);

  const StreamFilter filter_;
  const std::function<void()> wake_;
  Mutex mu_;
  std::deque<std::shared_ptr<const std::string>> queue_ XRAY_GUARDED_BY(mu_);
  std::uint64_t dropped_ XRAY_GUARDED_BY(mu_) = 0;
  bool gap_ XRAY_GUARDED_BY(mu_) = false;
};

class StreamHub {
 public:
  // `metrics` must outlive the hub.
  explicit StreamHub(Metrics& metrics) : metrics_(metrics) {}
  StreamHub(const StreamHub&) = delete;
  StreamHub& operator=(const StreamHub&) = delete;

  // Unsubscribes when destroyed. Held by the session for as long as it streams.
  class Subscription {
   public:
    Subscription(StreamHub& hub, std::shared_ptr<StreamSubscriber> subscriber)
        : hub_(hub), subscriber_(std::move(subscriber)) {}
    ~Subscription() { hub_.unsubscribe(subscriber_.get()); }
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    StreamSubscriber& subscriber() { return *subscriber_; }

   private:
    StreamHub& hub_;
    std::shared_ptr<StreamSubscriber> subscriber_;
  };

  // A new subscriber with `filter`, or null when `max_streams` are subscribed
  // already. `wake` is called after events are queued for it, from the
  // publishing thread; it must not block (it posts to the session's strand).
  std::unique_ptr<Subscription> subscribe(StreamFilter filter, std::size_t max_streams,
                                          std::function<void()> wake) XRAY_EXCLUDES(mu_);

  std::size_t subscribers() const XRAY_EXCLUDES(mu_);

  // Queues `event` (SSE text) for every subscriber whose filter matches
  // (app, pipeline), then wakes them. Returns how many received it.
  std::size_t publish(std::string_view app, std::string_view pipeline,
                      const std::shared_ptr<const std::string>& event) XRAY_EXCLUDES(mu_);

  // Tells every subscriber that events may have been lost (the feed lost its
  // connection to PostgreSQL, or could not fetch a batch).
  void publish_gap() XRAY_EXCLUDES(mu_);

 private:
  void unsubscribe(const StreamSubscriber* subscriber) XRAY_EXCLUDES(mu_);
  std::vector<std::shared_ptr<StreamSubscriber>> snapshot() const XRAY_EXCLUDES(mu_);

  Metrics& metrics_;
  mutable Mutex mu_;
  std::vector<std::shared_ptr<StreamSubscriber>> subscribers_ XRAY_GUARDED_BY(mu_);
};

}  // namespace xrayd
