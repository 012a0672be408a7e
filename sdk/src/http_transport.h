// HttpClient: the fallback transport. POSTs one snapshot to xrayd's
// `POST /v1/executions` (application/json) over HTTP/1.1 keep-alive and
// returns the status, which xrayd sends only after the commit (DESIGN §4).
//
// Calls block the sender thread until the response, the deadline or the
// abort predicate says stop (checked every 50 ms), never longer; there is no
// other use of the connection meanwhile. Used by the sender thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "errors.h"

namespace xray::sdk {

struct HttpEndpoint {
  std::string host;
  std::uint16_t port = 0;
};

// "http://host:port", "host:port" or "http://host:port/". Errors: Errc::kBadEndpoint.
[[nodiscard]] Result<HttpEndpoint> parse_http_endpoint(std::string_view text);

class HttpClient {
 public:
  // `abort` (optional) cuts a waiting call short, as if its deadline had passed.
  explicit HttpClient(HttpEndpoint endpoint, std::function<bool()> abort = {})
      : endpoint_(std::move(endpoint)), abort_(std::move(abort)) {}
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `json` and returns the HTTP status (2xx: committed). Errors: cannot
  // resolve or connect, Errc::kTimeout when `deadline` passes, Errc::kClosed,
  // Errc::kProtocol for a response that does not parse. After an error the
  // connection is closed; the next call reconnects.
  [[nodiscard]] Result<int> post_snapshot(std::string_view json,
                                          std::chrono::steady_clock::time_point deadline);

 private:
  Result<void> connect(std::chrono::steady_clock::time_point deadline);
  Result<void> write_all(std::string_view data, std::chrono::steady_clock::time_point deadline);
  Result<int> read_response(std::chrono::steady_clock::time_point deadline, bool& keep_alive);
  Result<void> wait(short events, std::chrono::steady_clock::time_point deadline);
  void close();

  HttpEndpoint endpoint_;
  std::function<bool()> abort_;
  int fd_ = -1;
};

}  // namespace xray::sdk
