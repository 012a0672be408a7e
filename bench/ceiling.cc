// xray-ceiling: the physical ceiling for xrayd's data on this machine. It
// writes the very rows xrayd would write for xray-load's snapshots straight
// into the same schema with COPY, using as many connections and the same batch
// limits as xrayd's writers, so that the daemon's end-to-end throughput can be
// stated as a share of it (DESIGN.md §8, docs/benchmarks.md).
//
// The rows: the same generator, seed, mix, jitter, pool and ids as xray-load's
// defaults, each pool snapshot parsed and encoded by the daemon's own
// parse_snapshot + encode_snapshot before the clock starts. Snapshot k is pool
// entry k % pool with the id of snapshot k, exactly what xray-load sends; the
// id is patched into the rows' second column (a copy, no encoding), because
// every row starts "app<TAB>id<TAB>".
//
// Two modes, each timed on its own (--mode):
//   raw    BEGIN; COPY into executions, steps and evaluations; COMMIT. The
//          headline ceiling: what PostgreSQL takes for these rows.
//   merge  the daemon's own Writer threads (daemon/writer.h) fed from a
//          RecordQueue: COPY into staging tables + the idempotent merge +
//          COMMIT, batches closed by the writer's own rules. The gap between
//          the two is what the merge (invariant 4) costs.
// Both commit with synchronous_commit on, as the writers do (invariant 1).
//
// Threads: one per connection in raw mode (each claims snapshots from a shared
// atomic counter and builds its own batches); in merge mode the main thread
// feeds the queue and the writers run their own threads.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <pthread.h>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/program_options.hpp>

#include "bench/snapshot_generator.h"
#include "daemon/config.h"
#include "daemon/copy_layout.h"
#include "daemon/encoder.h"
#include "daemon/log.h"
#include "daemon/metrics.h"
#include "daemon/pg_connection.h"
#include "daemon/record.h"
#include "daemon/record_queue.h"
#include "daemon/snapshot_parser.h"
#include "daemon/writer.h"

namespace xray::bench {
namespace {

namespace po = boost::program_options;
using Clock = std::chrono::steady_clock;

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;  // PostgreSQL refused or failed a batch, or a snapshot was invalid
constexpr int kExitUsage = 2;

struct Options {
  std::string postgres;
  std::string mode = "both";
  std::uint64_t count = 0;
  double duration_s = 15;
  // The daemon's defaults, so that the two cannot drift apart.
  std::size_t connections = xrayd::Config{}.writers;
  std::size_t batch_max_count = xrayd::Config{}.batch_max_count;
  std::size_t batch_max_bytes = xrayd::Config{}.batch_max_bytes;
  bool truncate = false;
  bool json = false;
  GeneratorOptions gen;
  std::size_t pool = 2000;
  std::string mix_text = "50:949,500:50,5000:1";
};

// One pool snapshot, encoded; rows still carry the pool entry's own id.
struct PoolEntry {
  std::string id;
  std::size_t json_bytes = 0;
  std::size_t steps = 0;
  std::size_t evaluations = 0;
  std::string execution_row, step_rows, evaluation_rows;
};

// The encoded pool and the ids of every snapshot index. Read-only once built,
// so any thread may use it.
class RowSource {
 public:
  RowSource(const Options& o, std::string& error) : gen_(o.gen), app_(o.gen.app) {
    const xrayd::Config defaults;
    const xrayd::SnapshotLimits limits{defaults.max_steps, defaults.max_evaluations,
                                       defaults.max_json_depth, defaults.max_string_bytes};
    pool_.reserve(o.pool);
    xrayd::Record record;
    for (std::size_t i = 0; i < o.pool; ++i) {
      GeneratedSnapshot snap = gen_.generate(i);
      auto parsed = xrayd::parse_snapshot(snap.json, limits);
      if (!parsed) {
        error =
            "generated snapshot " + std::to_string(i) + " is invalid: " + parsed.error().message;
        return;
      }
      xrayd::encode_snapshot(*parsed, record);
      PoolEntry e{snap.id,
                  snap.json.size(),
                  record.step_count,
                  record.evaluation_count,
                  std::move(record.execution_row),
                  std::move(record.step_rows),
                  std::move(record.evaluation_rows)};
      // Patching ids in place needs rows that start with the plain app and id.
      const std::string prefix = app_ + "\t" + e.id + "\t";
      if (e.execution_row.rfind(prefix, 0) != 0) {
        error = "app and ids must need no COPY escaping (app '" + app_ + "')";
        return;
      }
      pool_.push_back(std::move(e));
      record = xrayd::Record{};
    }
  }

