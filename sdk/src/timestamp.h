// Wall-clock timestamps of executions and steps: Unix milliseconds, written
// as RFC 3339 UTC with millisecond precision ("2026-11-22T10:00:00.123Z"), the
// form DESIGN §3 shows. Pure apart from now_unix_ms(); any thread.
#pragma once

#include <cstdint>
#include <string>

namespace xray::sdk {

std::int64_t now_unix_ms();

// Appends the RFC 3339 text of `unix_ms` to `out`.
void append_rfc3339(std::string& out, std::int64_t unix_ms);

}  // namespace xray::sdk
