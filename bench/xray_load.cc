// xray-load: sends generated snapshots to xrayd over HTTP or the Unix socket
// and reports throughput, ack latency and every non-committed answer.
//
// Shape of a run. `--threads` io threads each run their own io_context (so no
// strands and no locks on the hot path); connections are dealt to them round
// robin. Every connection runs "slots": HTTP has one per connection (one
// request in flight, keep-alive), the Unix socket `--inflight` per connection
// sharing one socket, acks paired with frames by sequence number. A slot
// loops: take a ticket from the shared Schedule, (open loop) sleep until the
// ticket's intended send time, take snapshot number `ticket.index` from the
// BodySource, send it, wait for its answer, record. Tickets stop at `--count`
// or `--duration`; the answers still due are awaited (each up to --timeout).
//
// Latency is measured from the intended send time in open-loop mode, so a
// daemon that stalls is charged for every snapshot that should have been
// sent meanwhile (no coordinated omission); in closed-loop mode from the
// moment the snapshot was handed to the socket.
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <signal.h>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/program_options.hpp>
#include <libpq-fe.h>

#include "bench/latency_histogram.h"
#include "bench/snapshot_generator.h"
#include "xray/wire.h"

namespace xray::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace po = boost::program_options;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;
using tcp = asio::ip::tcp;
using uds = asio::local::stream_protocol;
constexpr auto kAsTuple = asio::as_tuple(asio::use_awaitable);

// Exit codes, also listed in --help.
constexpr int kExitOk = 0;
constexpr int kExitProblems = 1;  // errors, timeouts, invalid/failed answers, verify found gaps
constexpr int kExitUsage = 2;
constexpr int kExitUnreachable = 3;  // could not connect before the run

struct Options {
  // Target.
  std::string http = "127.0.0.1:4000";
  std::string uds_path;  // non-empty: use the Unix socket instead of HTTP
  std::string target_path = "/v1/executions";
  bool expect_ack = true;
  std::vector<std::string> headers;
  // Load.
  std::size_t connections = 4;
  std::size_t inflight = 16;
  std::size_t threads = 1;
  double rate = 0;  // snapshots/s; 0 = closed loop
  std::uint64_t count = 0;
  double duration_s = 10;
  double timeout_s = 30;
  bool retry_busy = false;
  std::chrono::milliseconds retry_delay{20};
  // Output.
  bool json = false;
  std::string ids_out;
  std::string verify;
  // Snapshots.
  GeneratorOptions gen;
  std::size_t pool = 2000;
  std::string mix_text = "50:949,500:50,5000:1";

  bool open_loop() const { return rate > 0; }
  bool keep_ids() const { return !ids_out.empty() || !verify.empty(); }
  std::string target_name() const {
    return uds_path.empty() ? "http://" + http + target_path : "unix:" + uds_path;
  }
};

// ---------------------------------------------------------------------------
// Schedule: hands out tickets (snapshot index + intended send time) to every
// slot on every thread, and says when to stop. Any thread.

struct Ticket {
  std::uint64_t index;
  Clock::time_point intended;
};

class Schedule {
 public:
  Schedule(const Options& o, Clock::time_point start)
      : count_(o.count),
        rate_(o.rate),
        start_(start),
        deadline_(o.duration_s > 0 ? start + std::chrono::duration_cast<Clock::duration>(
                                                 std::chrono::duration<double>(o.duration_s))
                                   : Clock::time_point::max()) {}

  std::optional<Ticket> claim() {
    if (stopped_.load(std::memory_order_relaxed)) return std::nullopt;
    const auto now = Clock::now();
    // Open loop too stops at the deadline even when behind schedule: the run
    // is bounded, and unsent() reports the backlog left behind.
    if (now >= deadline_) return std::nullopt;
    const std::uint64_t k = next_.fetch_add(1, std::memory_order_relaxed);
    if (count_ != 0 && k >= count_) return std::nullopt;
    if (rate_ > 0) {
      const auto intended =
          start_ + std::chrono::duration_cast<Clock::duration>(
                       std::chrono::duration<double>(static_cast<double>(k) / rate_));
      if (intended >= deadline_) return std::nullopt;
      handed_out_.fetch_add(1, std::memory_order_relaxed);
      return Ticket{k, intended};
    }
    handed_out_.fetch_add(1, std::memory_order_relaxed);
    return Ticket{k, now};
  }
  // Sending stops: after SIGINT/SIGTERM.
  void stop() { stopped_.store(true, std::memory_order_relaxed); }
  bool stopped() const { return stopped_.load(std::memory_order_relaxed); }
  bool sending() const { return !stopped() && Clock::now() < deadline_; }
  // Open loop: snapshots whose intended time fell inside the run but that were
  // never sent, because every slot was still waiting for earlier answers.
  std::uint64_t unsent() const {
    if (rate_ <= 0 || stopped() || deadline_ == Clock::time_point::max()) return 0;
    const double window = std::chrono::duration<double>(deadline_ - start_).count();
    auto due = static_cast<std::uint64_t>(std::ceil(window * rate_));
    if (count_ != 0) due = std::min(due, count_);
    const std::uint64_t sent = handed_out_.load(std::memory_order_relaxed);
    return due > sent ? due - sent : 0;
  }
  Clock::time_point start() const { return start_; }

 private:
  const std::uint64_t count_;
  const double rate_;
  const Clock::time_point start_;
  const Clock::time_point deadline_;
  // Relaxed throughout: counters and a stop hint; no other data is published
  // through them (the threads' results are read after join()).
  std::atomic<std::uint64_t> next_{0};
  std::atomic<std::uint64_t> handed_out_{0};
  std::atomic<bool> stopped_{false};
};