  const PoolEntry& entry(std::uint64_t k) const { return pool_[k % pool_.size()]; }
  // Mean Record::encoded_bytes() over the pool.
  std::size_t mean_encoded_bytes() const {
    std::size_t total = 0;
    for (std::size_t k = 0; k < pool_.size(); ++k) total += encoded_bytes(k);
    return pool_.empty() ? 1 : std::max<std::size_t>(1, total / pool_.size());
  }
  std::string id(std::uint64_t k) const { return k < pool_.size() ? pool_[k].id : gen_.id_for(k); }
  const std::string& app() const { return app_; }

  // Appends snapshot k's rows of one table (`rows` of its pool entry) to `out`,
  // with the entry's id replaced by `id`.
  void append_rows(std::string& out, const PoolEntry& e, std::string_view rows,
                   std::string_view id) const {
    const std::size_t old_prefix = app_.size() + 1 + e.id.size() + 1;
    while (!rows.empty()) {
      const std::size_t end = rows.find('\n');
      out.append(app_).push_back('\t');
      out.append(id).push_back('\t');
      out.append(rows.substr(old_prefix, end + 1 - old_prefix));
      rows.remove_prefix(end + 1);
    }
  }

  // A Record for snapshot k, as a session would hand it to the queue.
  std::unique_ptr<xrayd::Record> record(std::uint64_t k) const {
    const PoolEntry& e = entry(k);
    auto r = std::make_unique<xrayd::Record>();
    r->app = app_;
    r->id = id(k);
    r->execution_row.reserve(e.execution_row.size());
    r->step_rows.reserve(e.step_rows.size());
    r->evaluation_rows.reserve(e.evaluation_rows.size());
    append_rows(r->execution_row, e, e.execution_row, r->id);
    append_rows(r->step_rows, e, e.step_rows, r->id);
    append_rows(r->evaluation_rows, e, e.evaluation_rows, r->id);
    r->step_count = e.steps;
    r->evaluation_count = e.evaluations;
    return r;
  }

  // Record::encoded_bytes() of snapshot k, for batch_max_bytes.
  std::size_t encoded_bytes(std::uint64_t k) const {
    const PoolEntry& e = entry(k);
    return app_.size() + e.id.size() + e.execution_row.size() + e.step_rows.size() +
           e.evaluation_rows.size();
  }

 private:
  const SnapshotGenerator gen_;
  const std::string app_;
  std::vector<PoolEntry> pool_;
};

// Hands out snapshot indexes until --count or --duration. Any thread.
class Schedule {
 public:
  Schedule(std::uint64_t count, double duration_s)
      : count_(count),
        deadline_(duration_s > 0 ? Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                      std::chrono::duration<double>(duration_s))
                                 : Clock::time_point::max()) {}
  std::optional<std::uint64_t> claim() {
    if (Clock::now() >= deadline_) return std::nullopt;
    // Relaxed: a counter; nothing else is published through it.
    const std::uint64_t k = next_.fetch_add(1, std::memory_order_relaxed);
    if (count_ != 0 && k >= count_) return std::nullopt;
    return k;
  }

 private:
  const std::uint64_t count_;
  const Clock::time_point deadline_;
  std::atomic<std::uint64_t> next_{0};
};

struct Tally {
  std::uint64_t snapshots = 0, steps = 0, evaluations = 0, json_bytes = 0, batches = 0;
  std::uint64_t failed = 0;
  std::string first_error;
  double seconds = 0;

