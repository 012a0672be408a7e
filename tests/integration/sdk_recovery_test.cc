// libxray against the real xrayd and a real PostgreSQL: the daemon absent,
// frozen, crashed and restarted; the application killed mid-spool; the spool
// full. Each test checks what PostgreSQL holds in the end: every execution
// exactly once (DESIGN invariants 4 and 6).
#include <filesystem>
#include <fstream>
#include <set>
#include <signal.h>
#include <sstream>
#include <unistd.h>

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include "sdk/src/file_layer.h"
#include "sdk/src/spool.h"
#include "sdk/src/spool_format.h"
#include "tests/support/daemon_process.h"
#include "tests/support/pg_server.h"
#include "tests/unit/sdk/fake_daemon.h"
#include "tests/unit/sdk/temp_dir.h"
#include "xray/recorder.h"

namespace xray {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using testing::DaemonProcess;
using testing::PgServer;
using testing::TempDir;
using testing::wait_until;

class SdkIntegration : public ::testing::Test {
 protected:
  void SetUp() override { PgServer::shared().reset_database(); }
  void TearDown() override {
    if (HasFailure()) std::cerr << "xrayd log:\n" << daemon_.log() << std::endl;
  }

  ClientConfig config() {
    ClientConfig c;
    c.socket_path = daemon_.socket_path();  // where the daemon listens once started
    c.app = "sdk-it";
    c.environment = "test";
    c.spool_dir = dir_ / "spool";
    c.ack_timeout = milliseconds(3000);
    c.reconnect_min = milliseconds(20);
    c.reconnect_max = milliseconds(200);
    c.shutdown_timeout = milliseconds(2000);
    c.log = [](LogLevel level, std::string_view m) {
      if (level >= LogLevel::kWarn) std::cerr << "[sdk " << to_string(level) << "] " << m << "\n";
    };
    return c;
  }

  // Starts (or restarts) the real daemon; the test must ASSERT_TRUE on the result.
  [[nodiscard]] bool start_daemon() {
    return daemon_.start(PgServer::shared().conninfo(), {"--writers=1"});
  }

  // Records `n` executions of a small three-step pipeline; returns their ids.
  static std::set<std::string> record(Client& client, int n) {
    std::set<std::string> ids;
    for (int i = 0; i < n; ++i) {
      Execution run = client.start_execution("competitor-selection", {{"run", i}});
      {
        Step s = run.step("search");
        s.input({{"keywords", {"laptop stand"}}}).output({{"candidates", 3}});
      }
      {
        Step s = run.step("filter");
        s.filters({{"maxPrice", 40}});
        s.evaluate({.id = "B1", .passed = false, .reasons = {"price 49.99 > 40"}});
        s.evaluate({.id = "B2", .passed = true, .scores = {{"rating", 4.6}}});
      }
      run.step("select").selection("B2").reasoning("best rated in band");
      ids.insert(run.id());
      run.complete({{"selected", "B2"}});
    }
    return ids;
  }

  static std::set<std::string> stored_ids() {
    std::set<std::string> ids;
    std::istringstream rows(
        PgServer::shared().query("SELECT id FROM executions WHERE app = 'sdk-it'"));
    for (std::string line; std::getline(rows, line);) {
      if (!line.empty()) ids.insert(line);
    }
    return ids;
  }
  static long stored_rows() {
    return PgServer::shared().count("SELECT count(*) FROM executions WHERE app = 'sdk-it'");
  }

  std::size_t spool_files() const {
    if (!fs::exists(dir_ / "spool")) return 0;
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir_ / "spool"), {}));
  }
  std::uint64_t spool_bytes_on_disk() const {
    std::uint64_t total = 0;
    if (!fs::exists(dir_ / "spool")) return 0;
    for (const auto& e : fs::directory_iterator(dir_ / "spool")) total += e.file_size();
    return total;
  }

  TempDir dir_;  // the spool
  DaemonProcess daemon_;
};

