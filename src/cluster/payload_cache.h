#pragma once
// The payloads of the most recent log entries, kept in memory so that a receive of a
// recently sent message costs a memcpy instead of a pread. Bounded by bytes; entries are
// added in index order and evicted oldest first. Strand-confined (not thread-safe).

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

namespace cmq::cluster {

class PayloadCache {
 public:
  explicit PayloadCache(uint64_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}

  // REQUIRES: index follows the last one added (a gap or an older index resets the cache).
  void Add(uint64_t index, std::shared_ptr<const std::string> payload) {
    if (!entries_.empty() && index != first_index_ + entries_.size()) Clear();
    if (entries_.empty()) first_index_ = index;
    bytes_ += payload->size();
    entries_.push_back(std::move(payload));
    while (bytes_ > capacity_bytes_ && entries_.size() > 1) {
      bytes_ -= entries_.front()->size();
      entries_.pop_front();
      ++first_index_;
    }
  }

  // nullptr when the entry is not cached.
  const std::string* Find(uint64_t index) const {
    if (entries_.empty() || index < first_index_ || index >= first_index_ + entries_.size()) {
      return nullptr;
    }
    return entries_[index - first_index_].get();
  }

  void Clear() {
    entries_.clear();
    bytes_ = 0;
  }

 private:
  uint64_t capacity_bytes_;
  uint64_t bytes_ = 0;
  uint64_t first_index_ = 0;
  std::deque<std::shared_ptr<const std::string>> entries_;
};

}  // namespace cmq::cluster