  void add(const PoolEntry& e) {
    ++snapshots;
    steps += e.steps;
    evaluations += e.evaluations;
    json_bytes += e.json_bytes;
  }
  void merge(const Tally& o) {
    snapshots += o.snapshots;
    steps += o.steps;
    evaluations += o.evaluations;
    json_bytes += o.json_bytes;
    batches += o.batches;
    failed += o.failed;
    if (first_error.empty()) first_error = o.first_error;
  }
  double per_s(std::uint64_t n) const { return seconds > 0 ? static_cast<double>(n) / seconds : 0; }
};

// Every statement the raw mode sends, built from copy_layout.h as the writer's are.
struct RawStatements {
  std::string copy_executions = std::string("BEGIN; COPY executions (") +
                                xrayd::copy_layout::kExecutionColumns + ") FROM STDIN";
  std::string copy_steps =
      std::string("COPY steps (") + xrayd::copy_layout::kStepColumns + ") FROM STDIN";
  std::string copy_evaluations =
      std::string("COPY evaluations (") + xrayd::copy_layout::kEvaluationColumns + ") FROM STDIN";
};

std::string connection_error(const xrayd::PgError& e) { return e.client_message(); }

// Raw mode: `connections` threads, each BEGIN; COPY ×3; COMMIT per batch.
Tally run_raw(const Options& o, const RowSource& rows) {
  const RawStatements sql;
  std::vector<std::unique_ptr<xrayd::PgConnection>> conns;
  Tally total;
  for (std::size_t i = 0; i < o.connections; ++i) {
    auto conn = xrayd::PgConnection::connect(o.postgres, "xray-ceiling-" + std::to_string(i + 1));
    if (!conn) {
      total.failed = 1;
      total.first_error = "cannot connect: " + connection_error(conn.error());
      return total;
    }
    // As the writers do: COMMIT returns only once its WAL is flushed.
    if (auto set = (*conn)->exec("SET synchronous_commit TO on"); !set) {
      total.failed = 1;
      total.first_error = connection_error(set.error());
      return total;
    }
    conns.push_back(std::move(*conn));
  }
  std::vector<Tally> tallies(o.connections);
  const auto started = Clock::now();
  Schedule schedule(o.count, o.duration_s);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < o.connections; ++t) {
    threads.emplace_back([&, t] {
      pthread_setname_np(pthread_self(), "xray-ceiling");
      xrayd::PgConnection& conn = *conns[t];
      Tally& tally = tallies[t];
      std::string executions, steps, evaluations;
      std::vector<const PoolEntry*> batch;
      std::optional<std::uint64_t> carry;  // claimed, but did not fit the previous batch
      for (;;) {
        executions.clear();
        steps.clear();
        evaluations.clear();
        batch.clear();
        std::size_t bytes = 0;
        // The writer's rule (Writer::take_incoming): the first snapshot always
        // fits; the batch closes at batch_max_count or before batch_max_bytes.
        while (batch.size() < o.batch_max_count && bytes < o.batch_max_bytes) {
          std::optional<std::uint64_t> k = carry ? carry : schedule.claim();
          carry.reset();
          if (!k) break;
          const std::size_t size = rows.encoded_bytes(*k);
          if (!batch.empty() && bytes + size > o.batch_max_bytes) {
            carry = k;
            break;
          }
          bytes += size;
          const PoolEntry& e = rows.entry(*k);
          const std::string id = rows.id(*k);
          rows.append_rows(executions, e, e.execution_row, id);
          rows.append_rows(steps, e, e.step_rows, id);
          rows.append_rows(evaluations, e, e.evaluation_rows, id);
          batch.push_back(&e);
        }
        if (batch.empty()) return;
        auto written = [&]() -> xrayd::PgResult<void> {
          const std::string_view e[] = {executions}, s[] = {steps}, v[] = {evaluations};
          if (auto r = conn.copy_in(sql.copy_executions, e); !r) return r;
          if (auto r = conn.copy_in(sql.copy_steps, s); !r) return r;
          if (auto r = conn.copy_in(sql.copy_evaluations, v); !r) return r;
          return conn.exec("COMMIT");
        }();
        if (!written) {
          tally.failed += batch.size();
          if (tally.first_error.empty()) tally.first_error = connection_error(written.error());
          return;
        }
        ++tally.batches;
        for (const PoolEntry* e : batch) tally.add(*e);
      }
    });
  }
  for (auto& t : threads) t.join();
  total.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  for (const auto& t : tallies) total.merge(t);
  return total;
}

