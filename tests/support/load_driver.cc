#include "tests/support/load_driver.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <poll.h>
#include <sstream>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include "tests/support/clients.h"
#include "xray/wire.h"

namespace xray::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr const char* kIdPlaceholder = "@@load-id@@";

// The JSON "code" of an HTTP error body, or "" (a substring search is enough
// for the daemon's compact bodies).
std::string error_code(const std::string& body) {
  const std::string key = "\"code\":\"";
  auto at = body.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  return body.substr(at, body.find('"', at) - at);
}

int connect_unix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

const char* to_string(SnapshotOutcome outcome) {
  switch (outcome) {
    case SnapshotOutcome::kUnanswered:
      return "unanswered";
    case SnapshotOutcome::kCommitted:
      return "committed";
    case SnapshotOutcome::kRefused:
      return "refused";
    case SnapshotOutcome::kInvalid:
      return "invalid";
    case SnapshotOutcome::kFailed:
      return "failed";
  }
  return "?";
}

LoadDriver::LoadDriver(LoadOptions options) : options_(std::move(options)) {
  SnapshotSpec spec = options_.spec;
  spec.id = kIdPlaceholder;
  std::string json = make_snapshot(spec);
  auto at = json.find(kIdPlaceholder);
  before_id_ = json.substr(0, at);
  after_id_ = json.substr(at + std::strlen(kIdPlaceholder));
}

LoadDriver::~LoadDriver() {
  stop();
  join();
}

void LoadDriver::start() {
  if (!options_.socket_path.empty()) {
    for (int c = 0; c < options_.uds_clients; ++c) threads_.emplace_back([this, c] { run_uds(c); });
  }
  if (options_.http_port != 0) {
    for (int c = 0; c < options_.http_clients; ++c) {
      threads_.emplace_back([this, c] { run_http(c); });
    }
  }
}

void LoadDriver::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_.store(true);
  }
  cv_.notify_all();
}

void LoadDriver::join() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

std::string LoadDriver::snapshot_for(const std::string& id) const {
  return before_id_ + id + after_id_;
}

void LoadDriver::record(const std::string& id, SnapshotOutcome outcome) {
  {
    std::lock_guard lock(mu_);
    auto [it, inserted] = outcomes_.try_emplace(id, outcome);
    if (!inserted) {
      --counts_[static_cast<std::size_t>(it->second)];
      it->second = outcome;
    }
    ++counts_[static_cast<std::size_t>(outcome)];
  }
  cv_.notify_all();
}

bool LoadDriver::pause(milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [this] { return stopping(); });
  return !stopping();
}

std::size_t LoadDriver::count(SnapshotOutcome outcome) const {
  std::lock_guard lock(mu_);
  return counts_[static_cast<std::size_t>(outcome)];
}

std::size_t LoadDriver::sent() const {
  std::lock_guard lock(mu_);
  return outcomes_.size();
}

bool LoadDriver::wait_for(SnapshotOutcome outcome, std::size_t n, milliseconds within) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, within,
                      [&] { return counts_[static_cast<std::size_t>(outcome)] >= n; });
}

std::vector<std::string> LoadDriver::ids_with(SnapshotOutcome outcome) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> ids;
  for (const auto& [id, o] : outcomes_) {
    if (o == outcome) ids.push_back(id);
  }
  return ids;
}

std::string LoadDriver::summary() const {
  std::lock_guard lock(mu_);
  std::ostringstream out;
  out << "sent " << outcomes_.size();
  for (std::size_t i = 0; i < kOutcomeCount; ++i) {
    out << ", " << to_string(static_cast<SnapshotOutcome>(i)) << " " << counts_[i];
  }
  out << ", connect failures " << connect_failures_.load();
  return out.str();
}