TEST_F(SdkIntegration, StoresStepsAndEvaluationsAsRecorded) {
  ASSERT_TRUE(start_daemon());
  Client client(config());
  auto ids = record(client, 1);
  ASSERT_TRUE(client.flush(milliseconds(10000)));
  EXPECT_EQ(client.counters().committed, 1u);
  EXPECT_EQ(client.counters().invalid, 0u);
  const std::string id = *ids.begin();
  auto& pg = PgServer::shared();
  EXPECT_EQ(pg.query("SELECT status || ' ' || pipeline || ' ' || environment || ' ' || step_count "
                     "FROM executions WHERE app = 'sdk-it' AND id = '" +
                     id + "'"),
            "completed competitor-selection test 3");
  EXPECT_EQ(pg.query("SELECT string_agg(name, ',' ORDER BY step_index) FROM steps "
                     "WHERE app = 'sdk-it' AND execution_id = '" +
                     id + "'"),
            "search,filter,select");
  EXPECT_EQ(pg.query("SELECT candidate_id || ' ' || passed || ' ' || array_to_string(reasons, ';') "
                     "FROM evaluations WHERE app = 'sdk-it' AND position = 0"),
            "B1 false price 49.99 > 40");
}

TEST_F(SdkIntegration, SpoolGrowsWhileDaemonIsAbsentThenDrainsExactlyOnce) {
  // Invariant 6: the application records normally with nobody listening.
  Client client(config());
  auto ids = record(client, 60);
  ASSERT_TRUE(client.flush(milliseconds(5000)));
  EXPECT_EQ(client.counters().spooled, 60u);
  EXPECT_GT(spool_bytes_on_disk(), 0u);

  ASSERT_TRUE(start_daemon());
  ASSERT_TRUE(
      wait_until([&] { return client.counters().replayed == 60; }, std::chrono::seconds(30)));
  EXPECT_TRUE(wait_until([&] { return spool_files() == 0; }));
  EXPECT_EQ(stored_rows(), 60);  // invariant 4: once each
  EXPECT_EQ(stored_ids(), ids);
}

TEST_F(SdkIntegration, NextProcessReplaysEveryCompleteRecordAfterSigkill) {
  // A child process records as fast as it can with the daemon absent, so it
  // is writing the spool when SIGKILL arrives.
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ClientConfig c = config();
    c.log = nullptr;
    c.spool_sync = false;  // more writes per second: a better chance to die mid-write
    Client client(c);
    for (;;) record(client, 1);
  }
  bool grew =
      wait_until([&] { return spool_bytes_on_disk() > (256u << 10); }, std::chrono::seconds(30));
  if (child > 0) ::kill(child, SIGKILL);  // only our own child, never a group
  ::waitpid(child, nullptr, 0);
  ASSERT_TRUE(grew);

  // SIGKILL may land between writes; make sure the newest segment ends in a
  // torn record, as when it lands inside one.
  std::vector<std::string> segments;
  for (const auto& e : fs::directory_iterator(dir_ / "spool")) segments.push_back(e.path());
  std::sort(segments.begin(), segments.end());
  ASSERT_FALSE(segments.empty());
  {
    std::string torn = sdk::spool_format::encode_record(R"({"id":"torn"})").substr(0, 15);
    std::ofstream(segments.back(), std::ios::app | std::ios::binary) << torn;
  }
  // What a correct replay must deliver: every complete record, nothing else.
  sdk::PosixFileLayer files;
  std::set<std::string> expected;
  std::uint64_t corrupt = 0;
  for (const auto& path : segments) {
    auto contents = sdk::read_segment(files, path);
    ASSERT_TRUE(contents);
    corrupt += contents->corrupt;
    for (const auto& p : contents->payloads) {
      expected.insert(std::string(boost::json::parse(p).at("id").as_string()));
    }
  }
  ASSERT_GE(corrupt, 1u);
  ASSERT_GT(expected.size(), 100u);

  ASSERT_TRUE(start_daemon());
  Client client(config());  // the next process: replays at start
  ASSERT_TRUE(wait_until([&] { return client.counters().replayed == expected.size(); },
                         std::chrono::seconds(60)));
  EXPECT_TRUE(wait_until([&] { return spool_files() == 0; }));
  EXPECT_GE(client.counters().spool_corrupt, 1u);
  EXPECT_EQ(stored_ids(), expected);
  EXPECT_EQ(stored_rows(), static_cast<long>(expected.size()));
}

