// Blocking test clients for xrayd: HTTP/1.1 over loopback and the frame
// protocol over the Unix socket. Every call has a deadline so a test never
// hangs. One test thread per client.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "xray/wire.h"

namespace xray::testing {

struct HttpReply {
  int status = 0;  // 0: no response (connection failed or closed)
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

// One keep-alive connection to 127.0.0.1:port (reconnects when closed).
class HttpClient {
 public:
  explicit HttpClient(unsigned short port);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpReply post(const std::string& target, const std::string& content_type,
                 const std::string& body,
                 std::chrono::milliseconds timeout = std::chrono::seconds(30));
  HttpReply get(const std::string& target,
                std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Sends raw bytes (for malformed or trickled requests); returns whether sent.
  bool send_raw(const std::string& bytes);
  // Reads one response after send_raw.
  HttpReply read_reply(std::chrono::milliseconds timeout);
  // Reads raw bytes (a streamed response, Server-Sent Events) until what was
  // read since the last call contains `needle` or `timeout` passes; returns
  // everything read since the last call.
  std::string read_until(const std::string& needle, std::chrono::milliseconds timeout);
  // A request with extra header lines ("Name: value\r\n" each).
  HttpReply request(const std::string& method, const std::string& target,
                    const std::string& headers, const std::string& body,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // True if the server closed the connection within `timeout`.
  bool closed_by_peer(std::chrono::milliseconds timeout);
  // Connects if not connected; false if the connection was refused.
  bool connect() { return ensure_connected(); }
  bool connected() const { return fd_ >= 0; }

 private:
  bool ensure_connected();
  void close();
  unsigned short port_;
  int fd_ = -1;
  std::string pending_;  // bytes read past the last response
};

struct Ack {
  std::uint64_t sequence = 0;
  wire::AckStatus status = wire::AckStatus::kFailed;
  std::string message;
};

class UdsClient {
 public:
  explicit UdsClient(const std::string& path);
  ~UdsClient();
  UdsClient(const UdsClient&) = delete;
  UdsClient& operator=(const UdsClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool send_snapshot(std::uint64_t sequence, const std::string& json);
  bool send_bytes(const std::string& bytes);
  // Closes the sending side (shutdown(SHUT_WR)); acks can still be read.
  bool shutdown_write();
  // Next ack, or nullopt on timeout / closed connection.
  std::optional<Ack> read_ack(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  bool closed_by_peer(std::chrono::milliseconds timeout);

 private:
  bool read_exact(char* out, std::size_t n, std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
};

}  // namespace xray::testing
