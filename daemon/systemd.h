// systemd integration without a hard dependency: readiness and watchdog
// notifications (sd_notify protocol) and socket activation (LISTEN_FDS).
// Both protocols are a few lines (a datagram to $NOTIFY_SOCKET; fds from 3
// on), documented by systemd as stable, so they are implemented here rather
// than linking libsystemd. Outside systemd every call is a cheap no-op.
// Any thread may call these.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

namespace xrayd {

// Sends `state` ("READY=1", "STOPPING=1", "WATCHDOG=1", "STATUS=...") to
// $NOTIFY_SOCKET if set. Returns false only when sending failed.
bool notify_systemd(std::string_view state);

// The watchdog interval systemd expects (WATCHDOG_USEC), if enabled for us.
std::optional<std::chrono::microseconds> watchdog_interval();

// File descriptors passed by socket activation (LISTEN_PID/LISTEN_FDS),
// starting at 3. Empty when not socket-activated. Call once at startup.
std::vector<int> inherited_listen_fds();

}  // namespace xrayd
