// The typed commands of TcpConnection (spec cmq-tcp-protocol.md §6): each builds its
// CMQProto, calls, and turns the answer into a value or an Error.

#include <algorithm>
#include <utility>

#include "client/tcp_connection.h"

namespace cmq::client {

namespace {

Message ToMessage(const tcp::cmq_pull_msg_rsp& m) {
  Message out;
  out.msg_id = m.msg_id();
  out.receipt_handle = m.receipt_handle();
  out.body = m.msg_body();
  out.enqueue_time = m.enqueue_time();
  out.next_visible_time = m.next_visible_time();
  out.first_dequeue_time = m.first_dequeue_time();
  out.dequeue_count = m.dequeue_count();
  return out;
}

// The msg ids of a send or publish: one per body, in order.
Result<std::vector<uint64_t>> MsgIds(const tcp::CMQProto& r, size_t expected) {
  if (static_cast<size_t>(r.msgids_size()) != expected) {
    return Error::Protocol("expected " + std::to_string(expected) + " msg ids, got " +
                           std::to_string(r.msgids_size()));
  }
  return std::vector<uint64_t>(r.msgids().begin(), r.msgids().end());
}

std::chrono::milliseconds PullTimeout(const TcpOptions& o, int wait_seconds) {
  return o.request_timeout + std::chrono::seconds(std::max(wait_seconds, 0));
}

}  // namespace

void TcpConnection::Send(std::string_view queue, std::string_view body, int delay_seconds,
                         IdHandler handler) {
  tcp::CMQProto p;
  p.set_cmd(tcp::CMQ_TCP_SEND_MSG);
  auto* m = p.mutable_tcp_send_msg();
  m->set_queue_name(std::string(queue));
  m->set_msgbody(std::string(body));
  if (delay_seconds >= 0) m->set_delay_seconds(static_cast<uint32_t>(delay_seconds));
  Call(std::move(p), {}, [h = std::move(handler)](Result<tcp::CMQProto> r) {
    if (!r.ok()) return h(r.error());
    auto ids = MsgIds(*r, 1);
    if (!ids.ok()) return h(ids.error());
    h(ids->front());
  });
}

void TcpConnection::BatchSend(std::string_view queue, std::span<const std::string> bodies,
                              int delay_seconds, IdsHandler handler) {
  tcp::CMQProto p;
  p.set_cmd(tcp::CMQ_TCP_BATCH_SEND_MSG);
  auto* m = p.mutable_tcp_batch_send_msg();
  m->set_queue_name(std::string(queue));
  for (const auto& b : bodies) m->add_msgbody(b);
  if (delay_seconds >= 0) m->set_delay_seconds(static_cast<uint32_t>(delay_seconds));
  Call(std::move(p), {}, [h = std::move(handler), n = bodies.size()](Result<tcp::CMQProto> r) {
    if (!r.ok()) return h(r.error());
    h(MsgIds(*r, n));
  });
}

void TcpConnection::Pull(std::string_view queue, int wait_seconds,
                         std::optional<uint32_t> visible_timeout, MessageHandler handler) {
  tcp::CMQProto p;
  p.set_cmd(tcp::CMQ_TCP_PULL_MSG);
  auto* m = p.mutable_tcp_pull_msg();
  m->set_queue_name(std::string(queue));
  m->set_poll_wait_seconds(wait_seconds);
  if (visible_timeout) m->set_visible_timeout(*visible_timeout);
  Call(std::move(p), PullTimeout(options(), wait_seconds),
       [h = std::move(handler)](Result<tcp::CMQProto> r) {
         if (!r.ok()) return h(r.error());
         if (!r->has_pull_rsp()) return h(Error::Protocol("pull answered without a message"));
         h(ToMessage(r->pull_rsp()));
       });
}

void TcpConnection::BatchPull(std::string_view queue, int num_msg, int wait_seconds,
                              std::optional<uint32_t> visible_timeout, MessagesHandler handler) {
  tcp::CMQProto p;
  p.set_cmd(tcp::CMQ_TCP_BATCH_PULL_MSG);
  auto* m = p.mutable_tcp_batch_pull_msg();
  m->set_queue_name(std::string(queue));
  m->set_num_msg(num_msg);
  m->set_poll_wait_seconds(wait_seconds);
  if (visible_timeout) m->set_visible_timeout(*visible_timeout);
  Call(std::move(p), PullTimeout(options(), wait_seconds),
       [h = std::move(handler)](Result<tcp::CMQProto> r) {
         if (!r.ok()) return h(r.error());
         std::vector<Message> out;
         out.reserve(static_cast<size_t>(r->batch_pull_rsp().msg_list_size()));
         for (const auto& m : r->batch_pull_rsp().msg_list()) out.push_back(ToMessage(m));
         h(std::move(out));
       });
}

void TcpConnection::Delete(std::string_view queue, uint64_t receipt_handle, DoneHandler handler) {
  tcp::CMQProto p;
  p.set_cmd(tcp::CMQ_TCP_DELETE_MSG);
  auto* m = p.mutable_tcp_delete_msg();
  m->set_queue_name(std::string(queue));
  m->set_receipt_handle(receipt_handle);
  Call(std::move(p), {}, [h = std::move(handler)](Result<tcp::CMQProto> r) {
    if (!r.ok()) return h(r.error());
    h(Result<void>());
  });
}

void TcpConnection::BatchDelete(std::string_view queue, std::span<const uint64_t> receipt_handles,
                                DeleteHandler handler) {
  tcp::CMQProto p;
  p.set_cmd(tcp::CMQ_TCP_BATCH_DELETE_MSG);
  auto* m = p.mutable_tcp_batch_delete_msg();
  m->set_queue_name(std::string(queue));
  for (uint64_t rh : receipt_handles) m->add_receipt_handle_list(rh);
  // Raw: a partial failure (6010) is a non-zero result whose del_result lists the handles
  // that failed; only a failure without that list is an error of the whole request.
  CallRaw(std::move(p), {}, [h = std::move(handler)](Result<tcp::CMQProto> r) {
    if (!r.ok()) return h(r.error());
    if (r->result() != 0 && r->del_result_size() == 0) return h(*TcpServerError(*r));
    std::vector<DeleteError> failed;
    failed.reserve(static_cast<size_t>(r->del_result_size()));
    for (const auto& d : r->del_result()) {
      failed.push_back(DeleteError{d.receipt_handle(), d.err_code(), d.err_msg()});
    }
    h(std::move(failed));
  });
}

void TcpConnection::Publish(std::string_view topic, std::string_view body,
                            std::span<const std::string> tags,
                            std::optional<std::string_view> routing_key, IdHandler handler) {
  tcp::CMQProto p;
  p.set_cmd(tcp::CMQ_TCP_PUBLISH_MSG);
  auto* m = p.mutable_tcp_publish_msg();
  m->set_topic_name(std::string(topic));
  m->set_msgbody(std::string(body));
  for (const auto& t : tags) m->add_msgtags(t);
  if (routing_key) m->set_routing_key(std::string(*routing_key));
  Call(std::move(p), {}, [h = std::move(handler)](Result<tcp::CMQProto> r) {
    if (!r.ok()) return h(r.error());
    auto ids = MsgIds(*r, 1);
    if (!ids.ok()) return h(ids.error());
    h(ids->front());
  });
}

void TcpConnection::BatchPublish(std::string_view topic, std::span<const std::string> bodies,
                                 std::span<const std::string> tags,
                                 std::optional<std::string_view> routing_key, IdsHandler handler) {
  tcp::CMQProto p;
  p.set_cmd(tcp::CMQ_TCP_BATCH_PUBLISH_MSG);
  auto* m = p.mutable_tcp_batch_publish_msg();
  m->set_topic_name(std::string(topic));
  for (const auto& b : bodies) m->add_msgbody(b);
  for (const auto& t : tags) m->add_msgtags(t);
  if (routing_key) m->set_routing_key(std::string(*routing_key));
  Call(std::move(p), {}, [h = std::move(handler), n = bodies.size()](Result<tcp::CMQProto> r) {
    if (!r.ok()) return h(r.error());
    h(MsgIds(*r, n));
  });
}

}  // namespace cmq::client
