// xrayd end to end: real daemon process, real PostgreSQL, HTTP and the Unix
// socket. Each test starts from a clean database and a fresh daemon.
#include <cstdlib>
#include <future>
#include <signal.h>
#include <thread>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "tests/support/clients.h"
#include "tests/support/daemon_process.h"
#include "tests/support/pg_server.h"
#include "tests/support/snapshots.h"

namespace xray::testing {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

class DaemonIngest : public ::testing::Test {
 protected:
  void SetUp() override { pg().reset_database(); }

  void start_daemon(std::vector<std::string> extra = {}) {
    bool has_delay = false;
    for (const auto& e : extra) has_delay = has_delay || e.rfind("--batch-max-delay", 0) == 0;
    if (!has_delay) extra.push_back("--batch-max-delay=5ms");
    ASSERT_TRUE(daemon_.start(pg().conninfo(), extra)) << daemon_.log();
  }

  static PgServer& pg() { return PgServer::shared(); }

  json::object post_json(HttpClient& client, const std::string& body, int expected_status) {
    HttpReply reply = client.post("/v1/executions", "application/json", body);
    EXPECT_EQ(reply.status, expected_status) << reply.body;
    if (reply.body.empty()) return {};
    return json::parse(reply.body).as_object();
  }

  DaemonProcess daemon_;
};

// A snapshot whose strings exercise every escaping rule of COPY and JSON.
const std::string kTricky =
    "tab\there, newline\nhere, cr\rhere, backslash \\ here, quote \" here, "
    "literal \\N here, non-ASCII é ü 中文 and emoji 🚀🧪";

std::string tricky_snapshot(const std::string& id) {
  json::object s = json::parse(make_snapshot(id)).as_object();
  auto& steps = s["steps"].as_array();
  auto& filter = steps[1].as_object();
  filter["reasoning"] = kTricky;
  filter["input"] = json::object{{"note", kTricky},
                                 {"big", 9223372036854775807LL},
                                 {"ubig", 18446744073709551615ULL},
                                 {"neg", -9007199254740993LL},
                                 {"huge", 1e300}};
  auto& evals = filter["evaluations"].as_array();
  evals[0].as_object()["reasons"] = json::array{kTricky, "{a,b}", "\"quoted\""};
  evals[0].as_object()["id"] = "id\twith\ttabs";
  s["metadata"].as_object()["note"] = kTricky;
  return json::serialize(s);
}

void expect_tricky_round_trip(PgServer& pg, const std::string& id) {
  // Dollar quoting passes the expected text to PostgreSQL byte for byte.
  const std::string q = "$xq$" + kTricky + "$xq$";
  EXPECT_EQ(pg.count("SELECT count(*) FROM steps WHERE execution_id = '" + id +
                     "' AND step_index = 1 AND reasoning = " + q),
            1);
  EXPECT_EQ(pg.count("SELECT count(*) FROM executions WHERE id = '" + id +
                     "' AND metadata->>'note' = " + q),
            1);
  EXPECT_EQ(pg.count("SELECT count(*) FROM steps WHERE execution_id = '" + id +
                     "' AND input::jsonb = jsonb_build_object('note', " + q +
                     ", 'big', 9223372036854775807, 'ubig', 18446744073709551615,"
                     " 'neg', -9007199254740993, 'huge', 1e300)"),
            1);
  EXPECT_EQ(pg.count("SELECT count(*) FROM evaluations WHERE execution_id = '" + id +
                     "' AND position = 0 AND candidate_id = E'id\\twith\\ttabs'"
                     " AND reasons = ARRAY[" +
                     q + ", '{a,b}', '\"quoted\"']"),
            1);
  // The derived counts: 8 candidates at prices 12.5 + 7i, 4 of them <= 40.
  EXPECT_EQ(pg.query("SELECT candidates_in || '/' || candidates_passed FROM steps WHERE "
                     "execution_id = '" +
                     id + "' AND step_index = 1"),
            "8/4");
  EXPECT_EQ(pg.query("SELECT pipeline || '|' || status || '|' || step_count || '|' || "
                     "to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') "
                     "FROM executions WHERE id = '" +
                     id + "'"),
            "competitor-selection|completed|3|2026-11-22 10:00:00.123");
}

TEST_F(DaemonIngest, HttpRoundTripKeepsEveryField) {
  start_daemon();
  HttpClient client(daemon_.http_port());
  auto body = post_json(client, tricky_snapshot("rt-http"), 200);
  EXPECT_EQ(body["status"], "committed");
  EXPECT_EQ(body["id"], "rt-http");
  expect_tricky_round_trip(pg(), "rt-http");
}

TEST_F(DaemonIngest, UnixSocketRoundTripKeepsEveryField) {
  start_daemon();
  UdsClient client(daemon_.socket_path());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.send_snapshot(42, tricky_snapshot("rt-uds")));
  auto ack = client.read_ack();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->sequence, 42u);
  EXPECT_EQ(ack->status, wire::AckStatus::kCommitted) << ack->message;
  expect_tricky_round_trip(pg(), "rt-uds");
}

