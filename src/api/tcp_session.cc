#include "api/tcp_session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cstring>

#include "api/tcp_actions.h"
#include "proto/tcp_frame.h"

namespace cmq::api {

namespace net = boost::asio;
using boost::system::error_code;

namespace {

constexpr size_t kInitialBuffer = 64 * 1024;
// Answers waiting to be written beyond which the session stops reading: a client that
// sends but never reads (heartbeats, refused commands) cannot grow them without bound.
constexpr size_t kMaxPendingOutput = 4 * 1024 * 1024;
// How long a pull's "no message" is held back when there was no leader to serve it: the
// SDK pulls again at once, and the pulls of a subscription would otherwise spin while an
// election runs.
constexpr auto kUnavailablePullHold = std::chrono::milliseconds(500);

bool IsPull(int cmd) {
  return cmd == kTcpPull || cmd == kTcpBatchPull;
}

// A pull's poll wait, when it gives one.
std::optional<int32_t> PollWaitOf(const tcp::CMQProto& m) {
  if (m.cmd() == kTcpPull && m.tcp_pull_msg().has_poll_wait_seconds()) {
    return m.tcp_pull_msg().poll_wait_seconds();
  }
  if (m.cmd() == kTcpBatchPull && m.tcp_batch_pull_msg().has_poll_wait_seconds()) {
    return m.tcp_batch_pull_msg().poll_wait_seconds();
  }
  return std::nullopt;
}

}  // namespace

TcpSession::TcpSession(net::ip::tcp::socket socket, std::shared_ptr<TcpSessionShared> shared)
    : socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      defer_timer_(socket_.get_executor()),
      shared_(std::move(shared)),
      in_(kInitialBuffer) {}

void ProducerDirectory::Add(const std::string& client_id,
                            const std::shared_ptr<TcpSession>& session) {
  std::lock_guard lock(mu_);
  auto& list = sessions_[client_id];
  std::erase_if(list, [](const std::weak_ptr<TcpSession>& w) { return w.expired(); });
  list.push_back(session);
}

void ProducerDirectory::Remove(const std::string& client_id, const TcpSession* session) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(client_id);
  if (it == sessions_.end()) return;
  // A destructor calls this: its own weak pointer has expired already.
  std::erase_if(it->second, [session](const std::weak_ptr<TcpSession>& w) {
    auto live = w.lock();
    return !live || live.get() == session;
  });
  if (it->second.empty()) sessions_.erase(it);
}

std::shared_ptr<TcpSession> ProducerDirectory::Newest(const std::string& client_id) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(client_id);
  if (it == sessions_.end()) return nullptr;
  for (auto w = it->second.rbegin(); w != it->second.rend(); ++w) {
    if (auto live = w->lock()) return live;
  }
  return nullptr;
}

TcpSession::~TcpSession() {
  shared_->registry.Unregister(this);
  if (authed_) shared_->producers.Remove(client_id_, this);
}

void TcpSession::Start() {
  net::dispatch(socket_.get_executor(), [self = shared_from_this()] {
    if (!self->shared_->registry.Register(self)) return self->HardClose();
    error_code ignored;
    self->socket_.set_option(net::ip::tcp::no_delay(true), ignored);
    self->last_read_ = Clock::now();
    const auto& o = self->shared_->options;
    // Checked twice per the shorter limit: a deadline is noticed at most half late.
    self->ArmTimer(std::min<Clock::duration>(o.idle_timeout, o.write_timeout) / 2);
    self->DoRead();
  });
}

void TcpSession::Close() {
  net::post(socket_.get_executor(), [self = shared_from_this()] { self->HardClose(); });
}

bool TcpSession::Paused() const {
  return inflight_ >= shared_->options.max_inflight ||
         out_.size() + writing_.size() > kMaxPendingOutput;
}

void TcpSession::DoRead() {
  if (closed_ || closing_ || reading_ || Paused()) return;
  if (in_end_ == in_.size()) {
    // Make room: keep the unconsumed bytes at the front (ConsumeFrames grew the buffer if
    // one frame needs more than it holds).
    std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
    in_end_ -= in_begin_;
    in_begin_ = 0;
  }
  reading_ = true;
  socket_.async_read_some(
      net::buffer(in_.data() + in_end_, in_.size() - in_end_),
      [self = shared_from_this()](error_code ec, size_t n) { self->OnRead(ec, n); });
}

void TcpSession::OnRead(error_code ec, size_t n) {
  reading_ = false;
  if (closed_) return;
  if (ec == net::error::eof) {
    // The client's side ended, but it may still read: what is in flight is answered and
    // written, then the connection closes (a pull still waiting answers "no message").
    // Frames after the last whole one are dropped.
    return CloseWhenDone();
  }
  if (ec) return HardClose();  // a broken connection: nothing to answer
  in_end_ += n;
  last_read_ = Clock::now();
  if (!ConsumeFrames()) return;
  DoRead();
}

