// cmq-bench: load generator for CMQ-compatible servers (docs/bench.md). The workloads
// live in src/tools/bench/: queue (send, batch-send, prefill, drain, produce-consume),
// topic (publish, push) and those of the peer benchmark (pub, sync, cons, e2e, e2erate).

#include "tools/bench/options.h"
#include "tools/bench/peer_workloads.h"
#include "tools/bench/queue_workloads.h"
#include "tools/bench/topic_workloads.h"

int main(int argc, char** argv) {
  cmq::bench::Config cfg;
  if (auto stop = cmq::bench::ParseCommandLine(argc, argv, &cfg)) return *stop;
  if (cfg.topic_workload()) return cmq::bench::RunTopicWorkload(cfg);
  if (cfg.peer_workload()) return cmq::bench::RunPeerWorkload(cfg);
  return cmq::bench::RunQueueWorkload(cfg);
}
