#include "daemon/writer.h"

#include <algorithm>
#include <charconv>
#include <exception>
#include <map>
#include <pthread.h>
#include <string_view>
#include <utility>

#include "daemon/check.h"
#include "daemon/commit_notice.h"
#include "daemon/copy_layout.h"

namespace xrayd {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using xray::Errc;

// How long an idle writer waits for a record before it looks at its
// connection and at stop requests again.
constexpr microseconds kIdlePoll = milliseconds(100);
// How often stop() cancels the running statement once its deadline has passed.
constexpr milliseconds kCancelInterval{100};

constexpr const char* kShutdownMessage = "not stored: daemon shutting down; retry";
constexpr const char* kWriterFailedMessage = "not stored: writer failed; retry";

// "pipeline = excluded.pipeline, ..." for every execution column but the key.
std::string execution_updates() {
  std::string out;
  std::string_view rest = copy_layout::kExecutionColumns;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    std::string_view column = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!column.empty() && column.front() == ' ') column.remove_prefix(1);
    if (column == "app" || column == "id") continue;
    out.append(column).append(" = excluded.").append(column).append(", ");
  }
  return out + "ingested_at = now()";
}

// Every statement a writer sends, built once from copy_layout.h.
struct Statements {
  std::string create_staging;
  std::string copy_executions;
  // One pipeline: the upsert (its tag "INSERT 0 <winners>" counts the
  // winners), then the winners' old steps and evaluations are deleted.
  std::vector<std::string> upsert;
  // When every execution of the batch won (the usual case: new ids), its
  // steps and evaluations are exactly the rows to insert, and COPY straight
  // into the tables is much cheaper than staging them and INSERT ... SELECT
  // (COPY inserts many rows per heap and WAL operation).
  std::string copy_steps;
  std::string copy_evaluations;
  // Otherwise the rows are staged and only the winners' are inserted.
  std::string stage_steps;
  std::string stage_evaluations;
  std::vector<std::string> insert_staged_winners;  // one pipeline, before commit
  std::vector<std::string> commit;
};

