#include "sdk/src/uuid.h"

#include <mutex>
#include <regex>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace xray::sdk {
namespace {

TEST(Uuid, HasVersion7AndVariantInCanonicalForm) {
  static const std::regex kForm(
      "^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  for (int i = 0; i < 1000; ++i) {
    std::string id = make_uuid_v7();
    ASSERT_TRUE(std::regex_match(id, kForm)) << id;
  }
}

TEST(Uuid, EncodesTheFieldsWhereRfc9562PutsThem) {
  EXPECT_EQ(format_uuid_v7(0x0192F1C27C1Eull, 0xA4B, 0x1D7E5F0C3A9B1E22ull),
            "0192f1c2-7c1e-7a4b-9d7e-5f0c3a9b1e22");
}

TEST(Uuid, StartsWithTheCurrentUnixMilliseconds) {
  auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  std::string id = make_uuid_v7();
  std::string hex = id.substr(0, 8) + id.substr(9, 4);
  auto ms = static_cast<long long>(std::stoull(hex, nullptr, 16));
  EXPECT_GE(ms, before);
  EXPECT_LE(ms, before + 1000);
}

TEST(Uuid, IncreasesStrictlyWithinOneThread) {
  std::string last = make_uuid_v7();
  for (int i = 0; i < 100000; ++i) {  // many share a millisecond: the counter orders them
    std::string id = make_uuid_v7();
    ASSERT_LT(last, id);
    last = id;
  }
}

TEST(Uuid, IsUniqueAcrossThreads) {
  std::mutex mu;
  std::set<std::string> all;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      std::vector<std::string> mine;
      for (int i = 0; i < 20000; ++i) mine.push_back(make_uuid_v7());
      std::lock_guard<std::mutex> lock(mu);
      all.insert(mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(all.size(), 80000u);
}

}  // namespace
}  // namespace xray::sdk
