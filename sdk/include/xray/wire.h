// The Unix-domain-socket frame format, shared by xrayd and libxray.
//
// A connection carries a stream of frames in both directions. Every frame is a
// fixed 16-byte header followed by `payload_bytes` bytes of payload. All
// integers are little-endian. docs/protocol.md describes the same layout for
// people; this header is its only definition in code (STYLE.md §6).
//
//   offset size field
//   0      4    payload_bytes   u32, bytes after the header
//   4      1    version         u8, kVersion
//   5      1    type            u8, FrameType
//   6      2    reserved        u16, must be 0
//   8      8    sequence        u64, chosen by the client, echoed in the ack
//
// Snapshot frame (client → daemon): payload is one snapshot as UTF-8 JSON.
// Ack frame (daemon → client): payload is one AckStatus byte followed by an
// optional UTF-8 message (why the snapshot was invalid, busy or failed).
// Acks may arrive in any order; the sequence number pairs them with frames.
//
// Pure functions only: no I/O, no allocation beyond the returned strings, no
// Boost types (this header is part of the SDK's public interface).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace xray::wire {

inline constexpr std::size_t kHeaderBytes = 16;
inline constexpr std::uint8_t kVersion = 1;

enum class FrameType : std::uint8_t {
  kSnapshot = 1,  // client → daemon, payload = snapshot JSON
  kAck = 2,       // daemon → client, payload = AckStatus byte + message
};

enum class AckStatus : std::uint8_t {
  kCommitted = 0,  // the snapshot is in a committed PostgreSQL transaction (invariant 1)
  kInvalid = 1,    // the snapshot can never be stored; the message names why. Do not retry.
  kBusy = 2,       // the daemon is over its memory budget; retry later (invariant 3)
  kFailed = 3,     // not stored for a transient reason (shutdown, database away); retry later
};

struct FrameHeader {
  std::uint32_t payload_bytes = 0;
  FrameType type = FrameType::kSnapshot;
  std::uint64_t sequence = 0;
};

enum class HeaderError : std::uint8_t {
  kBadVersion = 1,  // version byte is not kVersion
  kBadType = 2,     // type byte is not a FrameType
  kBadReserved = 3  // reserved bytes are not zero
};

inline const char* to_string(HeaderError e) {
  switch (e) {
    case HeaderError::kBadVersion:
      return "unsupported frame version";
    case HeaderError::kBadType:
      return "unknown frame type";
    case HeaderError::kBadReserved:
      return "reserved header bytes are not zero";
  }
  return "bad frame header";
}

inline const char* to_string(AckStatus s) {
  switch (s) {
    case AckStatus::kCommitted:
      return "committed";
    case AckStatus::kInvalid:
      return "invalid";
    case AckStatus::kBusy:
      return "busy";
    case AckStatus::kFailed:
      return "failed";
  }
  return "unknown";
}

namespace detail {
inline void put_u32(unsigned char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
inline void put_u64(unsigned char* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
inline std::uint32_t get_u32(const unsigned char* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(p[i]) << (8 * i);
  return v;
}
inline std::uint64_t get_u64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}
}  // namespace detail

// Writes the 16 header bytes for `h` into `out`.
inline void encode_header(const FrameHeader& h, unsigned char* out) {
  detail::put_u32(out, h.payload_bytes);
  out[4] = kVersion;
  out[5] = static_cast<unsigned char>(h.type);
  out[6] = 0;
  out[7] = 0;
  detail::put_u64(out + 8, h.sequence);
}

// Reads a header from the 16 bytes at `in`. On a malformed header returns the
// error; `sequence` is still filled in where the caller wants to name it.
struct DecodedHeader {
  FrameHeader header;
  std::optional<HeaderError> error;
};
inline DecodedHeader decode_header(const unsigned char* in) {
  DecodedHeader d;
  d.header.payload_bytes = detail::get_u32(in);
  d.header.sequence = detail::get_u64(in + 8);
  if (in[4] != kVersion) {
    d.error = HeaderError::kBadVersion;
  } else if (in[6] != 0 || in[7] != 0) {
    d.error = HeaderError::kBadReserved;
  } else if (in[5] != static_cast<unsigned char>(FrameType::kSnapshot) &&
             in[5] != static_cast<unsigned char>(FrameType::kAck)) {
    d.error = HeaderError::kBadType;
  } else {
    d.header.type = static_cast<FrameType>(in[5]);
  }
  return d;
}

// A whole frame (header + payload) as bytes ready to write.
inline std::string encode_frame(FrameType type, std::uint64_t sequence, std::string_view payload) {
  std::string out(kHeaderBytes + payload.size(), '\0');
  encode_header({static_cast<std::uint32_t>(payload.size()), type, sequence},
                reinterpret_cast<unsigned char*>(out.data()));
  out.replace(kHeaderBytes, payload.size(), payload);
  return out;
}

inline std::string encode_snapshot_frame(std::uint64_t sequence, std::string_view json) {
  return encode_frame(FrameType::kSnapshot, sequence, json);
}

inline std::string encode_ack_frame(std::uint64_t sequence, AckStatus status,
                                    std::string_view message) {
  std::string payload;
  payload.reserve(1 + message.size());
  payload.push_back(static_cast<char>(status));
  payload.append(message);
  return encode_frame(FrameType::kAck, sequence, payload);
}

struct AckPayload {
  AckStatus status;
  std::string_view message;  // points into the payload passed to decode_ack_payload
};

// Decodes an ack payload; nullopt if it is empty or the status byte is unknown.
inline std::optional<AckPayload> decode_ack_payload(std::string_view payload) {
  if (payload.empty()) return std::nullopt;
  auto s = static_cast<unsigned char>(payload[0]);
  if (s > static_cast<unsigned char>(AckStatus::kFailed)) return std::nullopt;
  return AckPayload{static_cast<AckStatus>(s), payload.substr(1)};
}

}  // namespace xray::wire