const Statements& statements() {
  using namespace copy_layout;
  const std::string e = kExecutionColumns;
  const std::string s = kStepColumns;
  const std::string v = kEvaluationColumns;
  // Run once per connection. Invariant 1 across a database crash: an ack
  // follows COMMIT, so COMMIT must not return before its WAL is flushed,
  // whatever the server's or the role's default (synchronous_commit = off
  // would let a crash lose transactions already acknowledged). A staging
  // table copies the column types of its real table, so COPY already checks
  // every value, but holds only the COPY columns: no generated columns,
  // defaults or constraints. ON COMMIT DELETE ROWS empties it after each
  // batch; a rollback does too.
  const auto stage = [](const std::string& table, const std::string& columns) {
    return "CREATE TEMP TABLE xray_stage_" + table + " ON COMMIT DELETE ROWS AS SELECT " + columns +
           " FROM " + table + " WITH NO DATA";
  };
  static const Statements kStatements = {
      .create_staging =
          "SET synchronous_commit TO on; " + stage("executions", e) + "; " + stage("steps", s) +
          "; " + stage("evaluations", v) +
          "; CREATE TEMP TABLE xray_stage_winners (app text, id text, replaced boolean)"
          " ON COMMIT DELETE ROWS",
      // BEGIN travels with the first COPY: one round trip less per batch.
      .copy_executions = "BEGIN; COPY xray_stage_executions (" + e + ") FROM STDIN",
      .upsert =
          {
              // Invariant 4: the upsert comes first and takes the rows in (app, id)
              // order, so two writers merging the same ids lock them in the same
              // order and the second waits for the first to commit. A stored final
              // snapshot is replaced only by a final one (the same one,
              // re-delivered); a running one by anything. The ids inserted or
              // replaced are the winners, and only their steps and evaluations are
              // replaced. Only a replaced row can have old steps and evaluations
              // (xmax is 0 for a row this statement inserted), so a batch of new
              // ids, the usual case, deletes nothing and probes no index for it.
              "WITH won AS (INSERT INTO executions (" + e + ") SELECT " + e +
                  " FROM xray_stage_executions ORDER BY app, id"
                  " ON CONFLICT (app, id) DO UPDATE SET " +
                  execution_updates() +
                  " WHERE executions.status = 'running' OR excluded.status <> 'running'"
                  " RETURNING app, id, xmax <> 0 AS replaced)"
                  " INSERT INTO xray_stage_winners (app, id, replaced)"
                  " SELECT app, id, replaced FROM won",
              "DELETE FROM steps USING xray_stage_winners w"
              " WHERE w.replaced AND steps.app = w.app AND steps.execution_id = w.id",
              "DELETE FROM evaluations USING xray_stage_winners w"
              " WHERE w.replaced AND evaluations.app = w.app AND evaluations.execution_id = w.id",
          },
      .copy_steps = "COPY steps (" + s + ") FROM STDIN",
      .copy_evaluations = "COPY evaluations (" + v + ") FROM STDIN",
      .stage_steps = "COPY xray_stage_steps (" + s + ") FROM STDIN",
      .stage_evaluations = "COPY xray_stage_evaluations (" + v + ") FROM STDIN",
      .insert_staged_winners =
          {
              "INSERT INTO steps (" + s + ") SELECT " + s +
                  " FROM xray_stage_steps"
                  " WHERE (app, execution_id) IN (SELECT app, id FROM xray_stage_winners)",
              "INSERT INTO evaluations (" + v + ") SELECT " + v +
                  " FROM xray_stage_evaluations"
                  " WHERE (app, execution_id) IN (SELECT app, id FROM xray_stage_winners)",
              // Delivered at COMMIT, only if it commits: the live feed's source
              // (daemon/commit_notice.h).
              commit_notice_sql(),
              "COMMIT",
          },
      .commit = {commit_notice_sql(), "COMMIT"}};
  return kStatements;
}

std::uint64_t whole_ms(std::chrono::steady_clock::duration d) {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<milliseconds>(d).count());
}

}  // namespace

Writer::Writer(int id, const Config& config, RecordQueue& queue, Metrics& metrics, Logger& log,
               FailureCallback on_failure)
    : id_(id),
      name_("writer[" + std::to_string(id) + "]"),
      conninfo_(config.postgres),
      mode_(config.writer_mode),
      // A zero delay would never grow: retries would spin.
      reconnect_min_(std::max(config.reconnect_min, milliseconds(1))),
      reconnect_max_(std::max(config.reconnect_max, config.reconnect_min)),
      queue_(queue),
      metrics_(metrics),
      log_(log),
      on_failure_(std::move(on_failure)),
      jitter_(std::random_device{}()) {
  update_settings(config);
}

Writer::~Writer() {
  if (thread_.joinable()) stop(Clock::now());
}

void Writer::update_settings(const Config& config) {
  max_bytes_.store(config.batch_max_bytes, std::memory_order_relaxed);
  max_count_.store(config.batch_max_count, std::memory_order_relaxed);
  max_delay_us_.store(std::chrono::duration_cast<microseconds>(config.batch_max_delay).count(),
                      std::memory_order_relaxed);
}

Writer::BatchLimits Writer::limits() const {
  // A zero limit would make batches that can never close or never hold a record.
  return {std::max<std::size_t>(1, max_bytes_.load(std::memory_order_relaxed)),
          std::max<std::size_t>(1, max_count_.load(std::memory_order_relaxed)),
          microseconds(std::max<std::int64_t>(0, max_delay_us_.load(std::memory_order_relaxed)))};
}

void Writer::start() {
  // Belief: start() is called once, by the owner.
  XRAY_CHECK(!thread_.joinable());
  thread_ = std::thread(&Writer::run, this);
}

