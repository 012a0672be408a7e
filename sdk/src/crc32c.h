// CRC-32C (Castagnoli), the checksum of spool records. Pure; any thread.
#pragma once

#include <cstdint>
#include <string_view>

namespace xray::sdk {

// CRC-32C of `data`, continuing from `crc` (0 to start).
std::uint32_t crc32c(std::string_view data, std::uint32_t crc = 0);

}  // namespace xray::sdk
