#include "uuid.h"

#include <atomic>
#include <chrono>
#include <random>

namespace xray::sdk {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::uint64_t process_seed() {
  // Once per process; random_device may read /dev/urandom, so not per id.
  static const std::uint64_t kSeed = [] {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }();
  return kSeed;
}

struct Generator {
  std::uint64_t rng_state;
  std::uint64_t last_ms = 0;
  std::uint16_t counter = 0;

  Generator() {
    static std::atomic<std::uint64_t> next_thread{0};
    rng_state =
        process_seed() ^ (next_thread.fetch_add(1, std::memory_order_relaxed) << 48) ^
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }

  std::string next() {
    auto now = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count());
    std::uint64_t random = splitmix64(rng_state);
    if (now > last_ms) {
      last_ms = now;
      counter = static_cast<std::uint16_t>(random >> 53);  // 11 random bits: room to count up
      random = splitmix64(rng_state);
    } else if (++counter > 0xFFF) {
      // Counter exhausted, or the clock went back: borrow the next millisecond
      // so that this thread's ids stay increasing.
      ++last_ms;
      counter = 0;
    }
    return format_uuid_v7(last_ms, counter, random);
  }
};

}  // namespace

std::string format_uuid_v7(std::uint64_t unix_ms, std::uint16_t counter, std::uint64_t random) {
  unsigned char b[16];
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(unix_ms >> (8 * (5 - i)));
  b[6] = static_cast<unsigned char>(0x70 | ((counter >> 8) & 0x0F));
  b[7] = static_cast<unsigned char>(counter & 0xFF);
  b[8] = static_cast<unsigned char>(0x80 | ((random >> 56) & 0x3F));
  for (int i = 9; i < 16; ++i) b[i] = static_cast<unsigned char>(random >> (8 * (15 - i)));

  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0xF]);
  }
  return out;
}

void prime_uuid_seed() { (void)process_seed(); }

std::string make_uuid_v7() {
  thread_local Generator generator;
  return generator.next();
}

}  // namespace xray::sdk
