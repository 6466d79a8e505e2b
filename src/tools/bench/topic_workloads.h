#pragma once
// The topic workloads: publish (fan-out to queue subscriptions) and push (to an HTTP
// endpoint inside cmq-bench) (docs/bench.md "Workloads").

#include "tools/bench/options.h"

namespace cmq::bench {

// Runs cfg.workload; returns the exit status (0 ok, 1 errors or pushes missing, 2 set-up).
int RunTopicWorkload(const Config& cfg);

}  // namespace cmq::bench