// ---------------------------------------------------------------------------
// What one send produced, and the per-thread tallies.

enum class Outcome { kCommitted, kRefused, kInvalid, kFailed, kError, kTimeout };

struct Answer {
  Outcome outcome = Outcome::kError;
  std::string message;
};

struct Stats {
  std::uint64_t committed = 0, refused = 0, invalid = 0, failed = 0, errors = 0, timeouts = 0;
  std::uint64_t retries = 0, late_acks = 0;
  std::uint64_t committed_bytes = 0, committed_steps = 0;
  LatencyHistogram latency;      // committed snapshots only
  std::vector<std::string> ids;  // committed ids, when --ids-out or --verify
  // Non-committed answers grouped by message, for the report (at most kMaxSamples kinds).
  struct Sample {
    std::string message;
    std::uint64_t count = 0;
    std::string example_id;
  };
  static constexpr std::size_t kMaxSamples = 10;
  std::vector<Sample> samples;
  Clock::time_point last_done{};

  void note(const std::string& message, std::uint64_t n, const std::string& id) {
    for (auto& s : samples) {
      if (s.message == message) {
        s.count += n;
        return;
      }
    }
    if (samples.size() < kMaxSamples) samples.push_back({message, n, id});
  }

  void record(const Answer& a, const GeneratedSnapshot& snap, Clock::duration latency,
              bool keep_ids) {
    last_done = Clock::now();
    switch (a.outcome) {
      case Outcome::kCommitted:
        ++committed;
        committed_bytes += snap.json.size();
        committed_steps += snap.steps;
        this->latency.record(latency);
        if (keep_ids) ids.push_back(snap.id);
        return;
      case Outcome::kRefused:
        ++refused;
        return;
      case Outcome::kInvalid:
        ++invalid;
        break;
      case Outcome::kFailed:
        ++failed;
        break;
      case Outcome::kError:
        ++errors;
        break;
      case Outcome::kTimeout:
        ++timeouts;
        break;
    }
    note(a.message, 1, snap.id);
  }

  void merge(Stats&& o) {
    committed += o.committed;
    refused += o.refused;
    invalid += o.invalid;
    failed += o.failed;
    errors += o.errors;
    timeouts += o.timeouts;
    retries += o.retries;
    late_acks += o.late_acks;
    committed_bytes += o.committed_bytes;
    committed_steps += o.committed_steps;
    latency.merge(o.latency);
    ids.insert(ids.end(), std::make_move_iterator(o.ids.begin()),
               std::make_move_iterator(o.ids.end()));
    for (const auto& s : o.samples) note(s.message, s.count, s.example_id);
    last_done = std::max(last_done, o.last_done);
  }
};

// Where each ticket's snapshot comes from. Generating costs about 50 µs of
// CPU per snapshot of the default mix, which on a small machine would be
// taken from the daemon under test; with a pool, `pool` snapshots are
// generated before the run and snapshot k is pool entry k % pool with the id
// of snapshot k (a copy and an id patch, a few µs). Ids stay unique and
// deterministic; content repeats every `pool` snapshots. Read-only during
// the run, so any thread may call get().
class BodySource {
 public:
  BodySource(const SnapshotGenerator& gen, std::size_t pool) : gen_(gen) {
    pool_.reserve(pool);
    for (std::size_t i = 0; i < pool; ++i) pool_.push_back(gen.generate(i));
  }

  GeneratedSnapshot get(std::uint64_t index) const {
    if (pool_.empty()) return gen_.generate(index);
    GeneratedSnapshot snap = pool_[index % pool_.size()];
    if (index < pool_.size()) return snap;
    // Ids of one run have one length, and the body starts {"id":"<id>" (snapshot_generator.h).
    std::string id = gen_.id_for(index);
    snap.json.replace(kIdOffset, snap.id.size(), id);
    snap.id = std::move(id);
    return snap;
  }

 private:
  static constexpr std::size_t kIdOffset = 7;  // strlen("{\"id\":\"")
  const SnapshotGenerator& gen_;
  std::vector<GeneratedSnapshot> pool_;
};

// One io thread: its io_context and its tallies. The connections and slots
// dealt to it touch only these.
struct Worker {
  explicit Worker(const Options& o) : opts(o) {}
  const Options& opts;
  // Both set once the connections are open, before the run starts.
  const BodySource* bodies = nullptr;
  Schedule* schedule = nullptr;
  asio::io_context ioc{1};
  Stats stats;
};

std::chrono::nanoseconds seconds_to_ns(double s) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(s));
}

std::string truncate(std::string s, std::size_t n = 300) {
  if (s.size() > n) {
    s.resize(n);
    s += "...";
  }
  return s;
}

// ---------------------------------------------------------------------------
// HTTP: one request in flight per keep-alive connection.

class HttpConnection {
 public:
  HttpConnection(Worker& w, tcp::resolver::results_type endpoints, std::string host)
      : w_(w), stream_(w.ioc), endpoints_(std::move(endpoints)), host_(std::move(host)) {}

  // Before the run: starts connecting; the outcome shows in connect_error().
  void start_connect(std::chrono::nanoseconds timeout) {
    stream_.expires_after(timeout);
    stream_.async_connect(endpoints_, [this](error_code ec, const tcp::endpoint&) {
      connect_error_ = ec;
      open_ = !ec;
      if (open_) stream_.socket().set_option(tcp::no_delay(true), ec);
    });
  }
  error_code connect_error() const { return connect_error_; }

  Worker& worker() { return w_; }
  bool dead() const { return dead_; }
  std::size_t slots() const { return 1; }

