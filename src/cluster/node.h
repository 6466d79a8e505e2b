#pragma once
// A cmqd node's replica of one Raft group (src/raft/): of this node alone, or of every node
// of a cluster (docs/cluster.md), its messages to peers going out through a RaftSend
// function (cluster/peer_network.h puts them on the transport). The node drives the Raft
// core in the order of its Ready contract (persist → send → apply → advance; a leader's
// appends and heartbeats go out before its own fsync), forms one log entry from
// all proposals that arrive while the disk is busy (group commit: one fdatasync for many
// requests), answers each request with the result of its own apply (a receive as soon as
// the messages it chose are in the log: docs/queue-model.md "Receives answered before
// their commit"), parks long-poll receives until a message becomes visible or their wait
// ends, pushes topic messages to
// HTTP subscribers, and takes snapshots that bound the log. Only the leader serves: on a
// follower every request fails with kUnavailable (api/ forwards requests to the leader
// before they get here, see leader_id()).
//
// Threads: one strand thread owns the Raft core, the state machine and the waiters; one
// disk thread persists (append, fsync, hard state, log compaction); a snapshot thread
// writes snapshot files; a push thread runs HTTP pushes. Public methods are thread-safe.

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "cluster/http_push_client.h"
#include "cluster/long_poll.h"
#include "cluster/node_stats.h"
#include "cluster/payload_cache.h"
#include "cluster/proposal.h"
#include "cluster/queue_service.h"
#include "cluster/raft_storage.h"
#include "cluster/retained_stream.h"
#include "common/clock.h"
#include "mq/state_machine.h"
#include "raft/conf_change.h"
#include "raft/raw_node.h"

namespace cmq::cluster {

struct NodeOptions {
  std::string data_dir = "./data";
  uint32_t group_id = 1;
  // Data groups in the cluster (a cluster constant): a queue or topic lives in the group
  // mq::GroupOfName picks, and only there.
  uint32_t group_count = 1;
  uint64_t node_id = 1;                        // this node's Raft id in the group
  uint64_t max_entry_bytes = 8ull << 20;       // one log entry carries at most this much
  uint64_t payload_cache_bytes = 64ull << 20;  // recent entries kept in memory for reads
  int64_t housekeeping_interval_ms = 1000;     // how often expired messages are dropped
  int64_t poll_tick_ms = 10;                   // how often parked receives re-check
  // Every voter of the group (node ids); empty: this node alone. Used only to bootstrap a
  // new group: all nodes of a cluster must be given the same list.
  std::vector<uint64_t> voters;
  // A node joining a running group (docs/cluster.md "Membership"): with no data, it does
  // not bootstrap a group of its own but waits for the leader's snapshot once added.
  bool join = false;
  int64_t raft_tick_ms = 50;  // one Raft tick: a heartbeat
  int election_tick = 10;     // ticks; elections start after 1-2x this without a leader
  // While its disk persists a Ready, a leader keeps sending heartbeats for this long at
  // most (a slow fsync does not cost it the group; a stuck disk does, after this).
  int64_t max_disk_stall_heartbeat_ms = 5000;
  // Proposals are refused (retryable) while this much is proposed and not yet applied.
  uint64_t raft_max_uncommitted_bytes = raft::kDefaultMaxUncommittedBytes;
  // Take a snapshot of the state machine after this many payload bytes were applied since
  // the last one, then drop log segments nobody needs (docs/architecture.md "Snapshots").
  uint64_t snapshot_interval_bytes = 256ull << 20;
  uint64_t log_segment_bytes = 64ull << 20;
  // A follower persists on its strand instead of the disk thread (docs/cluster.md).
  bool follower_persists_on_strand = true;
  // A snapshot sent to a follower carries the log entries that hold retained bodies when
  // they take at most this many bytes; a larger run is streamed into the follower's
  // staging log first (cluster/retained_stream.h), so no size is too large.
  uint64_t snapshot_inline_bytes = 64ull << 20;
  // A follower's staging log (where a stream puts those entries) that no chunk reached
  // for this long is emptied: its stream will not resume.
  int64_t staging_idle_ms = 10 * 60 * 1000;
  // HTTP push of topic messages (leader-local): how often due pushes are looked for, how
  // many may be in flight in all and per subscription (a slow endpoint holds back only its
  // own subscription), and how long one push may take.
  int64_t push_tick_ms = 50;
  size_t max_pushes_in_flight = 256;
  size_t max_pushes_per_subscription = 8;
  int64_t push_timeout_ms = 15'000;
};

// Sends an encoded raft::Message (raft/codec.h) to node `to`; false if it was dropped.
// Called on the node's threads; must not block.
using RaftSend = std::function<bool(uint64_t to, std::string message)>;

class Node final : public QueueService {
 public:
  // Opens the group's storage under options.data_dir (bootstrapping a new group of one
  // voter if it is empty), restores the newest snapshot and replays the committed log, so
  // that the state is complete when Open returns.
  static Result<std::unique_ptr<Node>> Open(storage::FileSystem* fs, const Clock* clock,
                                            NodeOptions options);
  ~Node() override;