// Merge mode: the daemon's Writers, fed by this thread through a RecordQueue.
Tally run_merge(const Options& o, const RowSource& rows) {
  xrayd::Config config;
  config.postgres = o.postgres;
  config.writers = o.connections;
  config.batch_max_count = o.batch_max_count;
  config.batch_max_bytes = o.batch_max_bytes;
  xrayd::Metrics metrics;
  xrayd::Logger log(xrayd::LogLevel::kWarn);
  // Enough queued records that a writer never waits for the feeder (two
  // batches per writer, a batch being what fills batch_max_bytes or
  // batch_max_count), few enough that the queue drains soon after the end.
  const std::size_t per_batch =
      std::clamp<std::size_t>(o.batch_max_bytes / rows.mean_encoded_bytes(), 1, o.batch_max_count);
  const std::size_t high_water = 2 * per_batch * o.connections;
  xrayd::RecordQueue queue(std::max<std::size_t>(high_water, 4096));

  std::mutex mu;
  std::condition_variable answered_cv;
  Tally tally;
  std::uint64_t answered = 0;  // guarded by mu
  std::vector<std::unique_ptr<xrayd::Writer>> writers;
  for (std::size_t i = 0; i < o.connections; ++i) {
    writers.push_back(
        std::make_unique<xrayd::Writer>(static_cast<int>(i + 1), config, queue, metrics, log));
  }
  for (auto& w : writers) w->start();
  // Time from the moment every writer holds its connection, as in raw mode.
  const auto connect_deadline = Clock::now() + std::chrono::seconds(30);
  while (std::any_of(writers.begin(), writers.end(), [](auto& w) { return !w->connected(); })) {
    if (Clock::now() > connect_deadline) {
      tally.failed = 1;
      tally.first_error = "writers could not connect within 30 s (see the log above)";
      for (auto& w : writers) w->stop(Clock::now());
      return tally;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  const auto started = Clock::now();
  Schedule schedule(o.count, o.duration_s);
  std::uint64_t pushed = 0;
  for (;;) {
    if (queue.depth() >= high_water) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      continue;
    }
    const std::optional<std::uint64_t> k = schedule.claim();
    if (!k) break;
    const PoolEntry* e = &rows.entry(*k);
    std::unique_ptr<xrayd::Record> r = rows.record(*k);
    r->on_done = [&, e](xrayd::Outcome outcome) {
      std::lock_guard lock(mu);
      if (outcome.error) {
        ++tally.failed;
        if (tally.first_error.empty()) tally.first_error = outcome.message;
      } else {
        tally.add(*e);
      }
      ++answered;
      answered_cv.notify_all();
    };
    if (!queue.push(r)) {
      // The capacity is above the high-water mark, so this cannot happen.
      std::cerr << "xray-ceiling: queue full\n";
      std::abort();
    }
    ++pushed;
  }
  {
    std::unique_lock lock(mu);
    answered_cv.wait(lock, [&] { return answered == pushed; });
  }
  tally.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  for (auto& w : writers) w->stop(Clock::now() + std::chrono::seconds(30));
  tally.batches = metrics.batches.load();
  return tally;
}

[[nodiscard]] bool truncate_tables(const Options& o, std::string& error) {
  auto conn = xrayd::PgConnection::connect(o.postgres, "xray-ceiling-truncate");
  if (!conn) {
    error = connection_error(conn.error());
    return false;
  }
  if (auto done = (*conn)->exec("TRUNCATE executions, steps, evaluations"); !done) {
    error = connection_error(done.error());
    return false;
  }
  return true;
}

void print_text(const char* name, const Tally& t) {
  std::printf(
      "  %-6s %9.0f snapshots/s  %10.0f steps/s  %7.1f MB/s of JSON  (%llu snapshots, %llu "
      "batches, %.2f s)\n",
      name, t.per_s(t.snapshots), t.per_s(t.steps), t.per_s(t.json_bytes) / 1e6,
      static_cast<unsigned long long>(t.snapshots), static_cast<unsigned long long>(t.batches),
      t.seconds);
  if (t.failed > 0) {
    std::printf("  %-6s %llu snapshots FAILED: %s\n", name,
                static_cast<unsigned long long>(t.failed), t.first_error.c_str());
  }
}

std::string json_tally(const Tally& t) {
  char buf[512];
  std::snprintf(
      buf, sizeof buf,
      "{\"snapshots\":%llu,\"steps\":%llu,\"evaluations\":%llu,\"json_bytes\":%llu,"
      "\"batches\":%llu,\"failed\":%llu,\"seconds\":%.3f,\"snapshots_per_s\":%.1f,"
      "\"steps_per_s\":%.1f,\"mb_per_s\":%.2f}",
      static_cast<unsigned long long>(t.snapshots), static_cast<unsigned long long>(t.steps),
      static_cast<unsigned long long>(t.evaluations), static_cast<unsigned long long>(t.json_bytes),
      static_cast<unsigned long long>(t.batches), static_cast<unsigned long long>(t.failed),
      t.seconds, t.per_s(t.snapshots), t.per_s(t.steps), t.per_s(t.json_bytes) / 1e6);
  return buf;
}

const char* kUsage = R"(xray-ceiling: write xrayd's rows straight into PostgreSQL with COPY.

Usage: xray-ceiling --postgres CONNINFO [options]

Generates the snapshots xray-load sends by default (same generator, seed, mix,
pool and id scheme), parses and encodes them with the daemon's own code before
the clock starts, then writes them with --connections connections and the
daemon's batch limits: raw COPY into the tables (the ceiling), and COPY through
the daemon's Writer with its idempotent merge. Reports snapshots/s, steps/s and
MB/s of snapshot JSON. Each mode runs until --count snapshots or --duration.

The tables must exist (xrayd migrate) and, for raw mode, must not already hold
the ids: use --truncate, or a fresh --run-prefix.

Exit status: 0 every batch committed; 1 a batch failed; 2 bad usage.
)";

