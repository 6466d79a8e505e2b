#include "client/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace cmq::client {

namespace {
constexpr int kSubBits = 11;                      // 2048 exact values
constexpr uint64_t kSubCount = 1ull << kSubBits;  // 2048
constexpr uint64_t kHalf = kSubCount / 2;         // 1024 buckets per power of two above
constexpr size_t kBuckets = kSubCount + (64 - kSubBits) * kHalf;
}  // namespace

Histogram::Histogram() : counts_(kBuckets, 0) {}

size_t Histogram::BucketOf(uint64_t value) {
  if (value < kSubCount) return static_cast<size_t>(value);
  int shift = std::bit_width(value) - kSubBits;  // >= 1
  uint64_t sub = value >> shift;                 // in [1024, 2048)
  return static_cast<size_t>(kSubCount + (shift - 1) * kHalf + (sub - kHalf));
}

uint64_t Histogram::HighestValueOf(size_t bucket) {
  if (bucket < kSubCount) return bucket;
  uint64_t shift = (bucket - kSubCount) / kHalf + 1;
  uint64_t sub = (bucket - kSubCount) % kHalf + kHalf;
  return ((sub + 1) << shift) - 1;
}

void Histogram::Record(uint64_t value) {
  ++counts_[BucketOf(value)];
  ++count_;
  sum_ += value;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

void Histogram::Add(const Histogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void Histogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = sum_ = max_ = 0;
  min_ = UINT64_MAX;
}

uint64_t Histogram::Percentile(double percentile) const {
  if (count_ == 0) return 0;
  percentile = std::clamp(percentile, 0.0, 100.0);
  // The rank of the wanted value, 1-based: ceil(p% of count), at least 1.
  // (The epsilon keeps 99.9% of 1000 at rank 999 despite binary rounding.)
  auto rank =
      static_cast<uint64_t>(std::ceil(percentile / 100.0 * static_cast<double>(count_) - 1e-9));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(HighestValueOf(i), max_);
  }
  return max_;
}

}  // namespace cmq::client
