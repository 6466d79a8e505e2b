#pragma once
// Everything a caller can observe of a state machine and of an ApplyResult, as strings, so
// that two machines (e.g. one restored from a snapshot) can be compared with ASSERT_EQ.

#include <string>
#include <vector>

#include "mq/state_machine.h"

namespace cmq::mq::testing {

// Appends "|<tag><v>". (Not `"|" + std::to_string(v)`: GCC 12 -O3 warns falsely on it.)
inline void AddField(std::string& out, char tag, uint64_t v) {
  out.push_back('|');
  out.push_back(tag);
  out.append(std::to_string(v));
}

inline std::string DescribeResult(const ApplyResult& r) {
  std::string out = r.status.ToString();
  out.push_back('|');
  out.append(r.queue_id);
  for (uint64_t id : r.msg_ids) AddField(out, 'i', id);
  for (const ReceivedMessage& m : r.messages) {
    for (uint64_t v : {m.msg_id, m.receipt_handle, m.body.log_index, uint64_t{m.body.offset},
                       uint64_t{m.body.length}, static_cast<uint64_t>(m.enqueue_time_ms),
                       static_cast<uint64_t>(m.next_visible_time_ms),
                       static_cast<uint64_t>(m.first_dequeue_time_ms), uint64_t{m.dequeue_count}}) {
      AddField(out, 'm', v);
    }
  }
  for (const DeleteFailure& f : r.delete_failures) {
    AddField(out, 'f', f.receipt_handle);
    out.append(f.status.ToString());
  }
  out.append("|" + r.topic_id + "|" + r.subscription_id);
  for (const std::string& q : r.queues_fed) out.append("|" + q);
  for (const TransactionCheck& c : r.transaction_checks) {
    out.append("|check " + c.queue_name + " " + c.producer);
    AddField(out, 'c', c.msg_id);
  }
  return out;
}

inline std::string ObserveSubscription(const SubscriptionInfo& s) {
  std::string out = "\n  " + s.subscription_id + "|" + s.subscription_name + "|" + s.topic_name +
                    "|" + s.protocol + "|" + s.endpoint + "|" + s.notify_strategy + "|" +
                    s.notify_content_format;
  for (const std::string& t : s.filter_tags) out.append("|t" + t);
  for (const std::string& k : s.binding_keys) out.append("|k" + k);
  for (uint64_t v :
       {static_cast<uint64_t>(s.create_time_s), static_cast<uint64_t>(s.last_modify_time_s),
        s.msg_count, s.dropped_msg_count}) {
    AddField(out, 's', v);
  }
  return out;
}

inline std::string ObservePush(const PendingPush& p) {
  std::string out = "\n  push " + p.protocol + "|" + p.topic_name + "|" + p.subscription_name +
                    "|" + p.endpoint + "|" + p.notify_content_format + "|" + p.notify_strategy;
  for (const std::string& t : p.msg_tags) out.append("|t" + t);
  for (uint64_t v : {p.msg_id, p.body.log_index, uint64_t{p.body.offset}, uint64_t{p.body.length},
                     static_cast<uint64_t>(p.publish_time_ms), uint64_t{p.attempts}}) {
    AddField(out, 'p', v);
  }
  return out;
}

// Every topic, subscription and push due at now_ms.
inline std::string ObserveTopics(const StateMachine& sm, int64_t now_ms) {
  std::string out;
  for (const auto& [id, name] : sm.ListTopics("", 0, UINT64_MAX).topics) {
    Result<TopicInfo> t = sm.GetTopic(name, now_ms);
    out.append("\n" + t->topic_id + "|" + t->topic_name);
    for (int64_t v : {t->max_msg_size, t->msg_retention_seconds, t->filter_type, t->create_time_s,
                      t->last_modify_time_s}) {
      AddField(out, 't', static_cast<uint64_t>(v));
    }
    AddField(out, 'n', t->msg_count);
    Result<SubscriptionListing> subs = sm.ListSubscriptions(name, "", 0, UINT64_MAX);
    for (const SubscriptionInfo& s : subs->subscriptions) out.append(ObserveSubscription(s));
  }
  for (const PendingPush& p : sm.DuePushes(now_ms, SIZE_MAX, SIZE_MAX)) out.append(ObservePush(p));
  AddField(out, 'd', static_cast<uint64_t>(sm.NextPushDueMs().value_or(-1)));
  return out;
}

// One queue as GetQueue, NextDueMs and HasVisibleMessage see it at now_ms.
inline std::string ObserveQueue(const StateMachine& sm, const std::string& name, int64_t now_ms) {
  Result<QueueInfo> info = sm.GetQueue(name, now_ms);
  if (!info.ok()) return info.status().ToString();
  const QueueAttributes& a = info->attributes;
  std::string out = info->queue_id;
  out.push_back('|');
  out.append(info->queue_name);
  for (int64_t v :
       {a.max_msg_heap_num, a.polling_wait_seconds, a.visibility_timeout, a.max_msg_size,
        a.msg_retention_seconds, a.rewind_seconds, info->create_time_s, info->last_modify_time_s,
        info->min_msg_time_s, sm.NextDueMs(name).value_or(-1)}) {
    AddField(out, 'a', static_cast<uint64_t>(v));
  }
  for (uint64_t v :
       {info->active_msg_num, info->inactive_msg_num, info->delay_msg_num, info->rewind_msg_num,
        info->transaction_msg_num, uint64_t{sm.HasVisibleMessage(name, now_ms)}}) {
    AddField(out, 'c', v);
  }
  return out;
}

// The whole machine at now_ms: its counters and every queue it lists.
inline std::string ObserveMachine(const StateMachine& sm, int64_t now_ms) {
  std::string out;
  for (uint64_t v : {sm.last_applied_index(), static_cast<uint64_t>(sm.last_applied_time_ms()),
                     sm.message_count(), sm.OldestReferencedLogIndex()}) {
    AddField(out, 'g', v);
  }
  QueueListing listing = sm.ListQueues("", 0, UINT64_MAX);
  for (const auto& [id, name] : listing.queues) {
    out.push_back('\n');
    out.append(ObserveQueue(sm, name, now_ms));
  }
  out.append(ObserveTopics(sm, now_ms));
  return out;
}

}  // namespace cmq::mq::testing