TEST_F(DaemonIngest, RedeliveryLeavesOneExecution) {
  // Invariant 4: the same (app, id) any number of times → one execution.
  start_daemon({"--writers=2"});
  std::string snapshot = make_snapshot("dup-1");
  HttpClient http(daemon_.http_port());
  for (int i = 0; i < 3; ++i) post_json(http, snapshot, 200);

  std::string concurrent = make_snapshot("dup-2");
  UdsClient one(daemon_.socket_path());
  for (std::uint64_t seq = 1; seq <= 3; ++seq) ASSERT_TRUE(one.send_snapshot(seq, concurrent));
  std::vector<std::unique_ptr<UdsClient>> others;
  for (int c = 0; c < 3; ++c) {
    others.push_back(std::make_unique<UdsClient>(daemon_.socket_path()));
    ASSERT_TRUE(others.back()->send_snapshot(7, concurrent));
  }
  for (int i = 0; i < 3; ++i) {
    auto ack = one.read_ack();
    ASSERT_TRUE(ack);
    EXPECT_EQ(ack->status, wire::AckStatus::kCommitted) << ack->message;
  }
  for (auto& c : others) {
    auto ack = c->read_ack();
    ASSERT_TRUE(ack);
    EXPECT_EQ(ack->status, wire::AckStatus::kCommitted) << ack->message;
  }
  for (const char* id : {"dup-1", "dup-2"}) {
    EXPECT_EQ(pg().count(std::string("SELECT count(*) FROM executions WHERE id = '") + id + "'"),
              1);
    EXPECT_EQ(
        pg().count(std::string("SELECT count(*) FROM steps WHERE execution_id = '") + id + "'"), 3);
    EXPECT_EQ(pg().count(std::string("SELECT count(*) FROM evaluations WHERE execution_id = '") +
                         id + "'"),
              8);
  }
}

TEST_F(DaemonIngest, AcksEveryFrameWhenTheSocketSenderHalfCloses) {
  // A client may send its frames, close its sending side and read the acks.
  start_daemon();
  UdsClient uds(daemon_.socket_path());
  for (std::uint64_t seq = 1; seq <= 5; ++seq) {
    ASSERT_TRUE(uds.send_snapshot(seq, make_snapshot("half-" + std::to_string(seq))));
  }
  ASSERT_TRUE(uds.shutdown_write());
  for (int i = 0; i < 5; ++i) {
    auto ack = uds.read_ack(seconds(20));
    ASSERT_TRUE(ack.has_value()) << "ack " << i << " missing";
    EXPECT_EQ(ack->status, wire::AckStatus::kCommitted) << ack->message;
  }
  EXPECT_TRUE(uds.closed_by_peer(seconds(5)));
  EXPECT_EQ(pg().count("SELECT count(*) FROM executions WHERE id LIKE 'half-%'"), 5);
}

TEST_F(DaemonIngest, FinalSnapshotReplacesRunningOne) {
  start_daemon();
  HttpClient http(daemon_.http_port());
  SnapshotSpec running;
  running.id = "run-1";
  running.status = "running";
  running.candidates = 3;
  post_json(http, make_snapshot(running), 200);
  SnapshotSpec done = running;
  done.status = "completed";
  done.candidates = 6;
  post_json(http, make_snapshot(done), 200);
  // A late running snapshot never replaces a final one.
  post_json(http, make_snapshot(running), 200);
  EXPECT_EQ(pg().query("SELECT status FROM executions WHERE id = 'run-1'"), "completed");
  EXPECT_EQ(pg().count("SELECT count(*) FROM evaluations WHERE execution_id = 'run-1'"), 6);
}