void Writer::request_stop(Clock::time_point deadline) {
  if (!stopping()) {
    deadline_ns_.store(deadline.time_since_epoch().count(), std::memory_order_relaxed);
    stopping_.store(true, std::memory_order_release);  // pairs with stopping()'s acquire
  }
  // Taking the mutex orders this notify after a sleeper's check of stopping().
  { MutexLock lock(wake_mu_); }
  wake_cv_.notify_all();
}

void Writer::stop(Clock::time_point deadline) {
  request_stop(deadline);
  if (!thread_.joinable()) return;
  // Past the deadline the writer starts nothing new (writer invariant 2), but
  // a statement already running — one waiting on a lock, say — could take any
  // time. Cancel it, and again every kCancelInterval in case the cancel came
  // between two statements.
  while (!wait_exited_until(std::max(deadline, Clock::now() + kCancelInterval))) {
    MutexLock lock(cancel_mu_);
    if (canceler_ != nullptr) canceler_->cancel();
  }
  thread_.join();
}

bool Writer::wait_exited_until(Clock::time_point until) {
  MutexLock lock(wake_mu_);
  while (!exited_ && Clock::now() < until) wake_cv_.wait_until(wake_mu_, until);
  return exited_;
}

Writer::Clock::time_point Writer::deadline() const {
  return Clock::time_point(Clock::duration(deadline_ns_.load(std::memory_order_relaxed)));
}

bool Writer::past_deadline() const { return stopping() && Clock::now() >= deadline(); }

void Writer::run() {
  // Thread names hold at most 15 characters.
  const std::string thread_name = ("xrayd-writer-" + std::to_string(id_)).substr(0, 15);
  pthread_setname_np(pthread_self(), thread_name.c_str());
  const bool discard = mode_ == WriterMode::kDiscard;
  if (discard) {
    // Nothing to connect to: ready at once, and never counted as unavailable.
    connected_.store(true, std::memory_order_relaxed);
  } else {
    const Clock::rep started = Clock::now().time_since_epoch().count();
    disconnected_since_ns_.store(started, std::memory_order_relaxed);
    unavailable_since_ns_.store(started, std::memory_order_relaxed);
  }
  bool crashed = false;
  try {
    if (discard) {
      discard_loop();
    } else {
      loop();
    }
  } catch (const std::exception& e) {
    fail(e.what());
    crashed = true;
  } catch (...) {
    fail("unknown exception");
    crashed = true;
  }
  {
    MutexLock lock(cancel_mu_);
    canceler_.reset();
  }
  if (conn_ == nullptr && !discard) {
    metrics_.pg_unavailable_ms += whole_ms(Clock::now() - unavailable_since());
  }
  unavailable_since_ns_.store(0, std::memory_order_relaxed);
  disconnected_since_ns_.store(0, std::memory_order_relaxed);
  conn_.reset();
  connected_.store(false, std::memory_order_relaxed);
  log_.info(name_, crashed ? "stopped by an exception" : "stopped");
  if (crashed && on_failure_) on_failure_(id_);
  {
    MutexLock lock(wake_mu_);
    exited_ = true;
  }
  wake_cv_.notify_all();
}

void Writer::fail(const char* what) {
  // A bug, not a database problem: stop this writer, but answer what it holds
  // (invariant 3: never drop silently). /readyz shows it as not connected.
  ++metrics_.writer_exceptions;
  failed_.store(true, std::memory_order_relaxed);
  // The record whose callback threw has left its slot already.
  const auto present = [](const auto& records) {
    return static_cast<std::size_t>(
        std::count_if(records.begin(), records.end(), [](const auto& r) { return r != nullptr; }));
  };
  const std::size_t held = present(batch_) + present(incoming_);
  log_.error(name_, "stopped by an exception: ", what, "; answering ", held,
             " snapshots in hand as not stored");
  for (auto* records : {&batch_, &incoming_}) {
    for (auto& r : *records) {
      if (r != nullptr) {
        answer(r, {xray::make_error_code(Errc::kDatabaseUnavailable), kWriterFailedMessage});
      }
    }
    records->clear();
  }
}

