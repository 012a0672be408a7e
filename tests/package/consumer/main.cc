// Records one execution with nobody listening and no spool: the SDK must
// take it, never block or throw, and count it as dropped. Exit 0 on success.
#include <chrono>
#include <cstdio>

#include <xray/recorder.h>

int main() {
  xray::ClientConfig config;
  config.socket_path = "/nonexistent/xrayd.sock";
  config.app = "package-consumer";
  xray::Client client(config);
  xray::Execution run = client.start_execution("consumer", {{"installed", true}});
  run.step("only").input({{"tags", {"a", "b"}}}).output(42);
  run.complete();
  client.flush(std::chrono::seconds(5));
  xray::Counters c = client.counters();
  std::printf("recorded %llu dropped %llu\n", static_cast<unsigned long long>(c.recorded),
              static_cast<unsigned long long>(c.dropped));
  return c.recorded == 1 && c.dropped == 1 ? 0 : 1;
}