TEST_F(DaemonIngest, PoisonRowFailsAlone) {
  // Invariant 5: a snapshot PostgreSQL refuses fails alone; its batch neighbours commit.
  pg().query("ALTER TABLE executions ADD CONSTRAINT no_poison CHECK (pipeline <> 'poison')");
  start_daemon({"--writers=1", "--batch-max-delay=200ms"});
  std::string body;
  for (int i = 0; i < 30; ++i) {
    SnapshotSpec spec;
    spec.id = "good-" + std::to_string(i);
    if (i == 17) {
      spec.id = "bad";
      spec.pipeline = "poison";
    }
    body += make_snapshot(spec) + "\n";
  }
  HttpClient http(daemon_.http_port());
  HttpReply reply = http.post("/v1/executions", "application/x-ndjson", body);
  ASSERT_EQ(reply.status, 207) << reply.body;
  auto results = json::parse(reply.body).as_object();
  EXPECT_EQ(results["committed"], 29);
  auto& bad = results["results"].as_array()[17].as_object();
  EXPECT_EQ(bad["line"], 18);
  EXPECT_EQ(bad["status"], "invalid");
  EXPECT_EQ(bad["code"], "rejected_by_database");
  EXPECT_NE(std::string(bad["error"].as_string()).find("no_poison"), std::string::npos)
      << bad["error"];
  EXPECT_EQ(pg().count("SELECT count(*) FROM executions"), 29);
  EXPECT_EQ(pg().count("SELECT count(*) FROM executions WHERE id = 'bad'"), 0);
  // Still serving.
  post_json(http, make_snapshot("after-poison"), 200);
  EXPECT_EQ(pg().count("SELECT count(*) FROM executions WHERE id = 'after-poison'"), 1);
}

TEST_F(DaemonIngest, NdjsonInvalidLinesNameLineAndField) {
  start_daemon();
  json::object unknown = json::parse(make_snapshot("nd-3")).as_object();
  unknown["colour"] = "red";
  json::object wrong_type = json::parse(make_snapshot("nd-5")).as_object();
  wrong_type["steps"].as_array()[1].as_object()["evaluations"].as_array()[0].as_object()["passed"] =
      "yes";
  std::string body = make_snapshot("nd-1") + "\n" + "{not json\n" + json::serialize(unknown) +
                     "\n\n" + json::serialize(wrong_type) + "\n" + make_snapshot("nd-6") + "\n";
  HttpClient http(daemon_.http_port());
  HttpReply reply = http.post("/v1/executions", "application/x-ndjson", body);
  ASSERT_EQ(reply.status, 207) << reply.body;
  auto results = json::parse(reply.body).as_object()["results"].as_array();
  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(results[0].as_object()["status"], "committed");
  auto error_of = [&](std::size_t i) {
    return std::string(results[i].as_object()["error"].as_string());
  };
  EXPECT_EQ(results[1].as_object()["line"], 2);
  EXPECT_EQ(error_of(1).rfind("line 2: ", 0), 0u) << error_of(1);
  EXPECT_EQ(results[2].as_object()["line"], 3);
  EXPECT_NE(error_of(2).find("colour"), std::string::npos) << error_of(2);
  EXPECT_EQ(results[3].as_object()["line"], 5);
  EXPECT_NE(error_of(3).find("steps[1].evaluations[0].passed"), std::string::npos) << error_of(3);
  EXPECT_EQ(results[4].as_object()["status"], "committed");
  EXPECT_EQ(pg().count("SELECT count(*) FROM executions"), 2);
}