void Writer::loop() {
  for (;;) {
    if (past_deadline()) {
      answer_all_shutting_down();
      return;
    }
    if (stopping() && batch_.empty() && incoming_.empty() && queue_.depth() == 0) return;
    if (conn_ == nullptr) {
      connect_once();
      continue;
    }
    if (!collect_batch()) continue;
    write_until_answered(batch_);
    batch_.clear();
  }
}

void Writer::discard_loop() {
  // writer_mode = discard (benchmark only): batches close exactly as in
  // loop(), so acks come in the same rhythm, but nothing is written and every
  // record is acknowledged as committed. This breaks invariant 1 by design.
  for (;;) {
    if (past_deadline()) {
      answer_all_shutting_down();
      return;
    }
    if (stopping() && batch_.empty() && incoming_.empty() && queue_.depth() == 0) return;
    if (!collect_batch()) continue;
    std::size_t bytes = 0;
    for (const auto& r : batch_) bytes += r->encoded_bytes();
    ++metrics_.batches;
    metrics_.batch_rows.observe(static_cast<double>(batch_.size()));
    metrics_.batch_bytes.observe(static_cast<double>(bytes));
    for (auto& r : batch_) answer(r, {});
    batch_.clear();
  }
}

bool Writer::collect_batch() {
  const BatchLimits limits = this->limits();
  std::size_t bytes = 0;
  const auto room = [&] {
    // The record whose callback threw has left its slot already.
    const auto present = [](const auto& records) {
      return static_cast<std::size_t>(std::count_if(records.begin(), records.end(),
                                                    [](const auto& r) { return r != nullptr; }));
    };
    const std::size_t held = present(batch_) + present(incoming_);
    return held < limits.max_count ? limits.max_count - held : 0;
  };
  if (take_incoming(limits, bytes)) return true;
  if (batch_.empty()) {
    queue_.pop_bulk(incoming_, room(), stopping() ? microseconds(0) : kIdlePoll);
    if (take_incoming(limits, bytes)) return true;
    if (batch_.empty()) {
      // Idle: notice a connection the server closed, so connected() stays honest.
      if (conn_ != nullptr && !conn_->poll_healthy()) {
        drop_connection(PgError{Errc::kDatabaseUnavailable, {}, "server closed the connection"}, 0);
      }
      return false;
    }
  }
  // The batch has its first record: wait for more until a limit closes it.
  // When draining for shutdown, take only what is already queued.
  const auto close_at = Clock::now() + limits.max_delay;
  for (;;) {
    auto left = std::chrono::duration_cast<microseconds>(close_at - Clock::now());
    if (stopping()) {
      left = microseconds(0);
    } else if (left <= microseconds(0)) {
      return true;
    }
    const std::size_t popped = queue_.pop_bulk(incoming_, room(), left);
    if (take_incoming(limits, bytes)) return true;
    if (popped == 0 && stopping()) return true;
  }
}

bool Writer::take_incoming(const BatchLimits& limits, std::size_t& bytes) {
  std::size_t taken = 0;
  bool full = false;
  for (auto& record : incoming_) {
    const std::size_t size = record->encoded_bytes();
    // The first record always fits: one larger than max_bytes goes alone.
    if (batch_.size() >= limits.max_count || (!batch_.empty() && bytes + size > limits.max_bytes)) {
      full = true;
      break;
    }
    bytes += size;
    batch_.push_back(std::move(record));
    ++taken;
  }
  incoming_.erase(incoming_.begin(), incoming_.begin() + static_cast<std::ptrdiff_t>(taken));
  return full || batch_.size() >= limits.max_count || bytes >= limits.max_bytes;
}

