#pragma once
// The core's only source of randomness: SplitMix64, seeded from Config. Chosen over
// <random> because std distributions differ between standard libraries, and a simulation
// seed must replay identically everywhere.

#include <cstdint>

#include "common/assert.h"

namespace cmq::raft {

class Prng {
 public:
  explicit Prng(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // Uniform in [0, bound); the modulo bias is irrelevant for bounds this small.
  uint64_t Below(uint64_t bound) {
    CMQ_ASSERT(bound > 0, "Prng::Below(0)");
    return Next() % bound;
  }

 private:
  uint64_t state_;
};

}  // namespace cmq::raft