void LoadDriver::run_uds(int client) {
  int fd = connect_unix(options_.socket_path);
  if (fd < 0) {
    ++connect_failures_;
    return;
  }
  std::map<std::uint64_t, std::string> pending;  // sequence → id, sent and not answered
  std::string out;                               // the frame being sent
  std::size_t out_off = 0;
  std::string in;
  std::uint64_t next_sequence = 1;
  std::size_t sent = 0;
  bool no_more = false;  // a failed ack was seen: send nothing new
  auto last_answer = Clock::now();
  auto next_send = Clock::now();
  char buf[65536];
  for (;;) {
    auto now = Clock::now();
    if (stopping() || sent >= options_.max_per_client) no_more = true;
    if (!no_more && out_off == out.size() && pending.size() < options_.uds_window &&
        now >= next_send) {
      std::uint64_t sequence = next_sequence++;
      std::string id =
          options_.prefix + "-u" + std::to_string(client) + "-" + std::to_string(sequence);
      out = wire::encode_snapshot_frame(sequence, snapshot_for(id));
      out_off = 0;
      if (pending.empty()) last_answer = now;
      pending.emplace(sequence, id);
      record(id, SnapshotOutcome::kUnanswered);
      ++sent;
      next_send = now + options_.pace;
    }
    if (no_more && pending.empty()) break;
    if (!pending.empty() && now - last_answer > options_.answer_timeout) break;  // overdue

    pollfd p{fd, static_cast<short>(POLLIN | (out_off < out.size() ? POLLOUT : 0)), 0};
    int wait_ms = 50;
    if (!no_more && out_off == out.size() && pending.size() < options_.uds_window) {
      auto until_send = std::chrono::duration_cast<milliseconds>(next_send - now).count();
      wait_ms = static_cast<int>(std::clamp<long long>(until_send, 0, 50));
    }
    if (::poll(&p, 1, wait_ms) < 0 && errno != EINTR) break;
    bool closed = false;
    if ((p.revents & POLLOUT) != 0) {
      ssize_t n =
          ::send(fd, out.data() + out_off, out.size() - out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        out_off += static_cast<std::size_t>(n);
      } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        closed = true;
      }
    }
    if ((p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        in.append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        closed = true;
      }
    }
    // Every complete ack frame received.
    while (in.size() >= wire::kHeaderBytes) {
      auto header = wire::decode_header(reinterpret_cast<const unsigned char*>(in.data()));
      std::size_t frame = wire::kHeaderBytes + header.header.payload_bytes;
      if (header.error || header.header.type != wire::FrameType::kAck) {
        closed = true;  // the daemon would never send this
        break;
      }
      if (in.size() < frame) break;
      auto ack = wire::decode_ack_payload(
          std::string_view(in).substr(wire::kHeaderBytes, frame - wire::kHeaderBytes));
      auto it = pending.find(header.header.sequence);
      if (ack && it != pending.end()) {
        SnapshotOutcome outcome = SnapshotOutcome::kFailed;
        switch (ack->status) {
          case wire::AckStatus::kCommitted:
            outcome = SnapshotOutcome::kCommitted;
            break;
          case wire::AckStatus::kBusy:
            outcome = SnapshotOutcome::kRefused;
            break;
          case wire::AckStatus::kInvalid:
            outcome = SnapshotOutcome::kInvalid;
            break;
          case wire::AckStatus::kFailed:
            outcome = SnapshotOutcome::kFailed;
            break;
        }
        // The SDK's rule: after a failed ack, stop sending on this connection.
        if (outcome == SnapshotOutcome::kFailed) no_more = true;
        record(it->second, outcome);
        pending.erase(it);
        last_answer = Clock::now();
      }
      in.erase(0, frame);
    }
    if (closed) break;
  }
  ::close(fd);
}

