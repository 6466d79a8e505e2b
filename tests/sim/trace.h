#pragma once
// The event trace of one seed. With --trace every event is printed; with
// --check-determinism every event is hashed, and two runs of a seed must end with the same
// hash. Formatting costs time, so callers test enabled() first (SIM_TRACE does).

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace cmq::sim {

// The step of the seed running in this process, for the crash report of a seed that dies
// of an assertion (main.cc's signal handler reads it).
inline volatile uint64_t g_current_step = 0;

class Trace {
 public:
  Trace(bool print, bool hash) : print_(print), hash_(hash) {}

  bool enabled() const { return print_ || hash_; }
  void set_step(uint64_t step) {
    step_ = step;
    g_current_step = step;
  }
  uint64_t step() const { return step_; }
  void Event(std::string_view text);
  uint64_t hash() const { return hash_value_; }
  uint64_t events() const { return events_; }

 private:
  bool print_;
  bool hash_;
  uint64_t step_ = 0;
  uint64_t hash_value_ = 0;
  uint64_t events_ = 0;
};

}  // namespace cmq::sim

#define SIM_TRACE(trace, ...)                                       \
  do {                                                              \
    if ((trace).enabled()) (trace).Event(fmt::format(__VA_ARGS__)); \
  } while (0)
