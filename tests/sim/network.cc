#include "sim/network.h"

#include "raft/codec.h"
#include "raft/describe.h"

namespace cmq::sim {

bool Network::Send(const raft::Message& m, uint64_t now) {
  ++sent_;
  if (random_->Chance(options_.drop_probability)) {
    ++dropped_;
    SIM_TRACE(*trace_, "net drop {}", raft::DescribeMessage(m));
    return false;
  }
  std::string bytes = raft::EncodeMessage(m);
  Enqueue(m, bytes, now);
  if (random_->Chance(options_.duplicate_probability)) {
    SIM_TRACE(*trace_, "net duplicate {}->{} {}", m.from, m.to, raft::MessageTypeName(m.type));
    Enqueue(m, bytes, now);
  }
  return true;
}

void Network::Enqueue(const raft::Message& m, const std::string& bytes, uint64_t now) {
  uint64_t delay = random_->Between(options_.delay_min_ticks, options_.delay_max_ticks);
  queue_.emplace(std::make_pair(now + delay, sequence_++), Delivery{m.from, m.to, m.type, bytes});
}

std::vector<Delivery> Network::TakeDue(uint64_t now, std::vector<Delivery>* lost) {
  std::vector<Delivery> due;
  while (!queue_.empty() && queue_.begin()->first.first <= now) {
    Delivery d = std::move(queue_.begin()->second);
    queue_.erase(queue_.begin());
    if (IsCut(d.from, d.to)) {
      ++dropped_;
      SIM_TRACE(*trace_, "net cut {}->{} {}", d.from, d.to, raft::MessageTypeName(d.type));
      lost->push_back(std::move(d));
      continue;
    }
    due.push_back(std::move(d));
  }
  // Fisher-Yates with the seeded generator: messages due in the same tick arrive in any
  // order.
  for (size_t i = due.size(); i > 1; --i) std::swap(due[i - 1], due[random_->Below(i)]);
  return due;
}

}  // namespace cmq::sim