void LoadDriver::run_http(int client) {
  HttpClient http(options_.http_port);
  for (std::size_t n = 1; n <= options_.max_per_client && !stopping(); ++n) {
    if (!http.connect()) {
      ++connect_failures_;
      if (!pause(milliseconds(50))) break;
      continue;
    }
    std::string id = options_.prefix + "-h" + std::to_string(client) + "-" + std::to_string(n);
    record(id, SnapshotOutcome::kUnanswered);
    HttpReply reply =
        http.post("/v1/executions", "application/json", snapshot_for(id), options_.answer_timeout);
    if (reply.status == 0) break;  // no answer: the connection failed or the answer is overdue
    if (reply.status == 200) {
      record(id, SnapshotOutcome::kCommitted);
    } else if (reply.status == 503) {
      std::string code = error_code(reply.body);
      if (code == "busy" || code == "too_many_connections") {
        record(id, SnapshotOutcome::kRefused);
        // Retry-After says 1 s; a shorter pause keeps the test short.
        if (!pause(milliseconds(20))) break;
        continue;
      }
      record(id, SnapshotOutcome::kFailed);
      break;  // shutting down or database away: send nothing more
    } else {
      record(id, SnapshotOutcome::kInvalid);
    }
    if (options_.pace.count() > 0 && !pause(options_.pace)) break;
  }
}

std::vector<std::string> check_stored(const PgServer& pg, const LoadDriver& load) {
  // id → (executions rows, steps, evaluations), for every stored id of this load.
  struct Stored {
    int executions = 0;
    long steps = 0;
    long evaluations = 0;
  };
  std::unordered_map<std::string, Stored> stored;
  std::string rows = pg.query(
      "SELECT e.id, coalesce(s.n, 0), coalesce(v.n, 0) FROM executions e"
      " LEFT JOIN (SELECT app, execution_id, count(*) n FROM steps GROUP BY 1, 2) s"
      "   ON s.app = e.app AND s.execution_id = e.id"
      " LEFT JOIN (SELECT app, execution_id, count(*) n FROM evaluations GROUP BY 1, 2) v"
      "   ON v.app = e.app AND v.execution_id = e.id"
      " WHERE e.id LIKE '" +
      load.prefix() + "-%'");
  std::istringstream lines(rows);
  std::string line;
  while (std::getline(lines, line)) {
    auto bar1 = line.find('|');
    auto bar2 = line.find('|', bar1 + 1);
    if (bar1 == std::string::npos || bar2 == std::string::npos) continue;
    Stored& s = stored[line.substr(0, bar1)];
    ++s.executions;
    s.steps = std::stol(line.substr(bar1 + 1, bar2 - bar1 - 1));
    s.evaluations = std::stol(line.substr(bar2 + 1));
  }
  std::vector<std::string> problems;
  std::size_t total = 0;
  auto problem = [&](std::string text) {
    if (++total <= 20) problems.push_back(std::move(text));
  };
  for (const std::string& id : load.ids_with(SnapshotOutcome::kCommitted)) {
    auto it = stored.find(id);
    if (it == stored.end()) {
      problem(id + ": acknowledged as committed but not in executions");
      continue;
    }
    const Stored& s = it->second;
    if (s.executions != 1 || s.steps != load.expected_steps() ||
        s.evaluations != load.expected_evaluations()) {
      problem(id + ": " + std::to_string(s.executions) + " execution row(s), " +
              std::to_string(s.steps) + " step(s), " + std::to_string(s.evaluations) +
              " evaluation(s); expected 1, " + std::to_string(load.expected_steps()) + ", " +
              std::to_string(load.expected_evaluations()));
    }
  }
  for (auto outcome : {SnapshotOutcome::kRefused, SnapshotOutcome::kInvalid}) {
    for (const std::string& id : load.ids_with(outcome)) {
      if (stored.count(id) != 0) problem(id + ": answered " + to_string(outcome) + " but stored");
    }
  }
  if (total > problems.size()) {
    problems.push_back("... and " + std::to_string(total - problems.size()) + " more");
  }
  return problems;
}

}  // namespace xray::testing