TEST_F(DaemonIngest, EachLimitAnswersItsStatusAndNamesTheLimit) {
  start_daemon({"--max-body-bytes=64KiB", "--max-steps=5", "--max-json-depth=12",
                "--max-string-bytes=1KiB", "--max-evaluations=20"});
  HttpClient http(daemon_.http_port());
  auto expect_error = [&](const std::string& body, int status, const std::string& limit) {
    HttpReply reply = http.post("/v1/executions", "application/json", body);
    EXPECT_EQ(reply.status, status) << reply.body;
    EXPECT_NE(reply.body.find(limit), std::string::npos) << reply.body;
  };
  SnapshotSpec spec;
  spec.id = "too-big";
  spec.candidates = 2000;
  expect_error(make_snapshot(spec), 413, "max_body_bytes");
  spec = {};
  spec.extra_steps = 5;
  expect_error(make_snapshot(spec), 400, "max_steps");
  spec = {};
  spec.candidates = 21;
  expect_error(make_snapshot(spec), 400, "max_evaluations");
  spec = {};
  spec.reasoning = std::string(1025, 'x');
  expect_error(make_snapshot(spec), 400, "max_string_bytes");
  json::object deep = json::parse(make_snapshot("deep")).as_object();
  json::value nest = 1;
  for (int i = 0; i < 20; ++i) nest = json::array{nest};
  deep["result"] = nest;
  expect_error(json::serialize(deep), 400, "max_json_depth");
  HttpReply media = http.post("/v1/executions", "text/plain", make_snapshot("media"));
  EXPECT_EQ(media.status, 415) << media.body;
  EXPECT_NE(media.body.find("Content-Type"), std::string::npos);

  // Over max_body_bytes on the socket: that frame is refused, the next one is stored.
  UdsClient uds(daemon_.socket_path());
  spec = {};
  spec.candidates = 2000;
  ASSERT_TRUE(uds.send_snapshot(1, make_snapshot(spec)));
  ASSERT_TRUE(uds.send_snapshot(2, make_snapshot("after-big")));
  auto first = uds.read_ack();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->sequence, 1u);
  EXPECT_EQ(first->status, wire::AckStatus::kInvalid);
  EXPECT_NE(first->message.find("max_body_bytes"), std::string::npos) << first->message;
  auto second = uds.read_ack();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->sequence, 2u);
  EXPECT_EQ(second->status, wire::AckStatus::kCommitted) << second->message;
  EXPECT_EQ(pg().count("SELECT count(*) FROM executions"), 1);
}

TEST_F(DaemonIngest, AcceptsBodiesBeyondOneMebibyteUpToMaxBodyBytes) {
  // Beast's default body limit (1 MiB) once answered 400 before max_body_bytes applied.
  start_daemon({"--max-evaluations=50000"});
  SnapshotSpec spec;
  spec.id = "big-body";
  spec.candidates = 20000;
  std::string body = make_snapshot(spec);
  ASSERT_GT(body.size(), 1u << 20);
  HttpClient http(daemon_.http_port());
  auto reply = post_json(http, body, 200);
  EXPECT_EQ(reply["status"], "committed");
  EXPECT_EQ(pg().count("SELECT count(*) FROM evaluations WHERE execution_id = 'big-body'"), 20000);
}

TEST_F(DaemonIngest, AckArrivesOnlyAfterCommit) {
  // Invariant 1: while another session holds the table lock nothing can
  // commit, so no ack may arrive; once it is released, acks and rows appear.
  start_daemon({"--writers=1"});
  std::string lock_cmd = "psql -X -q '" + pg().conninfo() +
                         "' -c 'BEGIN' -c 'LOCK TABLE executions IN ACCESS EXCLUSIVE MODE' "
                         "-c 'SELECT pg_sleep(3)' -c 'COMMIT' >/dev/null 2>&1";
  auto locker = std::async(std::launch::async, [&] { return std::system(lock_cmd.c_str()); });
  // Wait (bounded) until the lock is granted before sending.
  for (int i = 0; i < 200; ++i) {
    if (pg().count("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                   "WHERE c.relname = 'executions' AND l.mode = 'AccessExclusiveLock' AND "
                   "l.granted") == 1) {
      break;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  UdsClient uds(daemon_.socket_path());
  ASSERT_TRUE(uds.send_snapshot(9, make_snapshot("locked-1")));
  EXPECT_FALSE(uds.read_ack(milliseconds(1000)).has_value()) << "acked while the table was locked";
  EXPECT_EQ(locker.get(), 0);
  auto ack = uds.read_ack(seconds(20));
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->status, wire::AckStatus::kCommitted) << ack->message;
  EXPECT_EQ(pg().count("SELECT count(*) FROM executions WHERE id = 'locked-1'"), 1);
}

TEST_F(DaemonIngest, HealthReadinessAndMetricsAnswer) {
  start_daemon();
  HttpClient http(daemon_.http_port());
  EXPECT_EQ(http.get("/healthz").status, 200);
  // Readiness follows the writers' connections; allow them a moment to connect.
  int ready = 0;
  for (int i = 0; i < 100 && ready != 200; ++i) {
    ready = http.get("/readyz").status;
    if (ready != 200) std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_EQ(ready, 200);
  post_json(http, make_snapshot("metrics-1"), 200);
  HttpReply metrics = http.get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("xray_snapshots_committed_total 1"), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("xray_batches_total"), std::string::npos);
  EXPECT_NE(metrics.body.find("xray_copy_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(metrics.body.find("xray_queue_depth 0"), std::string::npos);
  EXPECT_EQ(http.get("/nope").status, 404);
  EXPECT_EQ(http.get("/v1/executions").status, 405);
}

}  // namespace
}  // namespace xray::testing