  // Sends one snapshot and waits for the response. A broken connection is
  // reopened once per send; if that fails the connection is dead.
  asio::awaitable<Answer> send(const std::string& json) {
    if (!open_) {
      stream_.expires_after(seconds_to_ns(w_.opts.timeout_s));
      auto [ec, ep] = co_await stream_.async_connect(endpoints_, kAsTuple);
      if (ec) {
        dead_ = true;
        co_return Answer{Outcome::kError, "reconnect failed: " + ec.message()};
      }
      stream_.socket().set_option(tcp::no_delay(true), ec);  // latency only; failure is harmless
      buffer_.clear();
      open_ = true;
    }
    http::request<http::string_body> req{http::verb::post, w_.opts.target_path, 11};
    req.set(http::field::host, host_);
    req.set(http::field::content_type, "application/json");
    for (const auto& h : w_.opts.headers) {
      const auto colon = h.find(':');
      const auto value_at = h.find_first_not_of(' ', colon + 1);
      req.set(h.substr(0, colon), value_at == std::string::npos ? "" : h.substr(value_at));
    }
    req.keep_alive(true);
    req.body() = json;
    req.prepare_payload();

    stream_.expires_after(seconds_to_ns(w_.opts.timeout_s));
    auto [wec, wn] = co_await http::async_write(stream_, req, kAsTuple);
    // Even when the write fails, try to read: a server may answer before the
    // body is in (413, 400) and close, which breaks our write.
    if (wec) stream_.expires_after(std::chrono::seconds(1));
    http::response<http::string_body> res;
    auto [rec, rn] = co_await http::async_read(stream_, buffer_, res, kAsTuple);
    if (wec && !rec) {
      close();
      co_return classify(res);
    }
    if (rec) {
      close();
      if (wec) co_return Answer{Outcome::kError, "write: " + wec.message()};
      if (rec == beast::error::timeout) co_return Answer{Outcome::kTimeout, "no response in time"};
      co_return Answer{Outcome::kError, "read: " + rec.message()};
    }
    if (!res.keep_alive()) close();
    co_return classify(res);
  }

  void close() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    open_ = false;
  }

 private:
  Answer classify(const http::response<http::string_body>& res) const {
    const unsigned status = res.result_int();
    std::string what = "HTTP " + std::to_string(status) + " " + truncate(res.body());
    if (status >= 200 && status < 300) return {Outcome::kCommitted, {}};
    if (status == 503 || status == 429) return {Outcome::kRefused, what};
    if (status == 400 || status == 413 || status == 415 || status == 422) {
      return {Outcome::kInvalid, what};
    }
    if (status >= 500) return {Outcome::kFailed, what};
    return {Outcome::kError, "unexpected " + what};
  }

  Worker& w_;
  beast::tcp_stream stream_;
  tcp::resolver::results_type endpoints_;
  std::string host_;
  beast::flat_buffer buffer_;
  error_code connect_error_;
  bool open_ = false;
  bool dead_ = false;
};

// ---------------------------------------------------------------------------
// Unix socket: `inflight` slots share one socket. Frames are queued and
// written together; one read loop pairs acks with waiting slots by sequence.
// Everything runs on the worker's single thread, so plain members suffice.

class UdsConnection {
 public:
  UdsConnection(Worker& w, std::string path) : w_(w), socket_(w.ioc), path_(std::move(path)) {}

  void start_connect(std::chrono::nanoseconds) {
    // connect(2) on a Unix socket either succeeds or fails at once.
    socket_.async_connect(uds::endpoint(path_), [this](error_code ec) { connect_error_ = ec; });
  }
  error_code connect_error() const { return connect_error_; }

  Worker& worker() { return w_; }
  bool dead() const { return dead_; }
  std::size_t slots() const { return w_.opts.inflight; }

  // Called once, after connecting: starts the ack reader.
  void start() { asio::co_spawn(w_.ioc, read_loop(), asio::detached); }

  asio::awaitable<Answer> send(const std::string& json) {
    if (dead_) co_return Answer{Outcome::kError, dead_reason_};
    const std::uint64_t seq = next_sequence_++;
    asio::steady_timer timer(w_.ioc, seconds_to_ns(w_.opts.timeout_s));
    std::optional<Answer> answer;
    pending_.emplace(seq, Pending{&timer, &answer});
    queue_.push_back(wire::encode_snapshot_frame(seq, json));
    if (!writing_) {
      writing_ = true;  // set here, not in write_loop: a second send may come before it runs
      asio::co_spawn(w_.ioc, write_loop(), asio::detached);
    }
    co_await timer.async_wait(kAsTuple);  // cancelled by the ack (or by fail_all)
    if (!answer) {
      pending_.erase(seq);
      co_return Answer{Outcome::kTimeout, "no ack within the timeout"};
    }
    co_return std::move(*answer);
  }

  // The last slot has finished: closing ends the read loop.
  void slot_done() {
    if (--slots_running_ == 0) close();
  }
  void set_slots_running(std::size_t n) { slots_running_ = n; }

 private:
  struct Pending {
    asio::steady_timer* timer;
    std::optional<Answer>* answer;
  };

  asio::awaitable<void> write_loop() {
    while (!queue_.empty() && !dead_) {
      // Everything queued goes out in one gathered write.
      std::vector<std::string> batch(std::make_move_iterator(queue_.begin()),
                                     std::make_move_iterator(queue_.end()));
      queue_.clear();
      std::vector<asio::const_buffer> buffers;
      buffers.reserve(batch.size());
      for (const auto& f : batch) buffers.push_back(asio::buffer(f));
      auto [ec, n] = co_await asio::async_write(socket_, buffers, kAsTuple);
      if (ec) stop_writing("write: " + ec.message());
    }
    writing_ = false;
  }