bool TcpSession::ConsumeFrames() {
  // Paused (max_inflight, or answers piling up), frames already read wait in the buffer
  // (Resume continues them): one read may hold hundreds of small frames.
  while (!Paused() && !closing_ && in_end_ - in_begin_ >= tcp::kFrameHeaderSize) {
    std::string_view pending(in_.data() + in_begin_, in_end_ - in_begin_);
    std::optional<uint32_t> body_size = tcp::BodySizeOf(pending);
    if (!body_size) {
      HardClose();  // not this protocol, or a length we will not buffer
      return false;
    }
    const size_t frame_size = tcp::kFrameHeaderSize + *body_size;
    if (pending.size() < frame_size) {
      if (frame_size > in_.size() - in_begin_) {
        // The frame does not fit where it starts: move it to the front, grow if needed.
        std::memmove(in_.data(), in_.data() + in_begin_, pending.size());
        in_begin_ = 0;
        in_end_ = pending.size();
        if (frame_size > in_.size()) in_.resize(frame_size);
      }
      break;
    }
    if (!OnFrame(pending.substr(tcp::kFrameHeaderSize, *body_size))) return false;
    in_begin_ += frame_size;
  }
  if (in_begin_ == in_end_) {
    in_begin_ = in_end_ = 0;
    // A large frame grew the buffer: give the memory back once it is consumed.
    if (in_.size() > kInitialBuffer) std::vector<char>(kInitialBuffer).swap(in_);
  }
  return true;
}

bool TcpSession::OnFrame(std::string_view body) {
  tcp::CMQProto m;
  if (!m.ParsePartialFromArray(body.data(), static_cast<int>(body.size())) || !m.has_seqno() ||
      !m.has_cmd()) {
    // What the SDK does with a frame it cannot read (spec §2.2): drop the connection.
    HardClose();
    return false;
  }
  switch (m.cmd()) {
    case kTcpHeartbeat:
      Answer(TcpAnswerTo(m));  // the SDK drops it; harmless, and tells a probe we live
      return true;
    case kTcpAuth:
      Authenticate(m);
      return true;
    default:
      break;
  }
  // A transaction confirm is one-way (spec §6.9): it gets no answer, not even 306.
  const bool one_way = m.cmd() == kTcpTransactionConfirm;
  if (one_way && !authed_) return true;
  if (!IsTcpDataCommand(m.cmd())) {
    tcp::CMQProto answer = TcpAnswerTo(m);
    SetTcpError(answer, UnknownAction("cmd " + std::to_string(m.cmd())));
    Answer(answer);
    return true;
  }
  if (!authed_) {
    // The SDK closes the connection on 306, reconnects and authenticates (spec §3).
    tcp::CMQProto answer = TcpAnswerTo(m);
    answer.set_result(kTcpResultNotAuthed);
    answer.set_error("connection not authed");
    Answer(answer);
    return true;
  }
  ++inflight_;
  if (IsPull(m.cmd()) && pulls_inflight_ >= shared_->options.max_inflight_pulls) {
    // More long polls than one connection may run (one JVM's consumers of many queues
    // share it: spec §4.2): this one starts when another ends. Refusing it would stop
    // the SDK's subscription for good.
    DeferPull(std::move(m));
    return true;
  }
  StartRequest(m, body);
  return true;
}

void TcpSession::StartRequest(const tcp::CMQProto& m, std::string_view body) {
  // A transaction confirm is one-way (spec §6.9): it gets no answer, not even 306.
  const bool one_way = m.cmd() == kTcpTransactionConfirm;
  const bool pull = IsPull(m.cmd());
  HttpRequest request;
  request.method = "POST";
  request.target = "/";
  request.tcp = true;
  request.body.assign(body);
  request.route_name = TcpRouteName(m);
  // Only a transaction's send needs to know its producer (and the hot path no copy).
  if ((m.cmd() == kTcpSend && m.tcp_send_msg().is_transaction() == 1) ||
      (m.cmd() == kTcpBatchSend && m.tcp_batch_send_msg().is_transaction() == 1)) {
    request.tcp_client_id = client_id_;
  }
  if (pull) {
    ++pulls_inflight_;
    request.abandoned = abandoned_;
  }
  shared_->handler(
      std::move(request), [self = shared_from_this(), one_way, pull](HttpResponse response) {
        const bool unavailable = response.status == kTcpUnavailableStatus;
        net::post(self->socket_.get_executor(),
                  [self, one_way, pull, unavailable, body = std::move(response.body)]() mutable {
                    self->OnAnswer(std::move(body), one_way, pull, unavailable);
                  });
      });
}

