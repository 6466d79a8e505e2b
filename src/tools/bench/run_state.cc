#include "tools/bench/run_state.h"

#include <algorithm>

namespace cmq::bench {

void Stats::Merge(const Stats& o) {
  latency_us.Add(o.latency_us);
  e2e_us.Add(o.e2e_us);
  produced += o.produced;
  consumed += o.consumed;
  requests += o.requests;
  errors += o.errors;
  last_produce = std::max(last_produce, o.last_produce);
  first_consume = std::min(first_consume, o.first_consume);
  last_consume = std::max(last_consume, o.last_consume);
}

}  // namespace cmq::bench