  // Starts the threads. Stop() fails pending requests with kUnavailable and joins the
  // threads; it is called by the destructor too.
  void Start();
  void Stop();

  // Before Start: how messages reach the other voters (a group of one sends none).
  void SetRaftSend(RaftSend send) { raft_send_ = std::move(send); }
  // Before Start: how retained-entry stream frames (cluster/retained_stream.h; ack: an
  // answer, else a chunk) reach a peer; false if dropped. Must not block.
  using StreamSend = std::function<bool(uint64_t to, bool ack, std::string payload)>;
  void SetStreamSend(StreamSend send) { stream_send_ = std::move(send); }
  // A stream frame from a peer, from any thread. Malformed ones are logged and dropped.
  void OnRetainedFrame(uint64_t from, bool ack, std::string payload);
  // A message from a peer (raft/codec.h encoding), from any thread. Malformed ones are
  // logged and dropped.
  void StepRaft(std::string_view message);
  // A peer's connection broke: the leader stops pipelining to it until it answers again.
  void ReportUnreachable(uint64_t peer);
  // Membership: called on the node's strand at Start and after every change of the
  // group's configuration, with the members and the addresses of the nodes added at run
  // time (from their conf changes). Set before Start.
  using MembershipListener = std::function<void(const raft::ConfState& members,
                                                const std::map<uint64_t, std::string>& addresses)>;
  void SetMembershipListener(MembershipListener listener) { membership_ = std::move(listener); }
  // Proposes a membership change (the leader only; one at a time); done once it is applied.
  // Removing the leader itself hands leadership to another voter first (answering kUnavailable:
  // retry against the new leader).
  void ChangeMembership(raft::ConfChange change, std::function<void(Status)> done) override;
  // Delivers a topic message's copy to a queue that lives in another data group
  // (docs/cluster.md "Data groups"): done(ok) once that group has it, done(error) otherwise;
  // kUnavailable errors are retried, any other drops the copy. Set before Start when the
  // cluster has more than one group; may call done on any thread.
  using RemoteEnqueue = std::function<void(std::string queue_name, std::string body,
                                           std::function<void(Status)> done)>;
  void SetRemoteEnqueue(RemoteEnqueue fn) { remote_enqueue_ = std::move(fn); }
  // Check-backs of transaction messages (docs/tcp-protocol.md "Transaction messages"):
  // called on the node's strand, on every replica that applies the entry in which a check
  // fell due (each asks the producer if it is connected there), not while the log is
  // replayed at Open, and not for entries older than 30 s (a replica catching up). Must
  // not block. Set before Start.
  using TransactionCheckListener = std::function<void(const mq::TransactionCheck&)>;
  void SetTransactionCheckListener(TransactionCheckListener fn) { check_listener_ = std::move(fn); }
  // The group's leader as this node last heard (0: none known; node_id: this node).
  uint64_t leader_id() const { return leader_id_.load(std::memory_order_acquire); }
  // The term in which leader_id() was learned (to weigh it against other nodes' hints).
  uint64_t leader_term() const { return leader_term_.load(std::memory_order_acquire); }
  uint64_t node_id() const { return options_.node_id; }
  uint32_t group_id() const { return options_.group_id; }

