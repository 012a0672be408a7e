#include "daemon/timestamp.h"

#include <charconv>
#include <cstdio>

namespace xrayd {
namespace {

// Reads `n` decimal digits at `pos`.
bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

TimeFault parse_rfc3339(std::string_view s, Timestamp& out) {
  using namespace std::chrono;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, h) ||
      s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, sec)) {
    return TimeFault::kSyntax;
  }
  std::size_t pos = 19;
  std::int64_t micros = 0;
  if (s[pos] == '.') {
    std::size_t start = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      // Digits past the sixth are truncated: PostgreSQL keeps microseconds.
      if (pos - start < 6) micros = micros * 10 + (s[pos] - '0');
      ++pos;
    }
    if (pos == start) return TimeFault::kSyntax;
    for (std::size_t n = pos - start; n < 6; ++n) micros *= 10;
  }
  int offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh = 0, om = 0;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(s, pos + 4, 2, om)) {
      return TimeFault::kSyntax;
    }
    if (oh > 23 || om > 59) return TimeFault::kNotADate;
    offset_minutes = (s[pos] == '-' ? -1 : 1) * (oh * 60 + om);
    pos += 6;
  } else {
    return TimeFault::kSyntax;
  }
  if (pos != s.size()) return TimeFault::kSyntax;

  year_month_day date{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  // Second 60 is a leap second; it rolls into the next minute below.
  if (!date.ok() || h > 23 || mi > 59 || sec > 60) return TimeFault::kNotADate;
  Timestamp t = sys_days{date} + hours{h} + minutes{mi} + seconds{sec} + microseconds{micros} -
                minutes{offset_minutes};
  if (t < kMinTimestamp || t > kMaxTimestamp) return TimeFault::kOutOfRange;
  out = t;
  return TimeFault::kNone;
}

std::optional<Timestamp> parse_time_text(std::string_view text) {
  Timestamp t{};
  if (parse_rfc3339(text, t) == TimeFault::kNone) return t;
  std::int64_t ms = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  constexpr std::int64_t kMinMs = kMinTimestamp.time_since_epoch().count() / 1000;
  constexpr std::int64_t kMaxMs = kMaxTimestamp.time_since_epoch().count() / 1000;
  if (ms < kMinMs || ms > kMaxMs) return std::nullopt;
  return Timestamp{std::chrono::milliseconds{ms}};
}

std::string format_rfc3339_ms(Timestamp t) {
  using namespace std::chrono;
  const sys_days day = floor<days>(t);
  const year_month_day date{day};
  const auto ms = duration_cast<milliseconds>(t - day).count();
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", int(date.year()),
                unsigned(date.month()), unsigned(date.day()),
                static_cast<long long>(ms / 3'600'000), static_cast<long long>(ms / 60'000 % 60),
                static_cast<long long>(ms / 1000 % 60), static_cast<long long>(ms % 1000));
  return text;
}

}  // namespace xrayd
