#include "daemon/live_feed.h"

#include <algorithm>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <sys/eventfd.h>

#include "daemon/check.h"
#include "daemon/commit_notice.h"
#include "daemon/explorer_queries.h"
#include "daemon/url.h"

namespace xrayd {
namespace {

// Executions fetched per statement; a burst of notices is fetched in slices.
constexpr std::size_t kFetchSlice = 500;

}  // namespace

LiveFeed::LiveFeed(Options options, StreamHub& hub, Metrics& metrics, Logger& log)
    : options_(std::move(options)), hub_(hub), metrics_(metrics), log_(log) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  // Belief: eventfd fails only when the process is out of descriptors at startup.
  XRAY_CHECK(wake_fd_ >= 0);
}

LiveFeed::~LiveFeed() {
  stop();
  ::close(wake_fd_);
}

void LiveFeed::start() {
  // Belief: start() is called once, by the owner.
  XRAY_CHECK(!thread_.joinable());
  thread_ = std::thread(&LiveFeed::run, this);
}

void LiveFeed::stop() {
  stopping_.store(true, std::memory_order_relaxed);
  const std::uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(wake_fd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
}

void LiveFeed::wait(int fd, std::chrono::milliseconds timeout) {
  pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {fd, POLLIN, 0}};
  ::poll(fds, fd >= 0 ? 2 : 1, static_cast<int>(timeout.count()));
}

std::unique_ptr<PgConnection> LiveFeed::connect() {
  auto conn = PgConnection::connect(options_.conninfo, "xrayd-live-feed");
  PgResult<void> ready =
      conn ? (*conn)->exec(
                 "SET statement_timeout = " + std::to_string(options_.statement_timeout.count()) +
                 "; SET default_transaction_read_only = on; LISTEN " + kCommitChannel)
           : PgResult<void>(conn.error());
  if (!ready) {
    log_.warn("live-feed", "cannot LISTEN on PostgreSQL: ", ready.error().client_message());
    return nullptr;
  }
  (*conn)->set_notice_handler(
      [this](std::string_view notice) { log_.warn("live-feed", "PostgreSQL: ", notice); });
  return std::move(*conn);
}

bool LiveFeed::publish(PgConnection& conn,
                       const std::vector<std::pair<std::string, std::string>>& pairs) {
  for (std::size_t from = 0; from < pairs.size(); from += kFetchSlice) {
    boost::json::array slice;
    for (std::size_t i = from; i < std::min(pairs.size(), from + kFetchSlice); ++i) {
      slice.push_back(boost::json::array{pairs[i].first.c_str(), pairs[i].second.c_str()});
    }
    SqlParams params;
    const std::string sql = stream_summaries_sql(boost::json::serialize(slice), params);
    auto rows = conn.query(sql, params.values());
    if (!rows) {
      metrics_.count_request(ExplorerEndpoint::kLiveFeed, rows.error().retryable()
                                                              ? ExplorerOutcome::kUnavailable
                                                              : ExplorerOutcome::kFailed);
      log_.warn("live-feed", "cannot fetch committed executions: ", rows.error().client_message());
      return false;
    }
    metrics_.count_request(ExplorerEndpoint::kLiveFeed, ExplorerOutcome::kOk);
    for (std::size_t r = 0; r < rows->rows(); ++r) {
      const std::string_view item = rows->get(r, 0);
      const std::string_view app = rows->get(r, 1);
      const std::string_view id = rows->get(r, 2);
      // The item is a JSON object: its closing brace makes way for the link.
      auto event = std::make_shared<std::string>();
      event->reserve(item.size() + 64);
      event->append("event: execution\ndata: ");
      // One data line: JSON text has raw line breaks only between tokens,
      // where a space means the same.
      std::string json(item.substr(0, item.size() - 1));
      std::replace_if(
          json.begin(), json.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
      event->append(json);
      event->append(", \"execution_url\" : \"").append(execution_url(app, id)).append("\"}\n\n");
      hub_.publish(app, rows->get(r, 3), event);
    }
  }
  return true;
}

void LiveFeed::run() {
  pthread_setname_np(pthread_self(), "xrayd-live-feed");
  std::unique_ptr<PgConnection> conn;
  std::chrono::milliseconds backoff{0};
  bool ever_listened = false;
  while (!stopping_.load(std::memory_order_relaxed)) {
    if (conn == nullptr) {
      conn = connect();
      if (conn == nullptr) {
        backoff = backoff.count() == 0 ? options_.reconnect_min
                                       : std::min(backoff * 2, options_.reconnect_max);
        wait(-1, backoff);
        continue;
      }
      backoff = {};
      listening_.store(true, std::memory_order_relaxed);
      if (ever_listened) {
        ++metrics_.live_feed_reconnects;
        log_.info("live-feed", "listening again");
        // Notices sent while the connection was down are gone.
        hub_.publish_gap();
      } else {
        log_.info("live-feed", "listening on ", kCommitChannel);
      }
      ever_listened = true;
    }
    // libpq may already hold notices it read during the last fetch, so take
    // before waiting on the socket.
    auto notices = conn->take_notifications();
    if (!notices) {
      log_.warn("live-feed", "lost the PostgreSQL connection: ", notices.error().client_message());
      conn.reset();
      listening_.store(false, std::memory_order_relaxed);
      hub_.publish_gap();
      continue;
    }
    if (notices->empty()) {
      wait(conn->socket(), std::chrono::seconds(1));
      continue;
    }
    // Nobody subscribes: nothing to fetch.
    if (hub_.subscribers() == 0) continue;
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const auto& n : *notices) {
      if (n.channel != kCommitChannel) continue;
      auto more = parse_commit_notice(n.payload);
      pairs.insert(pairs.end(), std::make_move_iterator(more.begin()),
                   std::make_move_iterator(more.end()));
    }
    if (pairs.empty()) continue;
    if (!publish(*conn, pairs)) {
      hub_.publish_gap();
      if (!conn->healthy()) {
        conn.reset();
        listening_.store(false, std::memory_order_relaxed);
      }
    }
  }
  listening_.store(false, std::memory_order_relaxed);
}

}  // namespace xrayd
