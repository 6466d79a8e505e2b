#include "cluster/single_voter_core.h"

#include "common/assert.h"

namespace cmq::cluster {

SingleVoterCore::SingleVoterCore(uint64_t term, uint64_t last_index)
    : term_(term), last_index_(last_index), commit_(last_index) {}

uint64_t SingleVoterCore::Propose(std::shared_ptr<const std::string> payload) {
  CMQ_ASSERT(payload != nullptr, "proposal without payload");
  Entry e{term_, ++last_index_, std::move(payload)};
  unstable_.push_back(std::move(e));
  return last_index_;
}

bool SingleVoterCore::HasReady() const {
  return !unstable_.empty() || !to_apply_.empty();
}

Ready SingleVoterCore::GetReady() {
  CMQ_ASSERT(persisting_.empty(), "GetReady before the previous Ready was advanced");
  Ready r;
  r.entries_to_persist.assign(unstable_.begin(), unstable_.end());
  r.must_sync = !r.entries_to_persist.empty();
  persisting_ = std::move(unstable_);
  unstable_.clear();
  r.committed.assign(to_apply_.begin(), to_apply_.end());
  to_apply_.clear();
  return r;
}

void SingleVoterCore::Advance(const Ready& ready) {
  CMQ_ASSERT(ready.entries_to_persist.size() == persisting_.size(), "Advance with a foreign Ready");
  for (Entry& e : persisting_) {
    CMQ_ASSERT(e.index == commit_ + 1, "entries must become durable in order");
    commit_ = e.index;
    to_apply_.push_back(std::move(e));
  }
  persisting_.clear();
}

}  // namespace cmq::cluster
