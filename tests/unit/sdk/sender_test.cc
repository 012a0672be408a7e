// The sender against a fake daemon socket (tests/unit/sdk/fake_daemon.h):
// committed, busy, invalid and silent daemons, absent ones, restarts, and a
// failing disk under the spool.
#include "sdk/src/sender.h"

#include <filesystem>
#include <set>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "tests/unit/sdk/fake_daemon.h"
#include "tests/unit/sdk/fault_file_layer.h"
#include "tests/unit/sdk/temp_dir.h"
#include "xray/recorder.h"

namespace xray {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using testing::FakeDaemon;
using testing::FaultFileLayer;
using testing::TempDir;
using testing::wait_until;

class SenderTest : public ::testing::Test {
 protected:
  ClientConfig config() {
    ClientConfig c;
    c.socket_path = socket_path();
    c.app = "sender-test";
    c.spool_dir = spool_dir();
    c.ack_timeout = milliseconds(2000);
    c.reconnect_min = milliseconds(10);
    c.reconnect_max = milliseconds(50);
    c.shutdown_timeout = milliseconds(500);
    c.log = [this](LogLevel level, std::string_view m) {
      std::lock_guard<std::mutex> lock(log_mu_);
      log_.push_back(std::string(to_string(level)) + ": " + std::string(m));
    };
    return c;
  }
  std::string socket_path() const { return dir_ / "x.sock"; }
  std::string spool_dir() const { return dir_ / "spool"; }

  static void record(Client& client, int n) {
    for (int i = 0; i < n; ++i) {
      Execution run = client.start_execution("p", {{"i", i}});
      run.step("s").input({{"i", i}});
      run.complete({{"ok", true}});
    }
  }
  std::size_t spool_files() const {
    if (!fs::exists(spool_dir())) return 0;
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(spool_dir()), {}));
  }
  std::size_t log_lines_containing(const std::string& text) {
    std::lock_guard<std::mutex> lock(log_mu_);
    return static_cast<std::size_t>(std::count_if(log_.begin(), log_.end(), [&](const auto& l) {
      return l.find(text) != std::string::npos;
    }));
  }
  static std::set<std::string> ids(const std::vector<std::string>& payloads) {
    std::set<std::string> out;
    for (const auto& p : payloads) {
      out.insert(std::string(boost::json::parse(p).at("id").as_string()));
    }
    return out;
  }

  TempDir dir_;
  std::mutex log_mu_;
  std::vector<std::string> log_;
};

TEST_F(SenderTest, CommitsWhenDaemonAcksCommitted) {
  FakeDaemon daemon(socket_path(), FakeDaemon::commit_all());
  Client client(config());
  record(client, 20);
  ASSERT_TRUE(client.flush(milliseconds(5000)));
  Counters c = client.counters();
  EXPECT_EQ(c.recorded, 20u);
  EXPECT_EQ(c.committed, 20u);
  EXPECT_EQ(c.spooled, 0u);
  EXPECT_EQ(c.memory_bytes, 0u);
  EXPECT_EQ(ids(daemon.payloads()).size(), 20u);
  EXPECT_EQ(spool_files(), 0u);
}

TEST_F(SenderTest, KeepsManyFramesInFlightOnOneConnection) {
  // The daemon answers nothing until it holds 10 frames: a sender that waited
  // for each ack before the next frame would stall here.
  FakeDaemon daemon(socket_path(), FakeDaemon::never_answer());
  Client client(config());
  record(client, 10);
  ASSERT_TRUE(wait_until([&] { return daemon.frames() == 10; }));
  EXPECT_EQ(client.counters().committed, 0u);
  EXPECT_EQ(daemon.connections(), 1u);
}

TEST_F(SenderTest, SpoolsWhenDaemonIsAbsent) {
  Client client(config());
  record(client, 5);
  ASSERT_TRUE(client.flush(milliseconds(5000)));
  Counters c = client.counters();
  EXPECT_EQ(c.spooled, 5u);
  EXPECT_EQ(c.committed, 0u);
  EXPECT_GT(c.spool_bytes, 0u);
  EXPECT_EQ(spool_files(), 1u);
  EXPECT_EQ(log_lines_containing("cannot reach xrayd"), 1u);  // once per outage, not per retry
}

TEST_F(SenderTest, ReplaysSpoolWhenDaemonAppears) {
  Client client(config());
  record(client, 5);
  ASSERT_TRUE(client.flush(milliseconds(5000)));
  ASSERT_EQ(client.counters().spooled, 5u);
  FakeDaemon daemon(socket_path(), FakeDaemon::commit_all());
  ASSERT_TRUE(wait_until([&] { return client.counters().replayed == 5; }));
  EXPECT_TRUE(wait_until([&] { return spool_files() == 0; }));
  EXPECT_EQ(ids(daemon.payloads()).size(), 5u);
}