  // The peer no longer reads (a daemon shutting down closes after acking what
  // it took). Acks for frames written earlier may still be in our receive
  // buffer, so the read loop keeps reading and fails what is left at its end.
  void stop_writing(const std::string& reason) {
    dead_ = true;
    dead_reason_ = reason;
    queue_.clear();
    error_code ignored;
    socket_.shutdown(uds::socket::shutdown_send, ignored);
  }

  asio::awaitable<void> read_loop() {
    unsigned char header[wire::kHeaderBytes];
    std::string payload;
    for (;;) {
      auto [ec, n] = co_await asio::async_read(socket_, asio::buffer(header), kAsTuple);
      if (ec) {
        if (!closing_) fail_all(lost(ec));
        co_return;
      }
      const auto decoded = wire::decode_header(header);
      if (decoded.error || decoded.header.type != wire::FrameType::kAck ||
          decoded.header.payload_bytes > kMaxAckBytes) {
        fail_all(std::string("protocol error: ") +
                 (decoded.error ? wire::to_string(*decoded.error) : "not an ack frame"));
        co_return;
      }
      payload.resize(decoded.header.payload_bytes);
      auto [pec, pn] = co_await asio::async_read(socket_, asio::buffer(payload), kAsTuple);
      if (pec) {
        if (!closing_) fail_all(lost(pec));
        co_return;
      }
      const auto ack = wire::decode_ack_payload(payload);
      if (!ack) {
        fail_all("protocol error: malformed ack payload");
        co_return;
      }
      const auto it = pending_.find(decoded.header.sequence);
      if (it == pending_.end()) {
        ++w_.stats.late_acks;  // its slot timed out already
        continue;
      }
      *it->second.answer = to_answer(*ack);
      it->second.timer->cancel();
      pending_.erase(it);
    }
  }

  static Answer to_answer(const wire::AckPayload& ack) {
    std::string message(ack.message);
    switch (ack.status) {
      case wire::AckStatus::kCommitted:
        return {Outcome::kCommitted, {}};
      case wire::AckStatus::kBusy:
        return {Outcome::kRefused, "busy: " + message};
      case wire::AckStatus::kInvalid:
        return {Outcome::kInvalid, "invalid: " + message};
      case wire::AckStatus::kFailed:
        return {Outcome::kFailed, "failed: " + message};
    }
    return {Outcome::kError, "unknown ack status"};
  }

  std::string lost(error_code ec) const {
    return (dead_ ? dead_reason_ + ", then connection lost: " : "connection lost: ") + ec.message();
  }

  // The connection is unusable: every waiting slot gets an error, later sends fail at once.
  void fail_all(const std::string& reason) {
    if (failed_) return;
    failed_ = true;
    dead_ = true;
    dead_reason_ = reason;
    for (auto& [seq, p] : pending_) {
      *p.answer = Answer{Outcome::kError, reason};
      p.timer->cancel();
    }
    pending_.clear();
    queue_.clear();
    close();
  }

  void close() {
    closing_ = true;
    error_code ignored;
    socket_.shutdown(uds::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  static constexpr std::uint32_t kMaxAckBytes = 1 << 20;

  Worker& w_;
  uds::socket socket_;
  std::string path_;
  error_code connect_error_;
  std::uint64_t next_sequence_ = 1;
  std::unordered_map<std::uint64_t, Pending> pending_;
  std::deque<std::string> queue_;
  bool writing_ = false;
  bool closing_ = false;
  bool dead_ = false;    // no more sends: the connection failed or stopped writing
  bool failed_ = false;  // fail_all ran: no slot is waiting any more
  std::string dead_reason_;
  std::size_t slots_running_ = 0;
};

// ---------------------------------------------------------------------------
// A slot: take tickets and send until the schedule or the connection ends.

template <class Connection>
asio::awaitable<void> run_slot(Worker& w, Connection& conn) {
  asio::steady_timer timer(w.ioc);
  while (!conn.dead()) {
    const auto ticket = w.schedule->claim();
    if (!ticket) break;
    if (w.opts.open_loop()) {
      timer.expires_at(ticket->intended);
      co_await timer.async_wait(kAsTuple);
    }
    const GeneratedSnapshot snap = w.bodies->get(ticket->index);
    const auto start = w.opts.open_loop() ? ticket->intended : Clock::now();
    Answer answer = co_await conn.send(snap.json);
    while (answer.outcome == Outcome::kRefused && w.opts.retry_busy && w.schedule->sending()) {
      ++w.stats.retries;
      timer.expires_after(w.opts.retry_delay);
      co_await timer.async_wait(kAsTuple);
      answer = co_await conn.send(snap.json);
    }
    w.stats.record(answer, snap, Clock::now() - start, w.opts.keep_ids());
  }
  if constexpr (std::is_same_v<Connection, UdsConnection>) conn.slot_done();
  if constexpr (std::is_same_v<Connection, HttpConnection>) conn.close();
}

// ---------------------------------------------------------------------------
// --verify: every committed id must be in `executions` exactly once.

struct VerifyResult {
  bool ran = false;
  std::string error;  // could not check at all
  std::uint64_t checked = 0, missing = 0, duplicated = 0;
  std::vector<std::string> examples;
};

std::string copy_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '\t' || c == '\n' || c == '\r') out += '\\';
    out += c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : c;
  }
  return out;
}

