// LatencyHistogram: counts of durations in log-linear buckets, in the manner
// of HdrHistogram: 128 linear sub-buckets per power of two of nanoseconds, so
// a reported percentile is at most 1/128 (0.8 %) above the true value, with
// constant memory (about 60 KB) however many values are recorded. Min, max
// and mean are exact.
//
// Not thread-safe: each thread records into its own histogram, and merge()
// adds them up once the threads are done.
#pragma once

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdint>
#include <limits>
#include <vector>

namespace xray::bench {

class LatencyHistogram {
 public:
  LatencyHistogram() : counts_(kBuckets, 0) {}

  void record(std::chrono::nanoseconds d) {
    const std::uint64_t v = d.count() > 0 ? static_cast<std::uint64_t>(d.count()) : 0;
    ++counts_[bucket_of(v)];
    ++count_;
    sum_ns_ += static_cast<double>(v);
    min_ns_ = std::min(min_ns_, v);
    max_ns_ = std::max(max_ns_, v);
  }

  void merge(const LatencyHistogram& other) {
    for (std::size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    sum_ns_ += other.sum_ns_;
    min_ns_ = std::min(min_ns_, other.min_ns_);
    max_ns_ = std::max(max_ns_, other.max_ns_);
  }

  std::uint64_t count() const { return count_; }

  // The smallest bucket bound below which `percent` % of the values lie
  // (never above the exact maximum); 0 when empty. `percent` in [0, 100].
  std::chrono::nanoseconds percentile(double percent) const {
    if (count_ == 0) return std::chrono::nanoseconds{0};
    const double wanted = percent / 100.0 * static_cast<double>(count_);
    std::uint64_t rank = static_cast<std::uint64_t>(wanted);
    if (static_cast<double>(rank) < wanted || rank == 0) ++rank;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return ns(std::min(upper_bound_of(i), max_ns_));
    }
    return ns(max_ns_);
  }

  std::chrono::nanoseconds min() const { return ns(count_ ? min_ns_ : 0); }
  std::chrono::nanoseconds max() const { return ns(max_ns_); }
  std::chrono::nanoseconds mean() const {
    return ns(count_ ? static_cast<std::uint64_t>(sum_ns_ / static_cast<double>(count_)) : 0);
  }

 private:
  static constexpr int kSubBits = 7;
  static constexpr std::uint64_t kSub = 1u << kSubBits;
  // Shifts 0..(63 - kSubBits), each with kSub buckets, after the first kSub exact ones.
  static constexpr std::size_t kBuckets = (64 - kSubBits + 1) * kSub;

  static std::size_t bucket_of(std::uint64_t v) {
    if (v < kSub) return static_cast<std::size_t>(v);
    const int shift = std::bit_width(v) - 1 - kSubBits;
    return static_cast<std::size_t>((shift + 1) * kSub + ((v >> shift) - kSub));
  }
  static std::uint64_t upper_bound_of(std::size_t i) {
    if (i < kSub) return i;
    const int shift = static_cast<int>(i / kSub) - 1;
    const std::uint64_t mantissa = i % kSub + kSub;
    return ((mantissa + 1) << shift) - 1;
  }
  static std::chrono::nanoseconds ns(std::uint64_t v) {
    return std::chrono::nanoseconds{static_cast<std::int64_t>(v)};
  }

  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  double sum_ns_ = 0;
  std::uint64_t min_ns_ = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t max_ns_ = 0;
};

}  // namespace xray::bench