// Writes `records` until each has its answer: committed, rejected (alone), or
// shutting down. Connection losses and transient errors are retried here,
// with the records kept in hand.
void Writer::write_until_answered(Records records) {
  for (;;) {
    // Writer invariant 2, invariant 8: after the deadline nothing more is written.
    if (past_deadline()) {
      log_.warn(name_, "stop deadline passed: answering ", records.size(),
                " snapshots in hand as not stored (shutting down)");
      for (auto& r : records) {
        answer(r, {xray::make_error_code(Errc::kShuttingDown), kShutdownMessage});
      }
      return;
    }
    if (conn_ == nullptr) {
      connect_once();
      continue;
    }
    const auto started = Clock::now();
    PgResult<void> written = write_once(records);
    if (written) {
      std::size_t bytes = 0;
      for (const auto& r : records) bytes += r->encoded_bytes();
      ++metrics_.batches;
      metrics_.batch_rows.observe(static_cast<double>(records.size()));
      metrics_.batch_bytes.observe(static_cast<double>(bytes));
      metrics_.copy_seconds.observe_seconds(Clock::now() - started);
      backoff_ = {};
      // Invariant 1: acknowledged only now that COMMIT has succeeded.
      for (auto& r : records) answer(r, {});
      return;
    }
    const PgError& error = written.error();
    // A statement cancelled by stop(): answered as shutting down above.
    if (past_deadline()) continue;
    if (!error.retryable()) {
      if (auto rolled_back = conn_->rollback_if_open(); !rolled_back) {
        drop_connection(rolled_back.error(), records.size());
      }
      if (records.size() == 1) {
        // Invariant 5: this snapshot alone is refused, with PostgreSQL's reason.
        Record& r = *records[0];
        log_.warn(name_, "snapshot ", r.app, "/", r.id,
                  " rejected by PostgreSQL: ", error.client_message());
        answer(records[0],
               {xray::make_error_code(Errc::kRejectedByDatabase), error.client_message()});
        return;
      }
      // Invariant 5: write each snapshot alone, so only the bad one fails.
      log_.warn(name_, "batch of ", records.size(), " refused by PostgreSQL (",
                error.client_message(), "); writing its snapshots one by one");
      for (std::size_t i = 0; i < records.size(); ++i) write_until_answered(records.subspan(i, 1));
      return;
    }
    // Invariant 7: keep the batch and write it again. The merge is idempotent,
    // so this is safe even when the COMMIT went through before the failure.
    ++metrics_.batch_retries;
    if (conn_->healthy()) {
      if (auto rolled_back = conn_->rollback_if_open(); !rolled_back) {
        drop_connection(rolled_back.error(), records.size());
      }
    }
    if (conn_ != nullptr && conn_->healthy()) {
      const Clock::duration delay = next_backoff();
      log_.warn(name_, "batch of ", records.size(), " failed (", error.client_message(),
                "); retrying in ", whole_ms(delay), " ms");
      sleep_until(Clock::now() + delay);
    } else if (conn_ != nullptr) {
      drop_connection(error, records.size());
    }
  }
}