VerifyResult verify_ids(const std::string& conninfo, const std::string& app,
                        const std::vector<std::string>& ids) {
  VerifyResult v;
  v.ran = true;
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(conninfo.c_str()), &PQfinish);
  auto fail = [&](const std::string& what) {
    v.error = what + ": " + PQerrorMessage(conn.get());
    while (!v.error.empty() && v.error.back() == '\n') v.error.pop_back();
    return v;
  };
  if (PQstatus(conn.get()) != CONNECTION_OK) return fail("connect");
  auto exec_ok = [&](const char* sql, ExecStatusType want) {
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn.get(), sql), &PQclear);
    return PQresultStatus(r.get()) == want;
  };
  if (!exec_ok("CREATE TEMP TABLE xray_load_acked (app text, id text)", PGRES_COMMAND_OK)) {
    return fail("create temp table");
  }
  if (!exec_ok("COPY xray_load_acked FROM STDIN", PGRES_COPY_IN)) return fail("copy");
  const std::string app_field = copy_escape(app) + "\t";
  std::string chunk;
  for (std::size_t i = 0; i <= ids.size(); ++i) {
    if (i < ids.size()) chunk += app_field + copy_escape(ids[i]) + "\n";
    if (chunk.size() > (1 << 20) || (i == ids.size() && !chunk.empty())) {
      if (PQputCopyData(conn.get(), chunk.data(), static_cast<int>(chunk.size())) != 1) {
        return fail("copy data");
      }
      chunk.clear();
    }
  }
  if (PQputCopyEnd(conn.get(), nullptr) != 1) return fail("copy end");
  std::unique_ptr<PGresult, decltype(&PQclear)> copied(PQgetResult(conn.get()), &PQclear);
  if (PQresultStatus(copied.get()) != PGRES_COMMAND_OK) return fail("copy");
  while (PGresult* extra = PQgetResult(conn.get())) PQclear(extra);

  std::unique_ptr<PGresult, decltype(&PQclear)> r(
      PQexec(conn.get(),
             "SELECT a.id, count(e.id) FROM (SELECT DISTINCT app, id FROM xray_load_acked) a "
             "LEFT JOIN executions e ON e.app = a.app AND e.id = a.id "
             "GROUP BY a.app, a.id HAVING count(e.id) <> 1 ORDER BY a.id"),
      &PQclear);
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) return fail("check");
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    const long n = std::atol(PQgetvalue(r.get(), i, 1));
    (n == 0 ? v.missing : v.duplicated) += 1;
    if (v.examples.size() < 10) {
      v.examples.push_back(std::string(PQgetvalue(r.get(), i, 0)) +
                           (n == 0 ? " missing" : " present " + std::to_string(n) + " times"));
    }
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> c(
      PQexec(conn.get(), "SELECT count(*) FROM (SELECT DISTINCT app, id FROM xray_load_acked) a"),
      &PQclear);
  if (PQresultStatus(c.get()) != PGRES_TUPLES_OK) return fail("count");
  v.checked = std::strtoull(PQgetvalue(c.get(), 0, 0), nullptr, 10);
  return v;
}

// ---------------------------------------------------------------------------
// Report.

struct Report {
  const Options& opts;
  Stats& s;
  double elapsed_s;
  std::uint64_t unsent;
  VerifyResult verify;

  double per_s(double v) const { return elapsed_s > 0 ? v / elapsed_s : 0; }
  static double ms(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e6; }

  std::string json() const {
    boost::json::object o;
    o["target"] = opts.target_name();
    o["transport"] = opts.uds_path.empty() ? "http" : "uds";
    o["mode"] = opts.open_loop() ? "open" : "closed";
    o["rate"] = opts.rate;
    o["connections"] = opts.connections;
    o["inflight"] = opts.uds_path.empty() ? 1 : opts.inflight;
    o["threads"] = opts.threads;
    o["seed"] = opts.gen.seed;
    o["mix"] = opts.mix_text;
    o["run_prefix"] = opts.gen.run_prefix;
    o["elapsed_s"] = elapsed_s;
    o["committed"] = s.committed;
    o["refused"] = s.refused;
    o["invalid"] = s.invalid;
    o["failed"] = s.failed;
    o["errors"] = s.errors;
    o["timeouts"] = s.timeouts;
    o["retries"] = s.retries;
    o["late_acks"] = s.late_acks;
    o["acks_mean_committed"] = opts.expect_ack;
    o["committed_bytes"] = s.committed_bytes;
    o["snapshots_per_s"] = per_s(static_cast<double>(s.committed));
    o["steps_per_s"] = per_s(static_cast<double>(s.committed_steps));
    o["mb_per_s"] = per_s(static_cast<double>(s.committed_bytes) / 1e6);
    boost::json::object lat;
    lat["count"] = s.latency.count();
    lat["p50"] = ms(s.latency.percentile(50));
    lat["p90"] = ms(s.latency.percentile(90));
    lat["p99"] = ms(s.latency.percentile(99));
    lat["p99_9"] = ms(s.latency.percentile(99.9));
    lat["max"] = ms(s.latency.max());
    lat["mean"] = ms(s.latency.mean());
    o["latency_ms"] = std::move(lat);
    o["unsent"] = unsent;
    boost::json::array samples;
    for (const auto& m : s.samples) {
      samples.emplace_back(boost::json::object{
          {"message", m.message}, {"count", m.count}, {"example_id", m.example_id}});
    }
    o["samples"] = std::move(samples);
    if (verify.ran) {
      boost::json::object v;
      v["checked"] = verify.checked;
      v["missing"] = verify.missing;
      v["duplicated"] = verify.duplicated;
      if (!verify.error.empty()) v["error"] = verify.error;
      boost::json::array ex;
      for (const auto& e : verify.examples) ex.emplace_back(e);
      v["examples"] = std::move(ex);
      o["verify"] = std::move(v);
    }
    return boost::json::serialize(o) + "\n";
  }