void TcpSession::DeferPull(tcp::CMQProto m) {
  const auto now = Clock::now();
  const int32_t wait = std::max<int32_t>(0, PollWaitOf(m).value_or(0));
  deferred_pulls_.push_back(DeferredPull{std::move(m), now + std::chrono::seconds(wait)});
  ArmDeferTimer();
}

void TcpSession::StartDeferredPulls() {
  while (!closed_ && !closing_ && !deferred_pulls_.empty() &&
         pulls_inflight_ < shared_->options.max_inflight_pulls) {
    DeferredPull d = std::move(deferred_pulls_.front());
    deferred_pulls_.pop_front();
    // It waits only what is left of its poll wait (whole seconds, down): the SDK's
    // deadline for it counts from when it was sent.
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(d.deadline - Clock::now());
    const int32_t left_s = static_cast<int32_t>(std::max<int64_t>(0, left.count()));
    if (auto wait = PollWaitOf(d.request); wait && *wait > left_s) {
      if (d.request.cmd() == kTcpPull) {
        d.request.mutable_tcp_pull_msg()->set_poll_wait_seconds(left_s);
      } else {
        d.request.mutable_tcp_batch_pull_msg()->set_poll_wait_seconds(left_s);
      }
    }
    StartRequest(d.request, d.request.SerializePartialAsString());
  }
  ArmDeferTimer();
}

void TcpSession::ExpireDeferredPulls() {
  if (closed_) return;
  const auto now = Clock::now();
  size_t expired = 0;
  for (auto it = deferred_pulls_.begin(); it != deferred_pulls_.end();) {
    // Waited its whole poll wait without a turn: "no message", as a long poll would.
    if (it->deadline <= now && PollWaitOf(it->request)) {
      Answer(TcpNoMessageAnswer(it->request));
      it = deferred_pulls_.erase(it);
      ++expired;
    } else {
      ++it;
    }
  }
  inflight_ -= static_cast<uint32_t>(expired);
  ArmDeferTimer();
  if (expired == 0) return;
  Resume();
  MaybeCloseWhenDone();
}

void TcpSession::ArmDeferTimer() {
  if (closed_ || deferred_pulls_.empty()) return;
  std::optional<Clock::time_point> first;
  for (const DeferredPull& d : deferred_pulls_) {
    if (PollWaitOf(d.request) && (!first || d.deadline < *first)) first = d.deadline;
  }
  if (!first) return;  // none has a poll wait of its own: each waits for its turn
  // Re-arming cancels the wait before (its handler sees operation_aborted).
  defer_timer_.expires_at(*first);
  defer_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (!ec) self->ExpireDeferredPulls();
  });
}

void TcpSession::Authenticate(const tcp::CMQProto& request) {
  tcp::CMQProto answer = TcpAnswerTo(request);
  // A new proof replaces the old one, whatever its outcome.
  if (authed_) shared_->producers.Remove(client_id_, this);
  authed_ = false;
  if (!request.has_tcp_auth() || !request.tcp_auth().IsInitialized()) {
    SetTcpError(answer, MissingParameter("tcp_auth"));
  } else {
    const tcp::cmq_tcp_auth& auth = request.tcp_auth();
    auto error = shared_->authenticator.VerifyTcp(auth.secret_id(), auth.signature(),
                                                  auth.client_id(), auth.signature_method());
    if (error) SetTcpError(answer, *error);
    authed_ = !error.has_value();
    if (authed_) {
      client_id_ = auth.client_id();
      shared_->producers.Add(client_id_, shared_from_this());
    }
  }
  Answer(answer);
}

void TcpSession::AskProducer(std::string client_id, std::string queue_name, uint64_t msg_id) {
  net::post(socket_.get_executor(), [self = shared_from_this(), client_id = std::move(client_id),
                                     queue_name = std::move(queue_name), msg_id] {
    if (self->closed_ || !self->authed_ || self->client_id_ != client_id) return;
    tcp::CMQProto query;
    query.set_seqno(self->shared_->next_query_seqno.fetch_add(1, std::memory_order_relaxed));
    query.set_cmd(kTcpTransactionQuery);
    query.mutable_transaction_query()->set_queue_name(queue_name);
    query.mutable_transaction_query()->set_msg_id(msg_id);
    self->Answer(query);
  });
}

void TcpSession::Answer(const tcp::CMQProto& answer) {
  if (closed_) return;
  tcp::AppendFrameHeader(out_, answer.ByteSizeLong());
  answer.AppendToString(&out_);
  MaybeWrite();
}

void TcpSession::QueueFrame(std::string_view body) {
  tcp::AppendFrameHeader(out_, body.size());
  out_.append(body);
  MaybeWrite();
}

