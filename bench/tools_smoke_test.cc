// Smoke runs of the benchmark tools, so that they keep working between
// benchmark runs: xray-ceiling writes 200 snapshots in both modes into the
// test's private PostgreSQL, and xray-load sends a few snapshots to a real
// xrayd over the Unix socket and HTTP and verifies them. Each takes seconds;
// nothing here asserts a rate (STYLE §9: no test asserts timing).
#include <array>
#include <cstdio>
#include <string>

#include <gtest/gtest.h>
#include <sys/wait.h>

#include "tests/support/daemon_process.h"
#include "tests/support/pg_server.h"

namespace xray::testing {
namespace {

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

struct ToolRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

ToolRun run_tool(const std::string& command) {
  ToolRun r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class BenchTools : public ::testing::Test {
 protected:
  void SetUp() override { pg().reset_database(); }
  static PgServer& pg() { return PgServer::shared(); }
};

TEST_F(BenchTools, CeilingWritesEverySnapshotInBothModes) {
  const ToolRun r =
      run_tool(std::string(XRAY_CEILING_BINARY) + " --postgres " + quote(pg().conninfo()) +
               " --count 200 --duration 0 --truncate --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\"raw\":{\"snapshots\":200,\"steps\":1000,"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("\"merge\":{\"snapshots\":200,\"steps\":1000,"), std::string::npos)
      << r.output;
  // The merge ran last, after a TRUNCATE: its rows are what is left.
  EXPECT_EQ(pg().count("SELECT count(*) FROM executions"), 200);
  EXPECT_EQ(pg().count("SELECT count(*) FROM steps"), 1000);
  EXPECT_GT(pg().count("SELECT count(*) FROM evaluations"), 200 * 30);
}

TEST_F(BenchTools, LoadSendsAndVerifiesOverBothTransports) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start(pg().conninfo(), {"--batch-max-delay=5ms"})) << daemon.log();
  const std::string common =
      " --count 100 --duration 0 --connections 2 --inflight 8 --pool 50"
      " --verify " +
      quote(pg().conninfo());
  const ToolRun uds = run_tool(std::string(XRAY_LOAD_BINARY) + " --uds " +
                               quote(daemon.socket_path()) + common + " --json");
  EXPECT_EQ(uds.exit_code, 0) << uds.output;
  EXPECT_NE(uds.output.find("\"committed\":100"), std::string::npos) << uds.output;
  const ToolRun http = run_tool(std::string(XRAY_LOAD_BINARY) +
                                " --http 127.0.0.1:" + std::to_string(daemon.http_port()) + common);
  EXPECT_EQ(http.exit_code, 0) << http.output;
  EXPECT_EQ(pg().count("SELECT count(*) FROM executions"), 200);
}

}  // namespace
}  // namespace xray::testing