TEST_F(SenderTest, ReplaysSpoolLeftByAnEarlierClientAtStart) {
  {
    Client earlier(config());
    record(earlier, 4);
  }  // destructor: flush → spooled
  ASSERT_EQ(spool_files(), 1u);
  FakeDaemon daemon(socket_path(), FakeDaemon::commit_all());
  Client client(config());
  ASSERT_TRUE(wait_until([&] { return client.counters().replayed == 4; }));
  EXPECT_TRUE(wait_until([&] { return spool_files() == 0; }));
}

TEST_F(SenderTest, SpoolsBusySnapshotsAndDeliversThemLater) {
  FakeDaemon daemon(socket_path(), [](std::size_t n, const std::string&) {
    return n < 3 ? wire::AckStatus::kBusy : wire::AckStatus::kCommitted;
  });
  Client client(config());
  record(client, 5);
  ASSERT_TRUE(wait_until([&] { return client.counters().committed == 5; }));
  Counters c = client.counters();
  EXPECT_GE(c.spooled, 3u);
  EXPECT_GE(c.replayed, 3u);
  EXPECT_EQ(ids(daemon.payloads()).size(), 5u);
  EXPECT_TRUE(wait_until([&] { return spool_files() == 0; }));
}

TEST_F(SenderTest, TreatsFailedAckLikeBusy) {
  FakeDaemon daemon(socket_path(), [](std::size_t n, const std::string&) {
    return n == 0 ? wire::AckStatus::kFailed : wire::AckStatus::kCommitted;
  });
  Client client(config());
  record(client, 2);
  ASSERT_TRUE(wait_until([&] { return client.counters().committed == 2; }));
  EXPECT_EQ(client.counters().invalid, 0u);
}

TEST_F(SenderTest, CountsInvalidOnceAndNeverRetries) {
  FakeDaemon daemon(socket_path(), [](std::size_t, const std::string& payload) {
    return payload.find("\"bad\"") != std::string::npos ? wire::AckStatus::kInvalid
                                                        : wire::AckStatus::kCommitted;
  });
  Client client(config());
  client.start_execution("p", {{"kind", "bad"}}).complete();
  record(client, 2);
  ASSERT_TRUE(client.flush(milliseconds(5000)));
  std::this_thread::sleep_for(milliseconds(200));  // a retry would show up as a 4th frame
  Counters c = client.counters();
  EXPECT_EQ(c.invalid, 1u);
  EXPECT_EQ(c.committed, 2u);
  EXPECT_EQ(c.spooled, 0u);
  EXPECT_EQ(daemon.frames(), 3u);
  EXPECT_EQ(log_lines_containing("as invalid (test says so)"), 1u);
}

TEST_F(SenderTest, SpoolsOnAckTimeoutWhenDaemonNeverAnswers) {
  FakeDaemon daemon(socket_path(), FakeDaemon::never_answer());
  ClientConfig c = config();
  c.ack_timeout = milliseconds(200);
  Client client(c);
  auto start = std::chrono::steady_clock::now();
  record(client, 3);
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(500));  // never blocked
  ASSERT_TRUE(wait_until([&] { return client.counters().spooled >= 3; }));
  EXPECT_EQ(client.counters().committed, 0u);
  EXPECT_GE(log_lines_containing("no ack within 200 ms"), 1u);
}

TEST_F(SenderTest, FlushReturnsWithinTimeoutWhenDaemonIsSilent) {
  FakeDaemon daemon(socket_path(), FakeDaemon::never_answer());
  ClientConfig c = config();
  c.ack_timeout = milliseconds(60000);
  Client client(c);
  record(client, 3);
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.flush(milliseconds(400)));  // spilled to the spool near the deadline
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1000));
  EXPECT_EQ(client.counters().spooled, 3u);
}

TEST_F(SenderTest, DestructorReturnsWithinShutdownTimeoutWhenDaemonIsSilent) {
  FakeDaemon daemon(socket_path(), FakeDaemon::never_answer());
  ClientConfig c = config();
  c.ack_timeout = milliseconds(60000);
  c.shutdown_timeout = milliseconds(300);
  auto client = std::make_unique<Client>(c);
  record(*client, 3);
  auto start = std::chrono::steady_clock::now();
  client.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1000));
  EXPECT_EQ(spool_files(), 1u);
}

TEST_F(SenderTest, DropsAndCountsWhenSpoolIsFull) {
  ClientConfig c = config();
  c.spool_max_bytes = 2048;
  Client client(c);
  record(client, 40);
  ASSERT_TRUE(client.flush(milliseconds(5000)));
  Counters n = client.counters();
  EXPECT_GT(n.dropped, 0u);
  EXPECT_GT(n.spooled, 0u);
  EXPECT_EQ(n.spooled + n.dropped, 40u);
  EXPECT_LE(n.spool_bytes, 2048u);
  EXPECT_EQ(log_lines_containing("is full"), 1u);
}

TEST_F(SenderTest, DropsWithoutSpoolWhenDaemonIsAbsent) {
  ClientConfig c = config();
  c.spool_dir.clear();
  Client client(c);
  record(client, 3);
  ASSERT_TRUE(client.flush(milliseconds(5000)));
  EXPECT_EQ(client.counters().dropped, 3u);
}