void TcpSession::OnAnswer(std::string body, bool one_way, bool pull, bool unavailable) {
  if (unavailable && pull && !closed_) {
    // "No message" (whatever the answer says: a failed forward answers 6000), held back a
    // moment so that the client does not pull again at once while there is no leader.
    tcp::CMQProto answer;
    if (answer.ParsePartialFromString(body)) {
      TcpNoMessageAnswer(answer).SerializePartialToString(&body);
    }
    auto hold = std::make_shared<net::steady_timer>(socket_.get_executor(), kUnavailablePullHold);
    hold->async_wait(
        [self = shared_from_this(), hold, body = std::move(body), one_way,
         pull](error_code) mutable { self->FinishAnswer(std::move(body), one_way, pull); });
    return;
  }
  if (unavailable && !one_way) {
    // Not served for want of a leader. The SDK retries a send only when it has no answer
    // (a timeout or a broken connection), never on an error code, so the connection is
    // closed rather than answering 6000 (spec §4.2); what else is in flight is answered
    // first. The client reconnects and sends again.
    --inflight_;
    if (pull) --pulls_inflight_;
    return CloseWhenDone();
  }
  FinishAnswer(std::move(body), one_way, pull);
}

void TcpSession::FinishAnswer(std::string body, bool one_way, bool pull) {
  --inflight_;
  if (pull) {
    --pulls_inflight_;
    StartDeferredPulls();
  }
  if (closed_) return;
  if (!one_way) QueueFrame(body);
  Resume();
  MaybeCloseWhenDone();
}

void TcpSession::CloseWhenDone() {
  if (closed_) return;
  closing_ = true;
  // Long polls still waiting take no message now (they would stay hidden for their
  // visibility timeout), and pulls that never started get "no message" at once.
  abandoned_->store(true, std::memory_order_release);
  inflight_ -= static_cast<uint32_t>(deferred_pulls_.size());
  for (const DeferredPull& d : deferred_pulls_) Answer(TcpNoMessageAnswer(d.request));
  deferred_pulls_.clear();
  defer_timer_.cancel();
  MaybeCloseWhenDone();
}

void TcpSession::MaybeCloseWhenDone() {
  if (closing_ && !closed_ && inflight_ == 0 && !write_in_progress_ && out_.empty()) {
    HardClose();
  }
}

void TcpSession::Resume() {
  // What Paused stopped: first the frames already read (no read is pending then, so the
  // buffer may move), then reading.
  if (closed_ || reading_ || Paused()) return;
  if (!ConsumeFrames()) return;
  DoRead();
}

void TcpSession::MaybeWrite() {
  if (closed_ || write_in_progress_ || out_.empty()) return;
  // Every answer that came in since the last write goes out in this one.
  writing_.clear();
  writing_.swap(out_);
  write_in_progress_ = true;
  write_started_ = Clock::now();
  net::async_write(socket_, net::buffer(writing_),
                   [self = shared_from_this()](error_code ec, size_t) { self->OnWrite(ec); });
}

void TcpSession::OnWrite(error_code ec) {
  write_in_progress_ = false;
  if (closed_) return;
  if (ec) return HardClose();
  // Written: it no longer counts as pending output (Paused), or a write larger than the
  // limit would stop the reading for good. The capacity stays for the next write, unless
  // it is large (an idle connection should not keep megabytes).
  if (writing_.capacity() > kMaxPendingOutput) {
    std::string().swap(writing_);
  } else {
    writing_.clear();
  }
  MaybeWrite();
  Resume();
  MaybeCloseWhenDone();
}

void TcpSession::ArmTimer(Clock::duration after) {
  timer_.expires_after(after);
  timer_.async_wait([self = shared_from_this(), after](error_code ec) {
    if (ec || self->closed_) return;
    self->OnTimer(ec);
    if (!self->closed_) self->ArmTimer(after);
  });
}

void TcpSession::OnTimer(error_code) {
  const auto now = Clock::now();
  const auto& o = shared_->options;
  if (write_in_progress_ && now - write_started_ >= o.write_timeout) return HardClose();
  // A connection with a long poll in flight is not idle (and the SDK sends heartbeats).
  if (inflight_ == 0 && !write_in_progress_ && now - last_read_ >= o.idle_timeout) {
    return HardClose();
  }
}

void TcpSession::HardClose() {
  if (closed_) return;
  closed_ = true;
  if (authed_) shared_->producers.Remove(client_id_, this);  // check-backs go elsewhere
  abandoned_->store(true, std::memory_order_release);
  error_code ignored;
  timer_.cancel();
  defer_timer_.cancel();
  socket_.shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace cmq::api
