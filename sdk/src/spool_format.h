// The byte layout of spool segment files; docs/spool.md describes the same
// layout for people, and this header is its only definition in code.
//
// A segment is an 8-byte header followed by records. Integers little-endian.
//
//   segment header: "XRAYSPL" + version byte 0x01
//   record:         offset size field
//                   0      4    magic          u32 0x43455258 ("XREC" on disk)
//                   4      4    payload_bytes  u32, at most kMaxPayloadBytes
//                   8      4    checksum       u32 CRC-32C of bytes 4..7 followed by the payload
//                   12     n    payload        one snapshot, UTF-8 JSON, exactly as sent to xrayd
//
// The checksum covers the length, so a corrupted length is caught like a
// corrupted payload; the magic lets a reader find the next record after a
// corrupt one. Pure functions only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crc32c.h"

namespace xray::sdk::spool_format {

inline constexpr std::string_view kSegmentHeader{"XRAYSPL\x01", 8};
inline constexpr std::uint32_t kRecordMagic = 0x43455258;  // "XREC"
inline constexpr std::size_t kRecordHeaderBytes = 12;
inline constexpr std::uint32_t kMaxPayloadBytes = 64u << 20;
inline constexpr std::string_view kSegmentPrefix = "seg-";
inline constexpr std::string_view kSegmentSuffix = ".xsp";

inline void put_u32(char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
inline std::uint32_t get_u32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    v |= static_cast<std::uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  }
  return v;
}

inline std::uint32_t record_checksum(const char* length_bytes, std::string_view payload) {
  return crc32c(payload, crc32c(std::string_view(length_bytes, 4)));
}

// Header + payload, ready for one write.
inline std::string encode_record(std::string_view payload) {
  std::string out(kRecordHeaderBytes + payload.size(), '\0');
  put_u32(out.data(), kRecordMagic);
  put_u32(out.data() + 4, static_cast<std::uint32_t>(payload.size()));
  put_u32(out.data() + 8, record_checksum(out.data() + 4, payload));
  out.replace(kRecordHeaderBytes, payload.size(), payload);
  return out;
}

struct RecordHeader {
  std::uint32_t payload_bytes = 0;
  std::uint32_t checksum = 0;
};

// The header at `p` (kRecordHeaderBytes bytes), or nullopt when its magic is
// wrong or its length is impossible.
inline std::optional<RecordHeader> decode_record_header(const char* p) {
  if (get_u32(p) != kRecordMagic) return std::nullopt;
  RecordHeader h{get_u32(p + 4), get_u32(p + 8)};
  if (h.payload_bytes > kMaxPayloadBytes) return std::nullopt;
  return h;
}

inline bool checksum_matches(const char* header, std::string_view payload) {
  return get_u32(header + 8) == record_checksum(header + 4, payload);
}

// True for names of segment files ("seg-<time>-<pid>-<n>.xsp").
inline bool is_segment_name(std::string_view name) {
  return name.size() > kSegmentPrefix.size() + kSegmentSuffix.size() &&
         name.substr(0, kSegmentPrefix.size()) == kSegmentPrefix &&
         name.substr(name.size() - kSegmentSuffix.size()) == kSegmentSuffix;
}

}  // namespace xray::sdk::spool_format