  std::string text() const {
    char buf[512];
    std::string out;
    std::snprintf(buf, sizeof buf, "open loop at %g/s", opts.rate);
    const std::string rate_text = buf;
    std::snprintf(
        buf, sizeof buf, "xray-load: %s, %zu connection(s)%s, %s, seed %llu, mix %s\n",
        opts.target_name().c_str(), opts.connections,
        opts.uds_path.empty() ? "" : (" x " + std::to_string(opts.inflight) + " in flight").c_str(),
        opts.open_loop() ? rate_text.c_str() : "closed loop",
        static_cast<unsigned long long>(opts.gen.seed), opts.mix_text.c_str());
    out += buf;
    std::snprintf(
        buf, sizeof buf,
        "  answers     %llu %s, %llu refused, %llu invalid, %llu failed, %llu errors, "
        "%llu timeouts (%llu retries, %llu late acks)\n",
        static_cast<unsigned long long>(s.committed), opts.expect_ack ? "committed" : "accepted",
        static_cast<unsigned long long>(s.refused), static_cast<unsigned long long>(s.invalid),
        static_cast<unsigned long long>(s.failed), static_cast<unsigned long long>(s.errors),
        static_cast<unsigned long long>(s.timeouts), static_cast<unsigned long long>(s.retries),
        static_cast<unsigned long long>(s.late_acks));
    out += buf;
    std::snprintf(buf, sizeof buf,
                  "  throughput  %.1f snapshots/s, %.1f steps/s, %.2f MB/s of JSON over %.2f s\n",
                  per_s(static_cast<double>(s.committed)),
                  per_s(static_cast<double>(s.committed_steps)),
                  per_s(static_cast<double>(s.committed_bytes) / 1e6), elapsed_s);
    out += buf;
    std::snprintf(buf, sizeof buf,
                  "  latency ms  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f  mean %.3f "
                  "(from %s)\n",
                  ms(s.latency.percentile(50)), ms(s.latency.percentile(90)),
                  ms(s.latency.percentile(99)), ms(s.latency.percentile(99.9)), ms(s.latency.max()),
                  ms(s.latency.mean()), opts.open_loop() ? "intended send time" : "send time");
    out += buf;
    if (unsent > 0) {
      out += "  behind      " + std::to_string(unsent) +
             " snapshots due in the run were never sent: every slot was waiting (raise "
             "--connections/--inflight or lower --rate)\n";
    }
    for (const auto& m : s.samples) {
      out += "  answer      " + std::to_string(m.count) + " x " + m.message + " (e.g. " +
             m.example_id + ")\n";
    }
    if (verify.ran) {
      if (!verify.error.empty()) {
        out += "  verify      could not check: " + verify.error + "\n";
      } else {
        std::snprintf(buf, sizeof buf,
                      "  verify      %llu checked: %llu missing, %llu duplicated\n",
                      static_cast<unsigned long long>(verify.checked),
                      static_cast<unsigned long long>(verify.missing),
                      static_cast<unsigned long long>(verify.duplicated));
        out += buf;
        for (const auto& e : verify.examples) out += "  verify      " + e + "\n";
      }
    }
    return out;
  }
};

// ---------------------------------------------------------------------------
// Command line.

const char* kUsage = R"(xray-load: send generated snapshots to xrayd and measure it.

Usage: xray-load [--http HOST:PORT | --uds PATH] [options]

Sends competitor-selection executions (5 steps; a fixed-seed mix of ~50, 500
and 5,000 candidates, about 14 KB, 119 KB and 1.2 MB of JSON) and reports
snapshots/s, steps/s, MB/s of JSON, ack latency percentiles and every answer
that was not "committed". Stops after --count snapshots or --duration seconds,
whichever comes first, then waits for the answers still due.

Exit status: 0 all answers were committed or refused (busy); 1 errors,
timeouts, invalid or failed answers, or --verify found missing/duplicated ids;
2 bad usage; 3 the target was unreachable before the run.

Examples:
  xray-load --uds /run/xray/xrayd.sock --connections 4 --inflight 32 --duration 30
  xray-load --http 127.0.0.1:4000 --rate 500 --duration 60 --json
  xray-load --uds /tmp/x.sock --count 10000 --verify 'host=/tmp/pg dbname=xray'
  xray-load --http 127.0.0.1:8080 --target-path /ingest --expect-ack false   (another system)
)";

