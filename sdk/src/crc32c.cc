#include "crc32c.h"

#include <array>

namespace xray::sdk {
namespace {

// Byte-at-a-time table for the reflected polynomial 0x82F63B78. The spool
// checksums each record once on write and once on replay, on the sender
// thread, so a few hundred MB/s is plenty and needs no CPU dispatch.
constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    t[i] = c;
  }
  return t;
}

constexpr auto kTable = make_table();

}  // namespace

std::uint32_t crc32c(std::string_view data, std::uint32_t crc) {
  crc = ~crc;
  for (char ch : data) {
    crc = kTable[(crc ^ static_cast<unsigned char>(ch)) & 0xFF] ^ (crc >> 8);
  }
  return ~crc;
}

}  // namespace xray::sdk
