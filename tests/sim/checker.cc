#include "sim/checker.h"

#include <fmt/format.h>

#include "common/checksum.h"
#include "common/encoding.h"

namespace cmq::sim {

void Checker::Fail(std::string what) {
  if (failure_.empty()) failure_ = std::move(what);
}

uint64_t Checker::ChainHash(uint64_t previous, const raft::Entry& e) {
  std::string buf;
  PutFixed64(buf, previous);
  PutFixed64(buf, e.index);
  PutFixed64(buf, e.term);
  buf.push_back(static_cast<char>(e.type));
  buf.append(e.data_view());
  return Hash64(buf);
}

void Checker::OnLeader(raft::NodeId node, raft::Term term) {
  auto [it, inserted] = leaders_.emplace(term, node);
  if (!inserted && it->second != node) {
    Fail(fmt::format("election safety: nodes {} and {} both lead term {}", it->second, node, term));
  }
}

void Checker::OnPersist(raft::NodeId node, const raft::Entry& e, raft::Term prev_term) {
  uint64_t data = Hash64(e.data_view()) ^ static_cast<uint64_t>(e.type);
  auto [it, inserted] =
      entries_.emplace(std::make_pair(e.index, e.term), std::make_pair(data, prev_term));
  if (inserted) return;
  if (it->second.first != data) {
    Fail(fmt::format("log matching: node {} holds different data at index {} term {}", node,
                     e.index, e.term));
  } else if (it->second.second != prev_term) {
    Fail(fmt::format("log matching: node {} has term {} before {}/{}, another node had {}", node,
                     prev_term, e.term, e.index, it->second.second));
  }
}

void Checker::OnApply(raft::NodeId node, const raft::Entry& e, uint64_t hash) {
  uint64_t data = Hash64(e.data_view()) ^ static_cast<uint64_t>(e.type);
  auto [c, fresh] = committed_.emplace(e.index, std::make_pair(e.term, data));
  if (!fresh && c->second != std::make_pair(e.term, data)) {
    Fail(
        fmt::format("state machine safety: node {} applied {}/{}, another node applied term {} "
                    "(or other data) at that index",
                    node, e.term, e.index, c->second.first));
    return;
  }
  auto [h, inserted] = applied_hash_.emplace(e.index, hash);
  if (!inserted && h->second != hash) {
    Fail(fmt::format("state machine safety: node {} applied a different prefix up to index {}",
                     node, e.index));
  }
}

void Checker::OnRestore(raft::NodeId node, raft::Index index, uint64_t hash) {
  auto [h, inserted] = applied_hash_.emplace(index, hash);
  if (!inserted && h->second != hash) {
    Fail(
        fmt::format("state machine safety: node {} restored a snapshot at {} whose history "
                    "differs from what others applied",
                    node, index));
  }
}

void Checker::OnSendApplied(raft::Index index, const std::vector<std::string_view>& bodies,
                            const mq::ApplyResult& result) {
  if (!result.status.ok()) return;
  if (result.msg_ids.size() != bodies.size()) {
    Fail(fmt::format("queue: send at {} returned {} ids for {} bodies", index,
                     result.msg_ids.size(), bodies.size()));
    return;
  }
  for (size_t i = 0; i < bodies.size(); ++i) {
    auto [it, inserted] = bodies_.emplace(result.msg_ids[i], std::string(bodies[i]));
    if (!inserted && it->second != bodies[i]) {
      Fail(fmt::format("queue: message id {} names two bodies (second at index {})",
                       result.msg_ids[i], index));
    }
  }
}

void Checker::OnReceiveApplied(raft::NodeId node, raft::Index index, size_t position,
                               const mq::ApplyResult& result) {
  std::vector<uint64_t> fingerprint;
  for (const mq::ReceivedMessage& m : result.messages) {
    fingerprint.push_back(m.msg_id);
    fingerprint.push_back(m.receipt_handle);
    fingerprint.push_back(static_cast<uint64_t>(m.next_visible_time_ms));
  }
  auto [it, first] = receives_.try_emplace({index, position}, fingerprint);
  if (!first && it->second != fingerprint) {
    Fail(fmt::format("queue: node {} received other messages at {}/{} than another node", node,
                     index, position));
  }
  while (receives_.size() > 4096 && receives_.begin()->first.first + 4096 < index) {
    receives_.erase(receives_.begin());
  }
  for (const mq::ReceivedMessage& m : result.messages) {
    handle_msg_[m.receipt_handle] = m.msg_id;
    if (!bodies_.count(m.msg_id)) {
      Fail(fmt::format("queue: node {} received unknown message {} at {}", node, m.msg_id, index));
    }
    auto d = deleted_at_.find(m.msg_id);
    if (d != deleted_at_.end() && d->second < index) {
      Fail(fmt::format("queue: node {} delivered message {} at index {} after its delete at {}",
                       node, m.msg_id, index, d->second));
    }
  }
}

void Checker::OnDeleteApplied(raft::Index index, const std::vector<uint64_t>& handles,
                              const mq::ApplyResult& result) {
  if (!result.status.ok() && result.delete_failures.empty()) return;  // refused as a whole
  std::set<uint64_t> failed;
  for (const mq::DeleteFailure& f : result.delete_failures) failed.insert(f.receipt_handle);
  for (uint64_t handle : handles) {
    if (failed.count(handle)) continue;
    auto m = handle_msg_.find(handle);
    if (m == handle_msg_.end()) {
      Fail(fmt::format("queue: delete at {} succeeded with handle {} no receive returned", index,
                       handle));
      continue;
    }
    deleted_at_.emplace(m->second, index);
  }
}

void Checker::OnSendAcked(const std::vector<uint64_t>& msg_ids,
                          const std::vector<std::string>& bodies) {
  for (size_t i = 0; i < msg_ids.size() && i < bodies.size(); ++i) {
    auto b = bodies_.find(msg_ids[i]);
    if (b == bodies_.end() || b->second != bodies[i]) {
      Fail(fmt::format("queue: acknowledged send {} does not match what was applied", msg_ids[i]));
    }
    acked_.emplace(msg_ids[i], bodies[i]);
  }
}

void Checker::OnReceiveAcked(uint64_t msg_id, std::string_view body) {
  auto b = bodies_.find(msg_id);
  if (b == bodies_.end()) {
    Fail(fmt::format("queue: a client received message {} that was never sent", msg_id));
  } else if (b->second != body) {
    Fail(fmt::format("queue: message {} received with a different body ({} bytes, sent {})", msg_id,
                     body.size(), b->second.size()));
  }
  received_.insert(msg_id);
}

std::vector<uint64_t> Checker::Unreceived() const {
  std::vector<uint64_t> out;
  for (const auto& [id, body] : acked_) {
    if (!received_.count(id)) out.push_back(id);
  }
  return out;
}

}  // namespace cmq::sim
