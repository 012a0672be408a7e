// Timestamps as xray spells them: RFC 3339 in and out, epoch milliseconds in.
//
// The snapshot parser reads a snapshot's times with parse_rfc3339(); the
// explorer reads `since`/`until` parameters and filter values with
// parse_time_text() and prints times with format_rfc3339_ms(). Pure: any
// thread, no shared state.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace xrayd {

// UTC, microsecond resolution (PostgreSQL's timestamptz resolution).
using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

// Years 0001..9999: what RFC 3339 can spell and what the encoder prints with
// four-digit years (snapshot.h invariant 4).
inline constexpr Timestamp kMinTimestamp{std::chrono::sys_days{std::chrono::year{1} / 1 / 1}};
inline constexpr Timestamp kMaxTimestamp{std::chrono::sys_days{std::chrono::year{9999} / 12 / 31} +
                                         std::chrono::days{1} - std::chrono::microseconds{1}};

enum class TimeFault { kNone, kSyntax, kNotADate, kOutOfRange };

// RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM). Fractional
// digits past the sixth are truncated; a leap second :60 rolls into the next
// minute, as in PostgreSQL. Sets `out` only when it returns kNone.
TimeFault parse_rfc3339(std::string_view text, Timestamp& out);

// An RFC 3339 date-time or an integer of epoch milliseconds (optionally
// negative), within years 0001..9999; nullopt for anything else.
std::optional<Timestamp> parse_time_text(std::string_view text);

// 2026-11-22T10:00:00.123Z: UTC with milliseconds (truncated), as every
// explorer response spells a time.
std::string format_rfc3339_ms(Timestamp t);

// Microseconds since the Unix epoch, the form bound into SQL and cursors.
inline std::int64_t epoch_micros(Timestamp t) { return t.time_since_epoch().count(); }

}  // namespace xrayd