PgResult<void> Writer::write_once(Records records) {
  // Invariant 4: one staging row per (app, id), or the upsert would have to
  // change one row twice. A final snapshot beats a running one, else the later
  // one wins: the rule the upsert applies against stored rows.
  std::map<std::pair<std::string_view, std::string_view>, const Record*> chosen;
  for (const auto& r : records) {
    auto [it, inserted] = chosen.try_emplace({r->app, r->id}, r.get());
    if (!inserted && !(r->running && !it->second->running)) it->second = r.get();
  }
  std::vector<std::string_view> executions, steps, evaluations;
  executions.reserve(chosen.size());
  for (const auto& [key, r] : chosen) {
    executions.push_back(r->execution_row);
    if (!r->step_rows.empty()) steps.push_back(r->step_rows);
    if (!r->evaluation_rows.empty()) evaluations.push_back(r->evaluation_rows);
  }
  const Statements& sql = statements();
  if (auto copied = conn_->copy_in(sql.copy_executions, executions); !copied) return copied;
  auto upserted = conn_->pipeline(sql.upsert);
  if (!upserted) return upserted.error();
  // The first tag is "INSERT 0 <winners>".
  std::size_t winners = 0;
  if (!upserted->empty()) {
    const std::string& tag = upserted->front();
    const std::size_t space = tag.rfind(' ');
    // Unreadable: 0, which takes the staged path, correct for any number of winners.
    if (space == std::string::npos ||
        std::from_chars(tag.data() + space + 1, tag.data() + tag.size(), winners).ec !=
            std::errc()) {
      winners = 0;
    }
  }
  const bool all_won = winners == chosen.size();
  const std::string& copy_steps = all_won ? sql.copy_steps : sql.stage_steps;
  const std::string& copy_evaluations = all_won ? sql.copy_evaluations : sql.stage_evaluations;
  if (!steps.empty()) {
    if (auto copied = conn_->copy_in(copy_steps, steps); !copied) return copied;
  }
  if (!evaluations.empty()) {
    if (auto copied = conn_->copy_in(copy_evaluations, evaluations); !copied) return copied;
  }
  auto tags = conn_->pipeline(all_won ? sql.commit : sql.insert_staged_winners);
  if (!tags) return tags.error();
  // Invariant 1: COMMIT in an aborted transaction answers "ROLLBACK" without
  // an error; only the tag "COMMIT" means the rows are committed.
  if (tags->empty() || tags->back() != "COMMIT") {
    return PgError{Errc::kDatabaseUnavailable,
                   {},
                   "COMMIT answered " + (tags->empty() ? std::string("nothing") : tags->back())};
  }
  return {};
}

bool Writer::connect_once() {
  auto conn = PgConnection::connect(conninfo_, "xrayd-writer-" + std::to_string(id_));
  PgResult<void> ready =
      conn ? (*conn)->exec(statements().create_staging) : PgResult<void>(conn.error());
  const auto now = Clock::now();
  metrics_.pg_unavailable_ms += whole_ms(now - unavailable_since());
  unavailable_since_ns_.store(now.time_since_epoch().count(), std::memory_order_relaxed);
  if (!ready) {
    ++metrics_.pg_connect_failures;
    const Clock::duration delay = next_backoff();
    log_.warn(name_, "cannot connect to PostgreSQL: ", ready.error().client_message(),
              "; next attempt in ", whole_ms(delay), " ms");
    sleep_until(now + delay);
    return false;
  }
  conn_ = std::move(*conn);
  conn_->set_notice_handler(
      [this](std::string_view notice) { log_.warn(name_, "PostgreSQL: ", notice); });
  {
    MutexLock lock(cancel_mu_);
    canceler_ = conn_->make_canceler();
  }
  connected_.store(true, std::memory_order_relaxed);
  unavailable_since_ns_.store(0, std::memory_order_relaxed);
  disconnected_since_ns_.store(0, std::memory_order_relaxed);
  if (ever_connected_) {
    ++metrics_.pg_reconnects;
    log_.info(name_, "reconnected to PostgreSQL");
  } else {
    log_.info(name_, "connected to PostgreSQL");
  }
  ever_connected_ = true;
  return true;
}

void Writer::drop_connection(const PgError& why, std::size_t kept) {
  if (kept > 0) {
    log_.warn(name_, "lost the PostgreSQL connection (", why.client_message(), "); ", kept,
              " snapshots kept to write again");
  } else {
    log_.warn(name_, "lost the PostgreSQL connection: ", why.client_message());
  }
  {
    MutexLock lock(cancel_mu_);
    canceler_.reset();
  }
  conn_.reset();
  connected_.store(false, std::memory_order_relaxed);
  const Clock::rep now = Clock::now().time_since_epoch().count();
  unavailable_since_ns_.store(now, std::memory_order_relaxed);
  disconnected_since_ns_.store(now, std::memory_order_relaxed);
}

