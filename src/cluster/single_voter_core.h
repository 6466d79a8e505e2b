#pragma once
// A group of one voter: an entry is committed as soon as it is durable on the local disk.
// Keeps the etcd-style contract of consensus.h so that the Raft core can replace it.

#include <deque>

#include "cluster/consensus.h"

namespace cmq::cluster {

class SingleVoterCore final : public ConsensusCore {
 public:
  // last_index: the last entry already in the (recovered) log; it and everything before it
  // are committed and applied by recovery.
  SingleVoterCore(uint64_t term, uint64_t last_index);

  uint64_t Propose(std::shared_ptr<const std::string> payload) override;
  bool HasReady() const override;
  Ready GetReady() override;
  void Advance(const Ready& ready) override;
  uint64_t commit_index() const override { return commit_; }

 private:
  uint64_t term_;
  uint64_t last_index_;           // last proposed
  uint64_t commit_;               // last durable (== committed for one voter)
  std::deque<Entry> unstable_;    // proposed, not yet handed out for persisting
  std::deque<Entry> persisting_;  // handed out, waiting for Advance
  std::deque<Entry> to_apply_;    // committed, not yet handed out for applying
};

}  // namespace cmq::cluster
