// xray-query-load: sends the decision explorer a query load from several
// keep-alive connections and reports what it got: requests/s, statuses and
// latency. Two mixes:
//   heavy   the worst case: long pages, filters that scan, both headline
//           questions at 500 rows, analytics over all time;
//   browse  what people at the dashboard do: the newest page, an execution
//           opened from it (steps and evaluations), a filtered page, the
//           headline questions at 50 rows, the last day's analytics.
// bench/explorer_isolation.sh runs it beside xray-load to measure what a query
// load costs ingestion (docs/benchmarks.md).
//
// One blocking thread per connection, cycling through the mix from a
// different starting point: a closed loop (each sends its next request when
// the last answer arrived), or paced at --rate requests/s in all. Plain
// sockets: the explorer always answers with a Content-Length.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <arpa/inet.h>
#include <boost/program_options.hpp>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "bench/latency_histogram.h"

namespace {

namespace po = boost::program_options;
using Clock = std::chrono::steady_clock;
using xray::bench::LatencyHistogram;

struct Request {
  std::string name;
  std::string method;
  std::string target;  // empty: the first execution_url of the previous answer
  std::string body;
};

// The heavy mix: every request reads hundreds of rows or scans steps and
// evaluations. `app` and `pipeline` are those xray-load writes.
std::vector<Request> heavy_mix(const std::string& app, const std::string& pipeline) {
  const std::string filter = R"({"target": "evaluations", "limit": 500, "where": {"and": [)"
                             R"({"path": "execution.pipeline", "op": "eq", "value": ")" +
                             pipeline +
                             R"("},)"
                             R"({"path": "passed", "op": "eq", "value": false},)"
                             R"({"path": "reasons", "op": "contains", "value": "rating"},)"
                             R"({"path": "scores.rating", "op": "gte", "value": 3}]}})";
  const std::string steps = R"({"target": "steps", "limit": 500, "where": {"or": [)"
                            R"({"path": "eliminated_ratio", "op": "gt", "value": 0.8},)"
                            R"({"path": "metadata.filteredCount", "op": "gte", "value": 40}]}})";
  return {
      {"list_500", "GET", "/v1/executions?limit=500", ""},
      {"list_app_q", "GET", "/v1/executions?app=" + app + "&q=relevance&limit=200", ""},
      {"list_meta", "GET",
       "/v1/executions?app=" + app + "&meta.useCase=competitor-search&limit=500", ""},
      {"query_evaluations", "POST", "/v1/query", filter},
      {"query_steps", "POST", "/v1/query", steps},
      {"eliminations", "GET", "/v1/insights/eliminations?min_ratio=0.5&limit=500", ""},
      {"failed_candidates", "GET", "/v1/insights/failed-candidates?reason=price&limit=500", ""},
      {"pipelines", "GET", "/v1/pipelines", ""},
      {"analytics", "GET",
       "/v1/analytics/pipeline?pipeline=" + pipeline +
           "&since=2020-01-01T00:00:00Z&until=2030-01-01T00:00:00Z&bucket=day",
       ""},
  };
}

// Someone at the dashboard: pages of 50, and the execution they open.
std::vector<Request> browse_mix(const std::string& app, const std::string& pipeline) {
  return {
      {"list_50", "GET", "/v1/executions?limit=50", ""},
      {"execution", "GET", "", ""},
      {"list_failed", "GET", "/v1/executions?app=" + app + "&status=failed&limit=50", ""},
      {"eliminations", "GET", "/v1/insights/eliminations?min_ratio=0.9&limit=50", ""},
      {"list_pipeline", "GET", "/v1/executions?pipeline=" + pipeline + "&limit=50", ""},
      {"execution", "GET", "", ""},
      {"failed_candidates", "GET", "/v1/insights/failed-candidates?reason=rating&limit=50", ""},
      {"analytics", "GET", "/v1/analytics/pipeline?app=" + app + "&pipeline=" + pipeline, ""},
  };
}