  void Submit(const mq::Command& cmd, CommandCallback done) override;
  void Receive(const mq::Command& cmd, std::optional<int64_t> wait_seconds, CommandCallback done,
               AbandonFlag abandoned = nullptr) override;
  void GetQueue(std::string queue_name, std::function<void(Result<mq::QueueInfo>)> done) override;
  void ListQueues(std::string search_word, uint64_t offset, uint64_t limit,
                  std::function<void(mq::QueueListing)> done) override;
  void GetTopic(std::string topic_name, std::function<void(Result<mq::TopicInfo>)> done) override;
  void ListTopics(std::string search_word, uint64_t offset, uint64_t limit,
                  std::function<void(mq::TopicListing)> done) override;
  void GetSubscription(std::string topic_name, std::string subscription_name,
                       std::function<void(Result<mq::SubscriptionInfo>)> done) override;
  void ListSubscriptions(std::string topic_name, std::string search_word, uint64_t offset,
                         uint64_t limit,
                         std::function<void(Result<mq::SubscriptionListing>)> done) override;

  void GetGroupStatus(std::function<void(Result<NodeStats>)> done) override;
  void TransferLeadership(uint64_t to, std::function<void(Status)> done) override;

  uint64_t recovered_entries() const { return recovered_entries_; }
  NodeStats stats();  // thread-safe snapshot (taken on the strand)

 private:
  Node(storage::FileSystem* fs, const Clock* clock, NodeOptions options,
       std::unique_ptr<RaftStorage> storage);
  Status Recover();
  Status PersistReady(const raft::Ready& rd);  // the disk half of the Ready contract

  // Strand-only (node_drive.cc).
  void Enqueue(Proposal p);
  void ProposePending();
  void Drive();
  void OnPersisted(raft::Ready ready, Status status);
  void SendMessages(std::vector<raft::Message>& messages);
  void SendSnapshot(raft::Message m);
  bool SendSnapshotMessage(const raft::Message& m);  // snapshot thread
  // Retained-entry streams (node_retained_stream.cc).
  void StartRetainedStream(uint64_t to, uint64_t run_first, uint64_t target);
  bool AskStagedRun();
  void SendSnapshotThroughStream(raft::Message m);
  void PumpRetainedStream();
  void OnRetainedAck(uint64_t from, const RetainedAck& ack);
  void CheckRetainedStream();
  bool StagedSnapshotIsComplete(const raft::Message& m);
  void ExpireStaging();
  void OnSoftState(const raft::SoftState& ss);
  // After the log failed: publishes who leads as the core sees it, never this node.
  void FollowLeaderAfterFailure();
  Status InstallSnapshot(const raft::Snapshot& snapshot);    // disk thread
  void RestoreFromSnapshot(const raft::Snapshot& snapshot);  // strand, after it is durable
  void FailInLog(uint64_t up_to_index, const Status& status);
  void OnConfChangeApplied(const raft::Entry& e);
  void NotifyMembershipIfChanged();
  void ApplyCommitted(const std::vector<raft::Entry>& committed);
  void ApplyEntry(const raft::Entry& e, std::map<std::string, size_t>& woken);
  void Finish(Proposal& p, mq::ApplyResult result);
  void FailAll(const Status& status);
  Result<std::string> ReadBody(const mq::BodyLocation& where);
  std::vector<std::string> ReadBodies(const std::vector<mq::ReceivedMessage>& messages);
  // Long polls and receives (node.cc). after_advance: p's kReceiveChosen without messages
  // was just applied; if nothing can be chosen now, p parks rather than advancing again.
  void StartReceive(Proposal p, bool after_advance = false);
  // A leader chooses a receive's messages itself once it has applied an entry of its own
  // term (so that no other leader's receive is still to be applied), and while its lease
  // holds or right after the receive's advance applied (so that no newer leader exists).
  bool ChoosesReceives(bool after_advance = false) const;
  void ProposeChosen(Proposal p, mq::StateMachine::Reservation reservation);
  void ProposeAdvance(Proposal p, int64_t now_ms);
  // The reservations end with their leader's term: given back to the state machine; the
  // receives chosen under them and not yet proposed choose again.
  void ResetReservationsIfTermChanged();
  void AnswerAtProposal(Proposal& p);
  void WakeWaiters(const std::string& queue_key, size_t max_to_wake);
  void OnPollTick();
  void OnHousekeeping();
  void OnRaftTick();
  Status CheckCanRead() const;
  // Snapshots (node_snapshot.cc).
  void MaybeSnapshot();
  void OnSnapshotSaved(uint64_t index, uint64_t oldest_referenced, Status status);
  // Leader: proposes kMoveBodies for the small queues whose bodies keep the log below
  // `below` (docs/queue-model.md "Moving old bodies forward"), within the byte budget.
  void MoveBodiesPinningLogBelow(uint64_t below);
  // Housekeeping: a queue left for later (a send on its way) or whose move found it
  // changed is tried again, while the budget of the snapshot interval lasts.
  void RetryBodyMoves();
  // HTTP push (node_push.cc).
  void OnPushTick();
  void PumpPushes();
  void StartPush(const mq::PendingPush& push);
  void StartRemoteEnqueue(const mq::PendingPush& push, std::string body);
  void OnPushDone(const mq::PendingPush& push, Status status);

