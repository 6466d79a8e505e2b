#pragma once
// Inflights: the MsgApp messages sent to one follower and not yet acknowledged, each
// remembered by its last index. Bounded in count (the window of pipelining) and bytes.

#include <cstddef>
#include <cstdint>
#include <deque>

#include "raft/types.h"

namespace cmq::raft {

class Inflights {
 public:
  explicit Inflights(size_t capacity) : capacity_(capacity) {}

  // REQUIRES: !Full() and indexes added in increasing order.
  void Add(Index last_index, uint64_t bytes);
  // Frees every message whose last index is <= `index` (acknowledged).
  void FreeLE(Index index);
  void FreeFirstOne() {
    if (!items_.empty()) FreeLE(items_.front().index);
  }
  bool Full() const { return items_.size() >= capacity_; }
  size_t Count() const { return items_.size(); }
  uint64_t Bytes() const { return bytes_; }
  void Reset() {
    items_.clear();
    bytes_ = 0;
  }

 private:
  struct Item {
    Index index;
    uint64_t bytes;
  };
  size_t capacity_;
  std::deque<Item> items_;
  uint64_t bytes_ = 0;
};

}  // namespace cmq::raft
