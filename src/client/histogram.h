#pragma once
// A fixed-bucket latency histogram in the manner of HdrHistogram: values below 2048 are
// counted exactly; above, each power-of-two range is split into 1024 buckets, so a
// reported value is within 0.1% of the recorded one. Recording is a few instructions and
// never allocates; histograms from several threads are merged with Add().

#include <cstddef>
#include <cstdint>
#include <vector>

namespace cmq::client {

class Histogram {
 public:
  Histogram();

  void Record(uint64_t value);
  void Add(const Histogram& other);
  void Reset();

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ ? min_ : 0; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / count_ : 0; }
  // The smallest recorded value v (to the bucket's precision: the highest value of its
  // bucket, capped at max()) such that at least `percentile`% of the values are <= v.
  // 0 when empty. percentile in [0, 100].
  uint64_t Percentile(double percentile) const;

  // Bucket arithmetic, exposed for tests.
  static size_t BucketOf(uint64_t value);
  static uint64_t HighestValueOf(size_t bucket);

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace cmq::client