  storage::FileSystem* fs_;
  const Clock* clock_;
  NodeOptions options_;
  std::unique_ptr<RaftStorage> storage_;
  std::unique_ptr<raft::RawNode> raft_;
  std::unique_ptr<mq::StateMachine> state_;
  PayloadCache cache_;
  LongPollWaiters waiters_;

  boost::asio::io_context strand_ctx_;
  boost::asio::io_context disk_ctx_;
  boost::asio::io_context snapshot_ctx_;  // writes snapshot files off the strand and disk
  boost::asio::io_context push_ctx_;      // HTTP pushes to subscribers' endpoints
  using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::unique_ptr<WorkGuard> strand_work_;
  std::unique_ptr<WorkGuard> disk_work_;
  std::unique_ptr<WorkGuard> snapshot_work_;
  std::unique_ptr<WorkGuard> push_work_;
  std::thread strand_thread_;
  std::thread disk_thread_;
  std::thread snapshot_thread_;
  std::thread push_thread_;
  std::unique_ptr<HttpPushClient> push_client_;
  boost::asio::steady_timer push_timer_;
  boost::asio::steady_timer poll_timer_;
  boost::asio::steady_timer housekeeping_timer_;
  boost::asio::steady_timer raft_timer_;

  // Strand-only state.
  std::vector<Proposal> pending_;  // not yet in an entry
  // Proposals in the log, by entry index, with the term they were proposed in: the entry
  // applied at that index is theirs only if its term matches (a new leader may have
  // replaced it; then they fail with a retryable error).
  struct InLog {
    uint64_t term = 0;
    std::vector<Proposal> proposals;
  };
  std::unordered_map<uint64_t, InLog> in_log_;
  bool disk_busy_ = false;  // a Ready is being persisted: no GetReady until it is advanced
  bool persisting_snapshot_ = false;                       // ... and it holds a snapshot
  std::chrono::steady_clock::time_point persist_started_;  // of the Ready being persisted
  bool stopped_ = false;
  Status failed_;  // sticky: the log failed, writes are refused
  NodeStats stats_;
  // Moving bodies forward (node_snapshot.cc): the mark of the last snapshot's round, the
  // bytes it may still copy, and whether a queue was left for later.
  uint64_t move_below_ = 0;
  uint64_t move_bytes_left_ = 0;
  bool move_missed_ = false;
  // Sends enqueued and not yet finished, per queue key (lower-case name).
  std::unordered_map<std::string, int> sends_in_flight_;
  uint64_t recovered_entries_ = 0;
  uint64_t applied_index_ = 0;
  uint64_t applied_term_ = 0;  // of the entry at applied_index_
  // Receives answered before their commit (node.cc): the term whose reservations the state
  // machine holds, and the receives whose kReceiveChosen without messages was applied in
  // this batch (they choose again once it is done).
  uint64_t reservation_term_ = 0;
  bool flush_posted_ = false;  // a ProposePending for chosen receives is posted
  std::vector<Proposal> advanced_receives_;
  uint64_t applied_bytes_since_snapshot_ = 0;
  bool snapshot_in_progress_ = false;
  // The snapshots kept on disk, oldest first, with the oldest log index their state still
  // needed: the log is compacted below what the oldest kept one needs.
  std::deque<std::pair<uint64_t, uint64_t>> kept_snapshots_;
  // Pushes posted and not yet answered, by (subscription key, message id).
  std::set<std::pair<std::string, uint64_t>> pushes_in_flight_;
  std::mt19937_64 push_rng_{std::random_device{}()};  // leader-local retry jitter
  uint64_t push_request_seq_ = 0;
  bool started_ = false;
  std::atomic<bool> stop_requested_{false};
  RaftSend raft_send_;
  std::atomic<uint64_t> leader_id_{0};
  std::atomic<uint64_t> leader_term_{0};
  bool is_leader_ = false;         // strand-only
  uint64_t durable_term_ = 0;      // the term in the last hard state written (strand-only)
  bool snapshot_sending_ = false;  // one snapshot message is built at a time
  // The leader's stream of retained entries to one follower (strand-only).
  struct RetainedStream {
    uint64_t to = 0;
    uint64_t epoch = 0;
    uint64_t run_first = 0;    // the run the follower must stage: [run_first, target]
    uint64_t target = 0;       // the snapshot's index
    uint64_t next_send = 0;    // next entry to read and send; 0: awaiting the first answer
    uint64_t staged_next = 0;  // the follower has staged [run_first, staged_next)
    std::deque<uint64_t> expected_ends;  // per unanswered chunk: staged_next once taken
    std::chrono::steady_clock::time_point last_heard;  // the last answer (or the start)
    std::chrono::steady_clock::time_point last_asked;  // the last question
  };
  std::optional<RetainedStream> stream_;
  uint64_t stream_epoch_ = 0;
  bool stream_reading_ = false;  // a chunk is being read on the snapshot thread
  // Follower: when the last chunk was taken (or the node started); the staging log is
  // emptied after options_.staging_idle_ms without one (strand-only).
  std::chrono::steady_clock::time_point last_chunk_at_ = std::chrono::steady_clock::now();
  bool staging_clear_posted_ = false;
  StreamSend stream_send_;
  // RaftStorage has one writer at a time: the Ready persistence (disk thread, or a
  // follower's strand) and log compaction (disk thread) take this. CreateSnapshot (the
  // snapshot thread) may run beside them, but not beside installing a snapshot: both take
  // snapshot_file_mu_.
  std::mutex storage_write_mu_;
  std::mutex snapshot_file_mu_;
  MembershipListener membership_;
  RemoteEnqueue remote_enqueue_;
  TransactionCheckListener check_listener_;
  std::map<uint64_t, std::string> addresses_;  // nodes added at run time (strand-only)
  bool conf_changed_ = false;  // a conf change was applied since the last notification
  struct ConfWaiter {
    uint64_t term = 0;
    std::function<void(Status)> done;
  };
  std::map<uint64_t, ConfWaiter> conf_waiters_;  // by entry index
  // Answers to membership changes applied but not yet taken in by the core (Advance).
  std::vector<std::pair<std::function<void(Status)>, Status>> conf_answers_;
};

}  // namespace cmq::cluster
