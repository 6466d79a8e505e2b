#include "tools/bench/setup.h"

#include <iostream>

#include "client/client.h"

namespace cmq::bench {

using namespace cmq::client;  // NOLINT

bool PrepareQueue(const Config& cfg, const std::string& queue, bool fresh) {
  Client c(cfg.options);
  if (fresh) {
    auto d = c.DeleteQueue(queue);
    if (!d.ok() && d.error().code != kCodeQueueNotExist) {
      std::cerr << "delete queue " << queue << ": " << d.error().ToString() << "\n";
      return false;
    }
  }
  QueueAttributes a;
  if (cfg.size > 65536) a.max_msg_size = 1048576;
  auto r = c.CreateQueue(queue, a);
  if (!r.ok() && r.error().code != kCodeQueueExists) {
    std::cerr << "create queue " << queue << ": " << r.error().ToString() << "\n";
    return false;
  }
  return true;
}

std::optional<int64_t> QueueBacklog(const Config& cfg, const std::string& queue) {
  Client c(cfg.options);
  auto m = c.GetQueueAttributes(queue);
  if (!m.ok()) {
    std::cerr << "queue attributes: " << m.error().ToString() << "\n";
    return std::nullopt;
  }
  return m->active_msg_num + m->inactive_msg_num + m->delay_msg_num;
}

}  // namespace cmq::bench