TEST_F(SdkIntegration, CompleteReturnsPromptlyWhileDaemonIsFrozenThenDelivers) {
  ASSERT_TRUE(start_daemon());
  ClientConfig c = config();
  c.ack_timeout = milliseconds(1000);
  Client client(c);
  auto ids = record(client, 5);
  ASSERT_TRUE(wait_until([&] { return client.counters().committed == 5; }));

  daemon_.send_signal(SIGSTOP);
  // Invariant 6: the application's thread never waits for the daemon. A
  // blocked complete() would take at least the ack timeout (1 s).
  auto slowest = std::chrono::steady_clock::duration::zero();
  for (int i = 0; i < 30; ++i) {
    Execution run = client.start_execution("competitor-selection");
    run.step("search").output({{"candidates", 50}});
    ids.insert(run.id());
    auto start = std::chrono::steady_clock::now();
    run.complete();
    slowest = std::max(slowest, std::chrono::steady_clock::now() - start);
  }
  EXPECT_LT(slowest, milliseconds(250));
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.flush(milliseconds(3000)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(4000));
  EXPECT_EQ(client.counters().committed, 5u);
  EXPECT_GE(client.counters().spooled, 30u);
  EXPECT_GT(spool_files(), 0u);

  daemon_.send_signal(SIGCONT);
  ASSERT_TRUE(wait_until([&] { return stored_rows() == 35 && spool_files() == 0; },
                         std::chrono::seconds(30)));
  EXPECT_EQ(stored_ids(), ids);
}

TEST_F(SdkIntegration, DropsAndCountsWhenSpoolIsFull) {
  ClientConfig c = config();
  c.spool_max_bytes = 32 << 10;
  Client client(c);
  record(client, 300);
  ASSERT_TRUE(client.flush(milliseconds(5000)));
  Counters n = client.counters();
  EXPECT_EQ(n.recorded, 300u);
  EXPECT_GT(n.dropped, 0u);
  EXPECT_GT(n.spooled, 0u);
  EXPECT_EQ(n.spooled + n.dropped, 300u);
  EXPECT_LE(spool_bytes_on_disk(), 32u << 10);

  ASSERT_TRUE(start_daemon());  // what fitted is delivered; what was dropped is only counted
  ASSERT_TRUE(wait_until([&] { return spool_files() == 0; }, std::chrono::seconds(30)));
  EXPECT_EQ(stored_rows(), static_cast<long>(n.spooled));
}

TEST_F(SdkIntegration, ReplaysUnacknowledgedSnapshotsAfterDaemonCrash) {
  ASSERT_TRUE(start_daemon());
  Client client(config());
  auto ids = record(client, 200);
  // Crash the daemon while frames are in flight, and keep recording.
  daemon_.kill_now();
  auto more = record(client, 200);
  ids.insert(more.begin(), more.end());
  ASSERT_TRUE(client.flush(milliseconds(5000)));

  ASSERT_TRUE(start_daemon());
  ASSERT_TRUE(wait_until([&] { return spool_files() == 0 && client.counters().memory_bytes == 0; },
                         std::chrono::seconds(60)));
  EXPECT_EQ(stored_rows(), 400);  // each once, however often it was sent
  EXPECT_EQ(stored_ids(), ids);
  Counters n = client.counters();
  EXPECT_GE(n.committed, 400u);
  EXPECT_EQ(n.dropped, 0u);
  EXPECT_EQ(n.invalid, 0u);
}

TEST_F(SdkIntegration, DeliversOverHttpWhenTheSocketIsUnavailable) {
  ASSERT_TRUE(start_daemon());
  ClientConfig c = config();
  c.socket_path = dir_ / "no-such.sock";
  c.http_endpoint = "http://127.0.0.1:" + std::to_string(daemon_.http_port());
  Client client(c);
  auto ids = record(client, 10);
  ASSERT_TRUE(client.flush(milliseconds(10000)));
  EXPECT_EQ(client.counters().committed, 10u);
  EXPECT_EQ(stored_ids(), ids);
}

}  // namespace
}  // namespace xray
