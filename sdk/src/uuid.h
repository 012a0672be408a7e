// UUIDv7 (RFC 9562 §5.7): 48-bit Unix time in milliseconds, version 7, a
// 12-bit counter in rand_a (method 1 of §6.2), variant 10, 62 random bits.
//
// Ids made by one thread are strictly increasing, also as text: within one
// millisecond the counter counts up from a random start below 2048, and when
// it overflows the timestamp borrows from the next millisecond. Ids from
// different threads or processes are unique (62 random bits per id) and
// ordered by time to the millisecond. Any thread may call; each thread has its
// own generator, seeded without system calls from a per-process seed that
// std::random_device provides once (prime_uuid_seed(), called by the Client's
// constructor, so that recording threads never read /dev/urandom).
#pragma once

#include <cstdint>
#include <string>

namespace xray::sdk {

// A new UUIDv7 in canonical form: 8-4-4-4-12 lowercase hex digits.
std::string make_uuid_v7();

// Draws the per-process seed now if that has not happened yet (may read
// /dev/urandom). make_uuid_v7() does it on first use otherwise.
void prime_uuid_seed();

// The canonical text of the UUIDv7 with these fields (only the low 48, 12 and
// 62 bits are used). Pure; for the generator and tests.
std::string format_uuid_v7(std::uint64_t unix_ms, std::uint16_t counter, std::uint64_t random);

}  // namespace xray::sdk
