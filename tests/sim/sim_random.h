#pragma once
// The simulator's only source of randomness: one std::mt19937_64 per seed. Its output
// sequence is fixed by the C++ standard; the helpers below avoid <random>'s distributions,
// whose results differ between standard libraries, so a seed replays identically anywhere.

#include <cstdint>
#include <random>

#include "common/assert.h"

namespace cmq::sim {

class SimRandom {
 public:
  explicit SimRandom(uint64_t seed) : gen_(seed) {}

  uint64_t Next() { return gen_(); }
  // Uniform in [0, bound); the modulo bias is irrelevant for the bounds used here.
  uint64_t Below(uint64_t bound) {
    CMQ_ASSERT(bound > 0, "SimRandom::Below(0)");
    return gen_() % bound;
  }
  // Uniform in [lo, hi].
  uint64_t Between(uint64_t lo, uint64_t hi) {
    CMQ_ASSERT(lo <= hi, "SimRandom::Between: lo > hi");
    return lo + Below(hi - lo + 1);
  }
  // Uniform in [0, 1) with 53 random bits.
  double Unit() { return static_cast<double>(gen_() >> 11) * 0x1.0p-53; }
  bool Chance(double p) { return p > 0 && Unit() < p; }

 private:
  std::mt19937_64 gen_;
};

}  // namespace cmq::sim
