// xray-demo: runs the competitor-selection pipeline N times, recording each
// execution with libxray, then flushes and prints the SDK's counters.
//
//   xray-demo --runs=200 --socket=/run/xray/xrayd.sock --app=shopping-assistant --seed=42
//
// Options (also as "--name value"):
//   --runs=N          executions to run (default 100)
//   --socket=PATH     xrayd's Unix socket (default /run/xray/xrayd.sock)
//   --http=HOST:PORT  HTTP fallback endpoint (default: none)
//   --app=NAME        app (tenant) written into every snapshot (default shopping-assistant)
//   --env=NAME        environment (default demo)
//   --seed=N          random seed; the same seed gives the same decisions (default 42)
//   --spool=DIR       spool directory (default $TMPDIR/xray-demo-spool)
//   --drift=SHARE     share of runs whose keyword generator runs hot (default 0.15)
//   --threads=N       record from N threads at once (default 1)
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <xray/recorder.h>

#include "catalog.h"
#include "competitor_pipeline.h"

namespace {

struct Options {
  int runs = 100;
  std::string socket = "/run/xray/xrayd.sock";
  std::string http;
  std::string app = "shopping-assistant";
  std::string env = "demo";
  unsigned long long seed = 42;
  std::string spool;
  double drift = 0.15;
  int threads = 1;
};

[[noreturn]] void usage(const std::string& error) {
  std::cerr
      << "xray-demo: " << error << "\n"
      << "usage: xray-demo [--runs=N] [--socket=PATH] [--http=HOST:PORT] [--app=NAME]\n"
      << "                 [--env=NAME] [--seed=N] [--spool=DIR] [--drift=SHARE] [--threads=N]\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  const char* tmp = std::getenv("TMPDIR");
  o.spool = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/xray-demo-spool";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") usage("help");
    if (arg.rfind("--", 0) != 0) usage("unexpected argument " + arg);
    std::string name = arg.substr(2);
    std::string value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      usage("--" + name + " needs a value");
    }
    try {
      if (name == "runs") {
        o.runs = std::stoi(value);
      } else if (name == "socket") {
        o.socket = value;
      } else if (name == "http") {
        o.http = value;
      } else if (name == "app") {
        o.app = value;
      } else if (name == "env") {
        o.env = value;
      } else if (name == "seed") {
        o.seed = std::stoull(value);
      } else if (name == "spool") {
        o.spool = value;
      } else if (name == "drift") {
        o.drift = std::stod(value);
      } else if (name == "threads") {
        o.threads = std::max(1, std::stoi(value));
      } else {
        usage("unknown option --" + name);
      }
    } catch (const std::exception&) {
      usage("bad value for --" + name + ": " + value);
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse(argc, argv);

  xray::ClientConfig config;
  config.socket_path = options.socket;
  config.http_endpoint = options.http;
  config.app = options.app;
  config.environment = options.env;
  config.spool_dir = options.spool;
  config.log = [](xray::LogLevel level, std::string_view message) {
    if (level >= xray::LogLevel::kWarn) {
      std::fprintf(stderr, "[xray %s] %.*s\n", xray::to_string(level),
                   static_cast<int>(message.size()), message.data());
    }
  };
  xray::Client client(config);

  demo::PipelineOptions pipeline;
  pipeline.drift_share = options.drift;
  std::mutex mu;
  std::vector<demo::RunOutcome> outcomes;
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(options.threads));
  for (int t = 0; t < options.threads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(options.seed + static_cast<unsigned long long>(t) * 7919);
      const auto& products = demo::own_products();
      for (int run = t; run < options.runs; run += options.threads) {
        // The laptop stand gets half the runs: it is the product with the story.
        const demo::Product& product =
            run % 2 == 0 ? products[0] : products[static_cast<std::size_t>(1 + run / 2 % 3)];
        auto outcome = demo::run_competitor_selection(client, product, run, rng, pipeline);
        std::lock_guard<std::mutex> lock(mu);
        outcomes.push_back(std::move(outcome));
      }
    });
  }
  for (auto& t : threads) t.join();

  int bad = 0;
  int failed = 0;
  for (const auto& o : outcomes) {
    if (o.failed) ++failed;
    if (!o.bad_match) continue;
    if (++bad <= 5) {
      std::printf("bad match: '%s' (%s) selected for '%.40s…'  execution %s\n",
                  o.selected_title.c_str(), o.selected_category.c_str(), o.product_title.c_str(),
                  o.execution_id.c_str());
    }
  }
  const bool flushed = client.flush(std::chrono::seconds(10));
  xray::Counters c = client.counters();
  std::printf("runs: %zu (bad matches %d, failed %d)\n", outcomes.size(), bad, failed);
  std::printf(
      "xray: recorded %llu, sent %llu, committed %llu, spooled %llu, replayed %llu, "
      "dropped %llu, invalid %llu%s\n",
      static_cast<unsigned long long>(c.recorded), static_cast<unsigned long long>(c.sent),
      static_cast<unsigned long long>(c.committed), static_cast<unsigned long long>(c.spooled),
      static_cast<unsigned long long>(c.replayed), static_cast<unsigned long long>(c.dropped),
      static_cast<unsigned long long>(c.invalid),
      flushed ? "" : " (flush timed out; the rest is spooled on exit)");
  if (c.spooled > c.replayed) {
    std::printf(
        "the daemon was unreachable for some runs: they wait in %s and are sent by the next "
        "run that reaches it\n",
        options.spool.c_str());
  }
  return 0;
}