Writer::Clock::time_point Writer::unavailable_since() const {
  return Clock::time_point(Clock::duration(unavailable_since_ns_.load(std::memory_order_relaxed)));
}

Writer::Clock::duration Writer::disconnected_for() const {
  const Clock::rep since = disconnected_since_ns_.load(std::memory_order_relaxed);
  if (since == 0) return Clock::duration::zero();
  return std::max(Clock::duration::zero(),
                  Clock::now() - Clock::time_point(Clock::duration(since)));
}

Writer::Clock::duration Writer::unsettled_unavailable() const {
  const Clock::rep since = unavailable_since_ns_.load(std::memory_order_relaxed);
  if (since == 0) return Clock::duration::zero();
  return std::max(Clock::duration::zero(),
                  Clock::now() - Clock::time_point(Clock::duration(since)));
}

Writer::Clock::duration Writer::next_backoff() {
  backoff_ = backoff_ == Clock::duration::zero()
                 ? Clock::duration(reconnect_min_)
                 : std::min<Clock::duration>(backoff_ * 2, reconnect_max_);
  // Jitter (up to half the delay) keeps writers that lost the server
  // together from coming back in step.
  std::uniform_int_distribution<Clock::rep> jitter(0, backoff_.count() / 2);
  return backoff_ - Clock::duration(jitter(jitter_));
}

void Writer::sleep_until(Clock::time_point until) {
  MutexLock lock(wake_mu_);
  for (;;) {
    const Clock::time_point end = stopping() ? std::min(until, deadline()) : until;
    if (Clock::now() >= end) return;
    wake_cv_.wait_until(wake_mu_, end);
  }
}

void Writer::answer(std::unique_ptr<Record>& slot, Outcome outcome) {
  // Writer invariant 1: the record leaves its slot before on_done runs, so not
  // even an exception from on_done can get it answered twice.
  std::unique_ptr<Record> record = std::move(slot);
  // Belief: a record is answered once, and every record has a callback.
  XRAY_DCHECK(record != nullptr && record->on_done);
  if (!outcome.error) {
    ++metrics_.committed;
  } else if (outcome.error == Errc::kRejectedByDatabase) {
    ++metrics_.rejected_by_database;
  } else {
    ++metrics_.failed;
  }
  record->on_done(std::move(outcome));
  // `record` is destroyed here, after its ack: its Lease returns its bytes to the Budget.
}

void Writer::answer_all_shutting_down() {
  // Invariant 8: every record in hand or still queued gets an answer.
  std::size_t answered = 0;
  for (auto* records : {&batch_, &incoming_}) {
    for (auto& r : *records) {
      answer(r, {xray::make_error_code(Errc::kShuttingDown), kShutdownMessage});
      ++answered;
    }
    records->clear();
  }
  answered += answer_queued_as_shutting_down(queue_, metrics_);
  if (answered > 0) {
    log_.warn(name_, "stop deadline passed: answered ", answered,
              " queued snapshots as not stored (shutting down)");
  }
}

std::size_t answer_queued_as_shutting_down(RecordQueue& queue, Metrics& metrics) {
  std::size_t answered = 0;
  std::vector<std::unique_ptr<Record>> records;
  while (queue.pop_bulk(records, 256, microseconds(0)) > 0) {
    for (auto& r : records) {
      ++metrics.failed;
      r->on_done({xray::make_error_code(Errc::kShuttingDown), kShutdownMessage});
      ++answered;
      // Destroying the record after its ack returns its bytes to the Budget.
      r.reset();
    }
    records.clear();
  }
  return answered;
}

}  // namespace xrayd