std::optional<int> parse_options(int argc, char** argv, Options& o) {
  std::optional<std::string> run_prefix;
  // The option table reads best as a table.
  // clang-format off
  po::options_description opts("Options");
  opts.add_options()
      ("postgres", po::value(&o.postgres)->value_name("CONNINFO"), "libpq connection string")
      ("mode", po::value(&o.mode)->value_name("MODE"), "raw, merge or both (default both)")
      ("count,n", po::value(&o.count)->value_name("N"), "at most N snapshots per mode")
      ("duration,d", po::value(&o.duration_s)->value_name("SECONDS"),
       "stop each mode after this long (default 15; 0: no limit, needs --count)")
      ("connections,c", po::value(&o.connections)->value_name("N"),
       "connections, as xrayd's writers (default: xrayd's default writers)")
      ("batch-max-count", po::value(&o.batch_max_count)->value_name("N"),
       "snapshots per batch at most (default: xrayd's)")
      ("batch-max-bytes", po::value(&o.batch_max_bytes)->value_name("BYTES"),
       "encoded bytes per batch at most (default: xrayd's)")
      ("truncate", po::bool_switch(&o.truncate),
       "TRUNCATE executions, steps, evaluations before each mode")
      ("seed", po::value(&o.gen.seed)->value_name("N"), "generator seed (default 1)")
      ("mix", po::value(&o.mix_text)->value_name("LIST"),
       "candidate counts and weights (default 50:949,500:50,5000:1)")
      ("jitter", po::value(&o.gen.jitter)->value_name("F"), "default 0.2")
      ("pool", po::value(&o.pool)->value_name("N"),
       "distinct snapshot bodies, as xray-load's --pool (default 2000)")
      ("run-prefix", po::value<std::string>()->value_name("TEXT")->notifier(
           [&](const std::string& v) { run_prefix = v; }),
       "ids are TEXT-<uuid> (default: r<hex time>, new every run)")
      ("json", po::bool_switch(&o.json), "print the report as one JSON object")
      ("help,h", "show this help");
  // clang-format on
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "xray-ceiling: " << e.what() << "\n";
    return kExitUsage;
  }
  if (vm.count("help")) {
    std::cout << kUsage << "\n" << opts << "\n";
    return kExitOk;
  }
  auto usage_error = [](const std::string& what) {
    std::cerr << "xray-ceiling: " << what << " (see xray-ceiling --help)\n";
    return kExitUsage;
  };
  if (o.postgres.empty()) return usage_error("--postgres is required");
  if (o.mode != "raw" && o.mode != "merge" && o.mode != "both") {
    return usage_error("--mode takes raw, merge or both");
  }
  if (o.connections == 0 || o.batch_max_count == 0 || o.batch_max_bytes == 0 || o.pool == 0) {
    return usage_error("--connections, --batch-max-*, --pool must be at least 1");
  }
  if (o.duration_s < 0 || (o.duration_s == 0 && o.count == 0)) {
    return usage_error("--duration must be > 0, or 0 with --count");
  }
  auto mix = parse_mix(o.mix_text);
  if (!mix) return usage_error("--mix '" + o.mix_text + "' is not COUNT:WEIGHT[,...]");
  o.gen.mix = *mix;
  if (run_prefix) {
    o.gen.run_prefix = *run_prefix;
  } else {
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    char buf[32];
    std::snprintf(buf, sizeof buf, "r%llx", static_cast<unsigned long long>(now_ms));
    o.gen.run_prefix = buf;
  }
  if (o.count != 0) o.pool = std::min<std::uint64_t>(o.pool, o.count);
  return std::nullopt;
}

