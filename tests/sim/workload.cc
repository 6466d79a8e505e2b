#include "sim/workload.h"

#include <algorithm>

#include "mq/command.h"

namespace cmq::sim {

Workload::Workload(const WorkloadOptions& options, SimRandom* random, Trace* trace,
                   Checker* checker)
    : options_(options), random_(random), trace_(trace), checker_(checker) {
  for (int i = 0; i < options_.clients; ++i) {
    Client c;
    c.id = i + 1;
    clients_.push_back(std::move(c));
  }
}

std::string Workload::RandomBody(const Client& c, size_t i) {
  std::string body = fmt::format("c{}r{}b{}:", c.id, c.request, i);
  size_t filler = random_->Below(options_.body_max_bytes + 1);
  for (size_t k = 0; k < filler; ++k) body.push_back(static_cast<char>('a' + random_->Below(26)));
  return body;
}

SimNode* Workload::PickNode(Client& c, std::vector<std::unique_ptr<SimNode>>& nodes) {
  if (c.leader_hint != 0 && random_->Chance(0.9)) {
    for (auto& n : nodes) {
      if (n->id() == c.leader_hint) return n.get();
    }
  }
  return nodes[random_->Below(nodes.size())].get();
}

std::string Workload::NextCommand(Client& c, bool draining) {
  mq::Command cmd;
  cmd.queue_name = kQueueName;
  c.bodies.clear();
  if (!queue_ready_) {
    c.op = Op::kCreateQueue;
    cmd.type = mq::CommandType::kCreateQueue;
  } else if (!c.held.empty() && random_->Chance(draining ? 0.9 : 0.6)) {
    c.op = Op::kDelete;
    cmd.type = mq::CommandType::kDeleteMessages;
    size_t n = std::min<size_t>(c.held.size(), random_->Between(1, 3));
    for (size_t i = 0; i < n; ++i) cmd.receipt_handles.push_back(c.held[i].first);
    // Whatever happens, these handles are spent: an unacknowledged delete leaves the
    // message to reappear after its visibility timeout.
    c.held.erase(c.held.begin(), c.held.begin() + static_cast<std::ptrdiff_t>(n));
  } else if (!draining && random_->Chance(options_.send_weight)) {
    c.op = Op::kSend;
    cmd.type = mq::CommandType::kSendMessages;
    size_t n = random_->Between(1, 3);
    for (size_t i = 0; i < n; ++i) c.bodies.push_back(RandomBody(c, i));
    for (const std::string& b : c.bodies) cmd.bodies.push_back(b);
    if (random_->Chance(options_.delay_probability)) cmd.delay_seconds = random_->Between(1, 2);
  } else {
    c.op = Op::kReceive;
    cmd.type = mq::CommandType::kReceiveMessages;
    cmd.num_messages = static_cast<uint32_t>(random_->Between(1, 4));
    cmd.visibility_timeout_s = static_cast<int64_t>(random_->Between(1, 3));
  }
  std::string encoded;
  mq::EncodeCommand(cmd, encoded);
  return encoded;
}

void Workload::Step(uint64_t now, std::vector<std::unique_ptr<SimNode>>& nodes, bool draining) {
  for (Client& c : clients_) {
    if (c.busy && now >= c.deadline) {
      SIM_TRACE(*trace_, "client {} request {} timed out", c.id, c.request);
      c.busy = false;
      c.leader_hint = 0;
    }
    if (c.busy) continue;
    SimNode* node = PickNode(c, nodes);
    if (!node->is_leader()) {
      c.leader_hint = node->up() ? node->raw().soft_state().lead : 0;
      continue;
    }
    ++c.request;
    std::string encoded = NextCommand(c, draining);
    Status st = node->Submit(ClientCall{c.id, c.request}, std::move(encoded));
    CMQ_ASSERT(st.ok(), "a leader refused a submit");
    ++requests_;
    c.busy = true;
    c.deadline = now + options_.timeout_ticks;
    c.leader_hint = node->id();
    SIM_TRACE(*trace_, "client {} request {} op {} -> node {}", c.id, c.request,
              static_cast<int>(c.op), node->id());
  }
}

void Workload::OnReply(const Reply& reply) {
  if (reply.call.client <= 0 || reply.call.client > static_cast<int>(clients_.size())) return;
  Client& c = clients_[static_cast<size_t>(reply.call.client - 1)];
  if (!c.busy || reply.call.request != c.request) return;  // given up on already
  c.busy = false;
  if (!reply.committed) {
    SIM_TRACE(*trace_, "client {} request {} lost (index {})", c.id, c.request, reply.index);
    return;
  }
  ++acked_;
  const mq::ApplyResult& r = reply.result;
  SIM_TRACE(*trace_, "client {} request {} acked at {}: {}", c.id, c.request, reply.index,
            r.status.ToString());
  switch (c.op) {
    case Op::kCreateQueue:
      if (r.status.ok() || r.status.code() == ErrorCode::kQueueExists) queue_ready_ = true;
      break;
    case Op::kSend:
      if (r.status.ok()) checker_->OnSendAcked(r.msg_ids, c.bodies);
      break;
    case Op::kReceive:
      if (!r.status.ok()) break;
      for (size_t i = 0; i < r.messages.size(); ++i) {
        std::string_view body = i < reply.bodies.size() ? reply.bodies[i] : std::string_view();
        checker_->OnReceiveAcked(r.messages[i].msg_id, body);
        c.held.emplace_back(r.messages[i].receipt_handle, r.messages[i].msg_id);
      }
      break;
    case Op::kDelete:
      break;
  }
}

}  // namespace cmq::sim
