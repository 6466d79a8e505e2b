#pragma once
// The summary of one run: a text line (key=value, docs/bench.md "Output") or, with --json,
// one JSON line; with --json FILE the JSON line is also appended to FILE, so a script
// running several workloads collects one line per step there.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "client/histogram.h"
#include "tools/bench/options.h"

namespace cmq::bench {

using Fields = std::vector<std::pair<std::string, std::string>>;  // name, number

struct Report {
  std::string workload;
  std::string protocol;  // empty: HTTP (not printed); "tcp": printed after the workload
  Fields params;         // workload parameters (inflight, prefetch, ...): after workload= in text
  int clients = 0, size = 0, batch = 0;
  uint64_t messages = 0;  // acknowledged (producing workloads) or deleted (consuming ones)
  uint64_t produced = 0;
  uint64_t requests = 0, errors = 0;
  double seconds = 0;                          // msgs/s = messages / seconds
  const client::Histogram* latency = nullptr;  // per request
  // Per message, send to receipt: when set, the headline latency (p50_ms/p99_ms in JSON).
  const client::Histogram* e2e = nullptr;
  Fields extra;  // further figures after errors=; a name ending in _per_X prints as /X
  std::optional<double> server_cpu_us_per_msg;
};

// Prints the summary as --json asks; false if --json FILE cannot be written.
bool Emit(const Config& cfg, const Report& r);

// printf("%.*f").
std::string Fixed(double v, int digits);

}  // namespace cmq::bench
