#pragma once
// Queue preparation before a run, over one synchronous connection to the first endpoint.

#include <cstdint>
#include <optional>
#include <string>

#include "tools/bench/options.h"

namespace cmq::bench {

// Creates the queue unless it exists (maxMsgSize 1 MiB when --size > 64 KiB); with `fresh`,
// deletes it first so that the run starts on an empty queue. False (printed) on failure.
bool PrepareQueue(const Config& cfg, const std::string& queue, bool fresh);

// Messages the queue holds: active + inactive (in flight) + delayed.
std::optional<int64_t> QueueBacklog(const Config& cfg, const std::string& queue);

}  // namespace cmq::bench