// Parses argv into `o`; returns an exit code when the program should stop.
std::optional<int> parse_options(int argc, char** argv, Options& o) {
  std::string expect_ack = "true";
  std::uint64_t candidates = 0;
  std::optional<std::string> run_prefix;
  long retry_delay_ms = 20;
  // The option table reads best as a table.
  // clang-format off
  po::options_description target("Target");
  target.add_options()
      ("http", po::value(&o.http)->value_name("HOST:PORT"),
       "send over HTTP keep-alive connections (default 127.0.0.1:4000)")
      ("uds", po::value(&o.uds_path)->value_name("PATH"),
       "send over the Unix socket instead (wire.h frames, many in flight)")
      ("target-path", po::value(&o.target_path)->value_name("PATH"),
       "HTTP request path (default /v1/executions); for other ingestion systems")
      ("expect-ack", po::value(&expect_ack)->value_name("BOOL"),
       "true (default): a 2xx answer means committed. false: it only means accepted, for "
       "systems that do not acknowledge commits (--verify is then refused)")
      ("header", po::value(&o.headers)->value_name("'NAME: VALUE'"),
       "extra HTTP request header, repeatable (e.g. authorization)");
  po::options_description load("Load");
  load.add_options()
      ("connections,c", po::value(&o.connections)->value_name("N"), "connections (default 4)")
      ("inflight,w", po::value(&o.inflight)->value_name("W"),
       "frames in flight per Unix-socket connection (default 16); HTTP is always 1")
      ("threads,t", po::value(&o.threads)->value_name("T"),
       "io threads, connections dealt round robin (default 1)")
      ("rate,r", po::value(&o.rate)->value_name("PER_S"),
       "open loop: send at this many snapshots/s in total and measure latency from each "
       "snapshot's intended send time. 0 (default): closed loop at maximum speed")
      ("count,n", po::value(&o.count)->value_name("N"), "send at most N snapshots (default: no limit)")
      ("duration,d", po::value(&o.duration_s)->value_name("SECONDS"),
       "stop sending after this long (default 10; 0: no limit, needs --count)")
      ("timeout", po::value(&o.timeout_s)->value_name("SECONDS"),
       "give up on one snapshot's answer after this long (default 30)")
      ("retry-busy", po::bool_switch(&o.retry_busy),
       "resend refused snapshots (503 / busy) after --retry-delay-ms while the run lasts")
      ("retry-delay-ms", po::value(&retry_delay_ms)->value_name("MS"), "default 20");
  po::options_description snaps("Snapshots");
  snaps.add_options()
      ("seed", po::value(&o.gen.seed)->value_name("N"), "generator seed (default 1)")
      ("pool", po::value(&o.pool)->value_name("N"),
       "generate N snapshots before the run and reuse their bodies with fresh ids, so that "
       "generating (~50 us each) does not take CPU from the daemon during the run (default "
       "2000, about 40 MB); 0: generate every snapshot as it is sent")
      ("candidates", po::value(&candidates)->value_name("N"),
       "every snapshot has exactly N candidates (instead of the mix)")
      ("mix", po::value(&o.mix_text)->value_name("LIST"),
       "candidate counts and weights (default 50:949,500:50,5000:1), each varied by --jitter")
      ("jitter", po::value(&o.gen.jitter)->value_name("F"),
       "vary each count by up to this fraction either way (default 0.2)")
      ("app", po::value(&o.gen.app)->value_name("NAME"), "app (default shopping-assistant)")
      ("pipeline", po::value(&o.gen.pipeline)->value_name("NAME"),
       "pipeline (default competitor-selection)")
      ("environment", po::value(&o.gen.environment)->value_name("NAME"), "default bench")
      ("run-prefix", po::value<std::string>()->value_name("TEXT")->notifier(
           [&](const std::string& v) { run_prefix = v; }),
       "ids are TEXT-<uuid>. Default: r<hex time>, new every run, so runs with one seed do "
       "not overwrite each other; '' sends the bare UUIDs (same seed: same bytes every run)");
  po::options_description out("Output");
  out.add_options()
      ("json", po::bool_switch(&o.json), "print the report as one JSON object")
      ("ids-out", po::value(&o.ids_out)->value_name("FILE"), "write committed ids, one a line")
      ("verify", po::value(&o.verify)->value_name("CONNINFO"),
       "afterwards check with libpq that every committed id is in `executions` exactly once")
      ("help,h", "show this help");
  // clang-format on
  po::options_description all;
  all.add(target).add(load).add(snaps).add(out);

  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, all), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "xray-load: " << e.what() << " (see xray-load --help)\n";
    return kExitUsage;
  }
  if (vm.count("help")) {
    std::cout << kUsage << "\n" << all << "\n";
    return kExitOk;
  }
  auto usage_error = [](const std::string& what) {
    std::cerr << "xray-load: " << what << " (see xray-load --help)\n";
    return kExitUsage;
  };
  if (vm.count("http") && vm.count("uds")) return usage_error("give --http or --uds, not both");
  if (expect_ack == "true" || expect_ack == "1" || expect_ack == "yes") {
    o.expect_ack = true;
  } else if (expect_ack == "false" || expect_ack == "0" || expect_ack == "no") {
    o.expect_ack = false;
  } else {
    return usage_error("--expect-ack takes true or false");
  }
  if (!o.expect_ack && !o.verify.empty()) {
    return usage_error("--verify needs acks that mean committed (--expect-ack true)");
  }
  for (const auto& h : o.headers) {
    if (h.find(':') == std::string::npos || h.find(':') == 0) {
      return usage_error("--header '" + h + "' is not 'Name: value'");
    }
  }
  if (o.connections == 0 || o.inflight == 0 || o.threads == 0) {
    return usage_error("--connections, --inflight and --threads must be at least 1");
  }
  if (o.rate < 0 || o.duration_s < 0 || o.timeout_s <= 0 || retry_delay_ms < 0) {
    return usage_error("--rate and --duration must be >= 0, --timeout > 0");
  }
  if (o.duration_s == 0 && o.count == 0) {
    return usage_error("--duration 0 needs --count, or the run would never stop");
  }
  o.retry_delay = std::chrono::milliseconds(retry_delay_ms);
  if (candidates > 0) {
    o.mix_text = std::to_string(candidates);
    o.gen.jitter = 0;
  }
  auto mix = parse_mix(o.mix_text);
  if (!mix) return usage_error("--mix '" + o.mix_text + "' is not COUNT:WEIGHT[,COUNT:WEIGHT...]");
  o.gen.mix = *mix;
  if (o.gen.jitter < 0 || o.gen.jitter >= 1) return usage_error("--jitter must be in [0, 1)");
  if (run_prefix) {
    // Plain characters only: the pool patches ids in place (BodySource).
    if (run_prefix->find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789._-") != std::string::npos) {
      return usage_error("--run-prefix may hold only letters, digits, '.', '_' and '-'");
    }
    o.gen.run_prefix = *run_prefix;
  } else {
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    char buf[32];
    std::snprintf(buf, sizeof buf, "r%llx", static_cast<unsigned long long>(now_ms));
    o.gen.run_prefix = buf;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------

template <class Connection>
std::vector<std::unique_ptr<Connection>> connect_all(
    std::vector<std::unique_ptr<Worker>>& workers, const Options& o,
    const std::function<std::unique_ptr<Connection>(Worker&)>& make, std::string& error) {
  std::vector<std::unique_ptr<Connection>> conns;
  for (std::size_t i = 0; i < o.connections; ++i) {
    conns.push_back(make(*workers[i % workers.size()]));
    conns.back()->start_connect(seconds_to_ns(std::min(o.timeout_s, 10.0)));
  }
  for (auto& w : workers) {
    w->ioc.run();
    w->ioc.restart();
  }
  for (auto& c : conns) {
    if (c->connect_error()) {
      error = c->connect_error().message();
      conns.clear();
      break;
    }
  }
  return conns;
}

template <class Connection>
void spawn_slots(std::vector<std::unique_ptr<Connection>>& conns) {
  for (auto& c : conns) {
    Worker& w = c->worker();
    if constexpr (std::is_same_v<Connection, UdsConnection>) {
      c->set_slots_running(c->slots());
      c->start();
    }
    for (std::size_t s = 0; s < c->slots(); ++s) {
      asio::co_spawn(w.ioc, run_slot(w, *c), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
    }
  }
}

int run(int argc, char** argv) {
  Options o;
  if (auto code = parse_options(argc, argv, o)) return *code;

  const SnapshotGenerator gen(o.gen);
  std::vector<std::unique_ptr<Worker>> workers;
  for (std::size_t i = 0; i < std::min(o.threads, o.connections); ++i) {
    workers.push_back(std::make_unique<Worker>(o));
  }

  // Connect everything before the clock starts: connection setup is not load,
  // and an unreachable target is reported before any snapshot is generated.
  std::string error;
  std::vector<std::unique_ptr<HttpConnection>> http_conns;
  std::vector<std::unique_ptr<UdsConnection>> uds_conns;
  if (o.uds_path.empty()) {
    const auto colon = o.http.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      std::cerr << "xray-load: --http '" << o.http << "' is not HOST:PORT\n";
      return kExitUsage;
    }
    std::string host = o.http.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    error_code ec;
    tcp::resolver resolver(workers[0]->ioc);
    const auto endpoints = resolver.resolve(host, o.http.substr(colon + 1), ec);
    if (ec) {
      std::cerr << "xray-load: cannot resolve " << o.http << ": " << ec.message() << "\n";
      return kExitUnreachable;
    }
    http_conns = connect_all<HttpConnection>(
        workers, o,
        [&](Worker& w) { return std::make_unique<HttpConnection>(w, endpoints, o.http); }, error);
  } else {
    uds_conns = connect_all<UdsConnection>(
        workers, o, [&](Worker& w) { return std::make_unique<UdsConnection>(w, o.uds_path); },
        error);
  }
  if (!error.empty()) {
    std::cerr << "xray-load: cannot connect to " << o.target_name() << ": " << error
              << " (is xrayd running and listening there?)\n";
    return kExitUnreachable;
  }

  // After connecting, so that an unreachable target fails fast.
  const BodySource bodies(gen, o.count ? std::min<std::uint64_t>(o.pool, o.count) : o.pool);
  Schedule schedule(o, Clock::now());
  for (auto& w : workers) {
    w->bodies = &bodies;
    w->schedule = &schedule;
  }
  spawn_slots(http_conns);
  spawn_slots(uds_conns);

  // SIGINT/SIGTERM stop sending (answers still due are awaited); a second one
  // exits at once. The main thread waits here until the last worker is done.
  asio::io_context main_ioc;
  asio::signal_set signals(main_ioc, SIGINT, SIGTERM);
  bool signalled = false;
  std::function<void(error_code, int)> on_signal = [&](error_code ec, int) {
    if (ec) return;
    if (signalled) std::_Exit(130);
    signalled = true;
    std::cerr << "xray-load: stopping; waiting for the answers still due\n";
    schedule.stop();
    signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);
  std::atomic<std::size_t> running{workers.size()};
  std::vector<std::thread> threads;
  std::vector<std::exception_ptr> failures(workers.size());
  for (std::size_t i = 0; i < workers.size(); ++i) {
    threads.emplace_back([&, i] {
      try {
        workers[i]->ioc.run();
      } catch (...) {
        // A thread's boundary: keep the exception for main, stop the others.
        failures[i] = std::current_exception();
        schedule.stop();
        for (auto& w : workers) w->ioc.stop();
      }
      if (running.fetch_sub(1) == 1) asio::post(main_ioc, [&] { signals.cancel(); });
    });
  }
  main_ioc.run();
  for (auto& t : threads) t.join();
  for (auto& f : failures) {
    if (f) std::rethrow_exception(f);
  }

  Stats total;
  for (auto& w : workers) total.merge(std::move(w->stats));
  const auto end = total.last_done > schedule.start() ? total.last_done : Clock::now();
  Report report{o,
                total,
                std::chrono::duration<double>(end - schedule.start()).count(),
                schedule.unsent(),
                {}};

  if (!o.ids_out.empty()) {
    std::ofstream f(o.ids_out);
    for (const auto& id : total.ids) f << id << '\n';
    if (!f.flush()) std::cerr << "xray-load: cannot write " << o.ids_out << "\n";
  }
  if (!o.verify.empty()) report.verify = verify_ids(o.verify, o.gen.app, total.ids);

  std::cout << (o.json ? report.json() : report.text()) << std::flush;
  const bool problems =
      total.errors + total.timeouts + total.invalid + total.failed > 0 ||
      (report.verify.ran &&
       (!report.verify.error.empty() || report.verify.missing + report.verify.duplicated > 0));
  return problems ? kExitProblems : kExitOk;
}

}  // namespace
}  // namespace xray::bench

int main(int argc, char** argv) {
  try {
    return xray::bench::run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "xray-load: " << e.what() << "\n";
    return 1;
  }
}
