#include "daemon/config.h"

#include <cstdio>
#include <fstream>
#include <vector>

#include <gtest/gtest.h>

namespace xrayd {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void TearDown() override { std::remove(file_.c_str()); }

  void write_file(const std::string& text) { std::ofstream(file_) << text; }

  boost::system::result<LoadedConfig, InputError> load(std::vector<std::string> args,
                                                       std::vector<std::string> env = {}) {
    args_ = {"xrayd"};
    for (auto& a : args) args_.push_back(a);
    env_ = std::move(env);
    std::vector<const char*> argv;
    for (auto& a : args_) argv.push_back(a.c_str());
    std::vector<const char*> envp;
    for (auto& e : env_) envp.push_back(e.c_str());
    envp.push_back(nullptr);
    return load_config(static_cast<int>(argv.size()), argv.data(), envp.data());
  }

  std::string file_ = "/tmp/xrayd-config-test-" + std::to_string(::getpid()) + ".conf";
  std::vector<std::string> args_;
  std::vector<std::string> env_;
};

TEST_F(ConfigTest, FlagsBeatEnvironmentWhichBeatsFile) {
  write_file("writers = 3\nbatch_max_count = 10\nmemory_limit = 64MiB\n");
  auto loaded = load({"serve", "--config=" + file_, "--writers=5"},
                     {"XRAYD_WRITERS=4", "XRAYD_BATCH_MAX_COUNT=20"});
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->command, "serve");
  EXPECT_EQ(loaded->config.writers, 5u);
  EXPECT_EQ(loaded->config.batch_max_count, 20u);
  EXPECT_EQ(loaded->config.memory_limit, 64u << 20);
  EXPECT_EQ(loaded->sources.at("writers"), ValueSource::kFlag);
  EXPECT_EQ(loaded->sources.at("batch_max_count"), ValueSource::kEnvironment);
  EXPECT_EQ(loaded->sources.at("memory_limit"), ValueSource::kFile);
  EXPECT_EQ(loaded->sources.at("max_steps"), ValueSource::kDefault);
}

TEST_F(ConfigTest, ParsesSizesDurationsAndModes) {
  auto loaded = load({"--max-body-bytes=512KiB", "--batch-max-delay=2s", "--socket-mode=0600",
                      "--log-level=debug"});
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->config.max_body_bytes, 512u << 10);
  EXPECT_EQ(loaded->config.batch_max_delay, std::chrono::seconds(2));
  EXPECT_EQ(loaded->config.socket_mode, 0600u);
  EXPECT_EQ(loaded->config.log_level, LogLevel::kDebug);
}

TEST_F(ConfigTest, BadValueNamesTheOptionAndWhereItWasSet) {
  auto from_flag = load({"--memory-limit=12XB"});
  ASSERT_FALSE(from_flag);
  EXPECT_NE(from_flag.error().message.find("--memory-limit"), std::string::npos);
  auto from_env = load({}, {"XRAYD_WRITERS=zero"});
  ASSERT_FALSE(from_env);
  EXPECT_NE(from_env.error().message.find("XRAYD_WRITERS"), std::string::npos);
  write_file("batch_max_delay = soon\n");
  auto from_file = load({"--config=" + file_});
  ASSERT_FALSE(from_file);
  EXPECT_NE(from_file.error().message.find("batch_max_delay (config file)"), std::string::npos)
      << from_file.error().message;
}

TEST_F(ConfigTest, UnknownOptionsAreErrors) {
  EXPECT_FALSE(load({"--no-such-option=1"}));
  auto env = load({}, {"XRAYD_WRITRES=2"});
  ASSERT_FALSE(env);
  EXPECT_NE(env.error().message.find("XRAYD_WRITRES"), std::string::npos);
  write_file("colour = blue\n");
  EXPECT_FALSE(load({"--config=" + file_}));
}

TEST_F(ConfigTest, RejectsInconsistentLimits) {
  auto loaded = load({"--max-body-bytes=64MiB", "--memory-limit=32MiB"});
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("max_body_bytes"), std::string::npos);
  // Invariant 2: parsing holds about 8 times a body, all taken from the budget.
  auto tight = load({"--max-body-bytes=8MiB", "--memory-limit=32MiB"});
  ASSERT_FALSE(tight);
  EXPECT_NE(tight.error().message.find("memory_limit / 8"), std::string::npos)
      << tight.error().message;
  EXPECT_TRUE(load({"--max-body-bytes=4MiB", "--memory-limit=32MiB"}));
  EXPECT_FALSE(load({"--http-listen=", "--socket-path="}));
}

TEST_F(ConfigTest, PrintConfigIsAValidConfigFile) {
  auto loaded = load({"--writers=7"});
  ASSERT_TRUE(loaded);
  write_file(print_config(*loaded));
  auto again = load({"--config=" + file_});
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->config.writers, 7u);
  EXPECT_EQ(again->config.socket_path, loaded->config.socket_path);
}

TEST_F(ConfigTest, ReloadCopiesOnlyReloadableOptions) {
  Config live;
  Config fresh;
  fresh.batch_max_count = 9;
  fresh.memory_limit = 1 << 20;
  fresh.writers = 9;
  auto restart = apply_reloadable(fresh, live);
  EXPECT_EQ(live.batch_max_count, 9u);
  EXPECT_EQ(live.memory_limit, 1u << 20);
  EXPECT_EQ(live.writers, 2u);
  ASSERT_EQ(restart.size(), 1u);
  EXPECT_EQ(restart[0], "writers");
}

TEST_F(ConfigTest, ExplorerOptionsHaveTheirDefaultsAndCanBeSet) {
  auto defaults = load({});
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->config.explorer_listen, "127.0.0.1:4001");
  EXPECT_EQ(defaults->config.query_connections, 2u);
  EXPECT_EQ(defaults->config.query_postgres, "");
  EXPECT_EQ(defaults->config.query_timeout, std::chrono::seconds(5));
  EXPECT_EQ(defaults->config.query_max_rows, 500u);
  EXPECT_EQ(defaults->config.explorer_max_streams, 32u);
  auto set = load({"--explorer-listen=", "--query-connections=4", "--query-timeout=250ms"},
                  {"XRAYD_QUERY_POSTGRES=host=/tmp dbname=replica", "XRAYD_QUERY_MAX_ROWS=50",
                   "XRAYD_EXPLORER_MAX_STREAMS=3"});
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(set->config.explorer_listen, "");
  EXPECT_EQ(set->config.query_connections, 4u);
  EXPECT_EQ(set->config.query_timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(set->config.query_postgres, "host=/tmp dbname=replica");
  EXPECT_EQ(set->config.query_max_rows, 50u);
  EXPECT_EQ(set->config.explorer_max_streams, 3u);
  EXPECT_FALSE(load({"--query-timeout=0"}));
  EXPECT_FALSE(load({"--query-connections=0"}));
  // Page size and stream count follow a reload; the rest needs a restart.
  Config live;
  Config fresh;
  fresh.query_max_rows = 10;
  fresh.query_connections = 5;
  auto restart = apply_reloadable(fresh, live);
  EXPECT_EQ(live.query_max_rows, 10u);
  ASSERT_EQ(restart.size(), 1u);
  EXPECT_EQ(restart[0], "query_connections");
}

}  // namespace
}  // namespace xrayd
