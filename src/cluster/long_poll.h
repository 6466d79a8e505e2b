#pragma once
// Parked long-poll receives, by queue. Leader-local and never replicated (DESIGN.md): a
// waiter is woken when a send to its queue is applied or when the poll tick finds a message
// visible, and then proposes its receive again; at its deadline it is answered "no message".
// Strand-confined.

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "cluster/proposal.h"

namespace cmq::cluster {

class LongPollWaiters {
 public:
  void Park(Proposal p) {
    std::string key = p.queue_key;
    by_queue_[key].push_back(std::move(p));
    ++size_;
  }

  // Removes up to n waiters of the queue, oldest first.
  std::vector<Proposal> Take(const std::string& queue_key, size_t n) {
    std::vector<Proposal> out;
    auto it = by_queue_.find(queue_key);
    if (it == by_queue_.end()) return out;
    auto& q = it->second;
    while (!q.empty() && out.size() < n) {
      out.push_back(std::move(q.front()));
      q.pop_front();
    }
    size_ -= out.size();
    if (q.empty()) by_queue_.erase(it);
    return out;
  }

  // Removes every waiter whose deadline is <= now_ms.
  std::vector<Proposal> TakeExpired(int64_t now_ms) {
    std::vector<Proposal> out;
    for (auto it = by_queue_.begin(); it != by_queue_.end();) {
      auto& q = it->second;
      for (auto w = q.begin(); w != q.end();) {
        if (w->deadline_ms <= now_ms) {
          out.push_back(std::move(*w));
          w = q.erase(w);
        } else {
          ++w;
        }
      }
      it = q.empty() ? by_queue_.erase(it) : std::next(it);
    }
    size_ -= out.size();
    return out;
  }

  std::vector<std::string> Queues() const {
    std::vector<std::string> keys;
    keys.reserve(by_queue_.size());
    for (const auto& [k, _] : by_queue_) keys.push_back(k);
    return keys;
  }

  std::vector<Proposal> TakeAll() {
    std::vector<Proposal> out;
    for (auto& [_, q] : by_queue_) {
      for (auto& p : q) out.push_back(std::move(p));
    }
    by_queue_.clear();
    size_ = 0;
    return out;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  std::map<std::string, std::deque<Proposal>> by_queue_;
  size_t size_ = 0;
};

}  // namespace cmq::cluster