int run(int argc, char** argv) {
  Options o;
  if (auto code = parse_options(argc, argv, o)) return *code;

  std::string error;
  const auto encode_started = Clock::now();
  const RowSource rows(o, error);
  if (!error.empty()) {
    std::cerr << "xray-ceiling: " << error << "\n";
    return kExitFailed;
  }
  const double encode_s = std::chrono::duration<double>(Clock::now() - encode_started).count();

  std::optional<Tally> raw, merge;
  // Merge mode writes ids that raw mode wrote already, unless the tables are
  // emptied in between; the merge would then update instead of insert, so
  // each mode gets its own id range via the prefix.
  for (const std::string mode : {"raw", "merge"}) {
    if (o.mode != "both" && o.mode != mode) continue;
    if (o.truncate && !truncate_tables(o, error)) {
      std::cerr << "xray-ceiling: TRUNCATE failed: " << error << "\n";
      return kExitFailed;
    }
    Options mode_options = o;
    if (!o.truncate) mode_options.gen.run_prefix = o.gen.run_prefix + "-" + mode;
    const RowSource* source = &rows;
    std::optional<RowSource> own;
    if (!o.truncate && mode == "merge" && o.mode == "both") {
      own.emplace(mode_options, error);
      source = &*own;
    }
    if (mode == "raw") {
      raw = run_raw(o, *source);
    } else {
      merge = run_merge(o, *source);
    }
  }

  if (o.json) {
    std::string out = "{\"connections\":" + std::to_string(o.connections) +
                      ",\"batch_max_count\":" + std::to_string(o.batch_max_count) +
                      ",\"batch_max_bytes\":" + std::to_string(o.batch_max_bytes) +
                      ",\"pool\":" + std::to_string(o.pool) + ",\"mix\":\"" + o.mix_text + "\"";
    char buf[64];
    std::snprintf(buf, sizeof buf, ",\"encode_seconds\":%.3f", encode_s);
    out += buf;
    if (raw) out += ",\"raw\":" + json_tally(*raw);
    if (merge) out += ",\"merge\":" + json_tally(*merge);
    if (raw && merge && raw->snapshots > 0) {
      std::snprintf(buf, sizeof buf, ",\"merge_over_raw\":%.3f",
                    merge->per_s(merge->snapshots) / raw->per_s(raw->snapshots));
      out += buf;
    }
    std::cout << out << "}\n";
  } else {
    std::printf(
        "xray-ceiling: %zu connections, batches of <= %zu snapshots / %zu bytes, mix %s, "
        "pool %zu (encoded in %.2f s before timing)\n",
        o.connections, o.batch_max_count, o.batch_max_bytes, o.mix_text.c_str(), o.pool, encode_s);
    if (raw) print_text("raw", *raw);
    if (merge) print_text("merge", *merge);
    if (raw && merge && raw->snapshots > 0) {
      std::printf("  merge / raw = %.2f\n",
                  merge->per_s(merge->snapshots) / raw->per_s(raw->snapshots));
    }
  }
  const bool failed = (raw && raw->failed > 0) || (merge && merge->failed > 0) ||
                      (raw && raw->snapshots == 0) || (merge && merge->snapshots == 0);
  return failed ? kExitFailed : kExitOk;
}

}  // namespace
}  // namespace xray::bench

int main(int argc, char** argv) {
  try {
    return xray::bench::run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "xray-ceiling: " << e.what() << "\n";
    return 1;
  }
}
