#include "raft/inflights.h"

#include "common/assert.h"

namespace cmq::raft {

void Inflights::Add(Index last_index, uint64_t bytes) {
  CMQ_ASSERT(!Full(), "inflights: add to a full window");
  CMQ_ASSERT(items_.empty() || items_.back().index < last_index, "inflights out of order");
  items_.push_back({last_index, bytes});
  bytes_ += bytes;
}

void Inflights::FreeLE(Index index) {
  while (!items_.empty() && items_.front().index <= index) {
    bytes_ -= items_.front().bytes;
    items_.pop_front();
  }
}

}  // namespace cmq::raft