// The first "execution_url" in a response body (its value holds no quote or
// backslash: a path with percent-encoded segments), or "".
std::string first_execution_url(const std::string& body) {
  const std::string key = "\"execution_url\"";
  auto at = body.find(key);
  if (at == std::string::npos) return "";
  at = body.find_first_not_of(" :", at + key.size());  // PostgreSQL writes `"key" : "value"`
  if (at == std::string::npos || body[at] != '"') return "";
  const auto end = body.find('"', at + 1);
  return end == std::string::npos ? "" : body.substr(at + 1, end - at - 1);
}

class Connection {
 public:
  Connection(const std::string& host, unsigned short port) : host_(host), port_(port) {}
  ~Connection() { close(); }

  // The status of one exchange; 0 when the connection failed.
  int exchange(const Request& r) {
    if (fd_ < 0 && !open()) return 0;
    const std::string target = r.target.empty() ? first_execution_url(last_body_) : r.target;
    if (target.empty()) return -1;  // nothing to open: the previous page was empty
    std::string text = r.method + " " + target + " HTTP/1.1\r\nHost: " + host_ + "\r\n";
    if (!r.body.empty()) {
      text += "Content-Type: application/json\r\nContent-Length: " + std::to_string(r.body.size()) +
              "\r\n";
    }
    text += "\r\n" + r.body;
    if (!send_all(text)) return fail();
    std::size_t header_end;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!receive()) return fail();
    }
    const int status = std::atoi(buffer_.c_str() + 9);
    std::size_t length = 0;
    std::string head = buffer_.substr(0, header_end);
    for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (auto at = head.find("content-length:"); at != std::string::npos) {
      length = std::strtoull(head.c_str() + at + 15, nullptr, 10);
    }
    const bool close_after = head.find("connection: close") != std::string::npos;
    while (buffer_.size() < header_end + 4 + length) {
      if (!receive()) return fail();
    }
    bytes_ += length;
    last_body_.assign(buffer_, header_end + 4, length);
    buffer_.erase(0, header_end + 4 + length);
    if (close_after) close();
    return status;
  }

  std::uint64_t bytes() const { return bytes_; }

 private:
  bool open() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    ::inet_pton(AF_INET, host_.c_str(), &addr.sin_addr);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close();
      return false;
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{60, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return true;
  }
  bool send_all(const std::string& text) {
    std::size_t off = 0;
    while (off < text.size()) {
      const ssize_t n = ::send(fd_, text.data() + off, text.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }
  bool receive() {
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
  int fail() {
    close();
    return 0;
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buffer_.clear();
  }

  std::string host_;
  unsigned short port_;
  int fd_ = -1;
  std::string buffer_;
  std::string last_body_;  // of the last answer
  std::uint64_t bytes_ = 0;
};

struct Tally {
  std::map<std::string, std::map<int, std::uint64_t>> statuses;  // name → status → count
  LatencyHistogram latency;
  std::uint64_t bytes = 0;
};

double ms(std::chrono::nanoseconds d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string explorer = "127.0.0.1:4001";
  std::size_t connections = 4;
  double duration_s = 10;
  std::string app = "shopping-assistant";
  std::string pipeline = "competitor-selection";
  std::string mix_name = "heavy";
  double rate = 0;
  bool json = false;
  po::options_description options("Options");
  options.add_options()("help,h", "show this help")(
      "explorer", po::value(&explorer)->default_value(explorer), "explorer HOST:PORT (IPv4)")(
      "connections,c", po::value(&connections)->default_value(connections),
      "concurrent connections, one request in flight each")(
      "duration,d", po::value(&duration_s)->default_value(duration_s), "seconds to run")(
      "mix", po::value(&mix_name)->default_value(mix_name), "heavy or browse (see the source)")(
      "rate", po::value(&rate)->default_value(rate),
      "requests/s over all connections; 0: each sends as soon as it has its answer")(
      "app", po::value(&app)->default_value(app), "app the queries name")(
      "pipeline", po::value(&pipeline)->default_value(pipeline), "pipeline the queries name")(
      "json", po::bool_switch(&json), "print the report as one JSON object");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, options), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "xray-query-load: " << e.what() << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << "xray-query-load: send the xrayd explorer a query load.\n\n" << options;
    return 0;
  }
  const auto colon = explorer.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "xray-query-load: --explorer must be HOST:PORT\n";
    return 2;
  }
  const std::string host = explorer.substr(0, colon);
  const auto port = static_cast<unsigned short>(std::stoi(explorer.substr(colon + 1)));
  if (mix_name != "heavy" && mix_name != "browse") {
    std::cerr << "xray-query-load: --mix must be heavy or browse\n";
    return 2;
  }
  if (rate < 0 || connections == 0) {
    std::cerr << "xray-query-load: --rate must be >= 0 and --connections > 0\n";
    return 2;
  }
  const std::vector<Request> mix =
      mix_name == "heavy" ? heavy_mix(app, pipeline) : browse_mix(app, pipeline);
  // Paced: each connection sends one request per `interval`, staggered.
  const auto interval =
      rate > 0 ? std::chrono::duration_cast<Clock::duration>(
                     std::chrono::duration<double>(static_cast<double>(connections) / rate))
               : Clock::duration::zero();

  std::vector<Tally> tallies(connections);
  std::vector<std::thread> threads;
  const auto started = Clock::now();
  const auto deadline = started + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(duration_s));
  for (std::size_t c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      Connection conn(host, port);
      Tally& t = tallies[c];
      auto next = started + interval * static_cast<long>(c) / static_cast<long>(connections);
      // The browse mix is a sequence (a page, then an execution from it):
      // every connection walks it from the start.
      for (std::size_t i = mix_name == "heavy" ? c : 0; Clock::now() < deadline; ++i) {
        const Request& r = mix[i % mix.size()];
        if (rate > 0) {
          if (next >= deadline) break;
          std::this_thread::sleep_until(next);
          next += interval;
        }
        const auto sent = Clock::now();
        const int status = conn.exchange(r);
        if (status < 0) continue;  // nothing to open
        t.latency.record(Clock::now() - sent);
        ++t.statuses[r.name][status];
        if (status == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      t.bytes = conn.bytes();
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  Tally total;
  for (auto& t : tallies) {
    total.latency.merge(t.latency);
    total.bytes += t.bytes;
    for (auto& [name, by_status] : t.statuses) {
      for (auto& [status, n] : by_status) total.statuses[name][status] += n;
    }
  }
  const double achieved = static_cast<double>(total.latency.count()) / elapsed;
  if (json) {
    std::cout << "{\"requests\":" << total.latency.count() << ",\"requests_per_s\":" << achieved
              << ",\"mb_per_s\":" << static_cast<double>(total.bytes) / 1e6 / elapsed
              << ",\"p50_ms\":" << ms(total.latency.percentile(50))
              << ",\"p99_ms\":" << ms(total.latency.percentile(99))
              << ",\"max_ms\":" << ms(total.latency.max()) << ",\"statuses\":{";
    bool first = true;
    for (auto& [name, by_status] : total.statuses) {
      for (auto& [status, n] : by_status) {
        std::cout << (first ? "" : ",") << "\"" << name << " " << status << "\":" << n;
        first = false;
      }
    }
    std::cout << "}}\n";
  } else {
    std::printf("%llu requests in %.1f s: %.1f/s, %.1f MB/s of responses\n",
                static_cast<unsigned long long>(total.latency.count()), elapsed, achieved,
                static_cast<double>(total.bytes) / 1e6 / elapsed);
    std::printf("latency p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", ms(total.latency.percentile(50)),
                ms(total.latency.percentile(99)), ms(total.latency.max()));
    for (auto& [name, by_status] : total.statuses) {
      std::printf("  %-18s", name.c_str());
      for (auto& [status, n] : by_status) {
        std::printf(" %d×%llu", status, static_cast<unsigned long long>(n));
      }
      std::printf("\n");
    }
  }
  return 0;
}
