#pragma once
// The queue workloads of the issue benchmarks: send, batch-send, prefill, drain and
// produce-consume (docs/bench.md "Workloads").

#include <cstdint>
#include <string>

#include "tools/bench/options.h"

namespace cmq::bench {

// Runs cfg.workload; returns the exit status (0 ok, 1 errors or count not reached, 2 set-up).
int RunQueueWorkload(const Config& cfg);

// Adds `messages` bodies of --size to `queue` as fast as it can (BatchSendMessage of 16
// over 32 connections; a failed batch is sent again) and says so on stderr. Builds the
// backlog a drain measures; its own figures are not a result. Returns the messages sent.
int64_t Fill(const Config& cfg, const std::string& queue, int64_t messages);

}  // namespace cmq::bench
