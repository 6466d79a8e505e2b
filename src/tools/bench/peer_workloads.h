#pragma once
// The workloads of the peer benchmark (/work/shared/peer-bench: RabbitMQ quorum queues and
// NATS JetStream on the same box), in CMQ terms, on one queue:
//   pub     --inflight W senders' worth of SendMessage in flight (the peers' publish window
//           of unconfirmed messages): msgs/s and acknowledgement latency;
//   sync    one message in flight;
//   cons    drain a --backlog N queue with ~--prefetch P messages in flight (P / 16
//           receivers looping BatchReceiveMessage of 16 + BatchDeleteMessage);
//   e2e     senders (pub) and receivers (cons) together at full speed: consume and publish
//           rates, and the latency from the send time written in each body to its receipt;
//   e2erate the same with the senders paced at --rate (default 2,000 msgs/s).
// With --protocol tcp the same windows are pipelined over a few CMQ TCP connections
// (tcp_agents.h); queue set-up stays on HTTP.

#include "tools/bench/options.h"

namespace cmq::bench {

// Runs cfg.workload; returns the exit status (0 ok, 1 errors or backlog not drained, 2 set-up).
int RunPeerWorkload(const Config& cfg);

}  // namespace cmq::bench