TEST_F(SenderTest, DropsOnTheCallersThreadBeyondTheMemoryLimit) {
  ClientConfig c = config();
  c.memory_limit_bytes = 10;  // smaller than any snapshot
  Client client(c);
  record(client, 3);
  Counters n = client.counters();
  EXPECT_EQ(n.recorded, 3u);
  EXPECT_EQ(n.dropped, 3u);
  EXPECT_EQ(n.memory_bytes, 0u);
}

TEST_F(SenderTest, SpoolsBacklogWhenWindowIsFullAndMemoryIsTight) {
  // One frame in flight that is never acked; further snapshots would wait in
  // memory, but beyond half the memory limit they go to the spool instead.
  FakeDaemon daemon(socket_path(), FakeDaemon::never_answer());
  ClientConfig c = config();
  c.max_inflight = 1;
  c.memory_limit_bytes = 2000;
  c.ack_timeout = milliseconds(60000);
  Client client(c);
  for (int i = 0; i < 10; ++i) {
    record(client, 1);  // ~300 bytes each
    // Pace the application so the sender keeps up: no drops on this side.
    ASSERT_TRUE(wait_until([&] { return client.counters().memory_bytes <= 1300; }));
  }
  Counters n = client.counters();
  EXPECT_EQ(n.dropped, 0u);
  EXPECT_EQ(daemon.frames(), 1u);
  EXPECT_GE(n.spooled, 5u);
  EXPECT_LE(n.memory_bytes, c.memory_limit_bytes / 2 + 400);
}

TEST_F(SenderTest, ReconnectsAfterDaemonRestart) {
  auto daemon = std::make_unique<FakeDaemon>(socket_path(), FakeDaemon::commit_all());
  Client client(config());
  record(client, 2);
  ASSERT_TRUE(wait_until([&] { return client.counters().committed == 2; }));
  daemon->stop();
  record(client, 2);  // spooled while the daemon is away
  ASSERT_TRUE(client.flush(milliseconds(5000)));
  daemon->start();
  record(client, 2);
  ASSERT_TRUE(wait_until([&] { return client.counters().committed == 6; }));
  EXPECT_EQ(ids(daemon->payloads()).size(), 6u);  // the fake remembers across its restart
}

TEST_F(SenderTest, RecordsFromManyThreadsAtOnce) {
  FakeDaemon daemon(socket_path(), FakeDaemon::commit_all());
  Client client(config());
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) threads.emplace_back([&] { record(client, 50); });
  for (auto& t : threads) t.join();
  ASSERT_TRUE(client.flush(milliseconds(10000)));
  EXPECT_EQ(client.counters().committed, 400u);
  EXPECT_EQ(ids(daemon.payloads()).size(), 400u);
}

TEST_F(SenderTest, UsesHttpFallbackEndpointParser) {
  EXPECT_TRUE(sdk::parse_http_endpoint("http://127.0.0.1:4000"));
  EXPECT_TRUE(sdk::parse_http_endpoint("localhost:4000/"));
  EXPECT_FALSE(sdk::parse_http_endpoint("127.0.0.1"));
  EXPECT_FALSE(sdk::parse_http_endpoint("http://h:0"));
  EXPECT_FALSE(sdk::parse_http_endpoint("http://h:80/v1"));
  EXPECT_EQ(sdk::parse_http_endpoint("[::1]:9")->host, "::1");
}

// --- with a failing disk under the spool (Core + Sender directly)

TEST_F(SenderTest, CountsDropWhenSpoolWriteFails) {
  FaultFileLayer files;
  ClientConfig c = config();
  auto core = std::make_shared<sdk::Core>(c);
  auto sender = std::make_unique<sdk::Sender>(core, &files);
  ASSERT_TRUE(wait_until([&] { return files.appends() == 0; }));
  files.fail_append_at(2, 10);  // the segment header is the 1st append; the 1st record fails
  core->submit(R"({"id":"a"})");
  ASSERT_TRUE(core->flush(milliseconds(5000)));
  core->submit(R"({"id":"b"})");
  ASSERT_TRUE(core->flush(milliseconds(5000)));
  Counters n = core->counters();
  EXPECT_EQ(n.dropped, 1u);
  EXPECT_EQ(n.spooled, 1u);
  sender.reset();
  // The surviving record reads back whole.
  std::vector<std::string> payloads;
  for (const auto& e : fs::directory_iterator(spool_dir())) {
    auto contents = sdk::read_segment(files, e.path().string());
    ASSERT_TRUE(contents);
    EXPECT_EQ(contents->corrupt, 0u);
    payloads.insert(payloads.end(), contents->payloads.begin(), contents->payloads.end());
  }
  EXPECT_EQ(payloads, std::vector<std::string>{R"({"id":"b"})"});
}

}  // namespace
}  // namespace xray
