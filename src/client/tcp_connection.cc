// The connection machinery of TcpConnection: connect, auth, the write queue, the frame
// reader, matching answers to requests, timeouts and heartbeats. The typed commands are
// in tcp_commands.cc.

#include "client/tcp_connection.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <unordered_map>
#include <utility>

#include "client/tcp_auth.h"
#include "client/tcp_frame_reader.h"
#include "proto/tcp_frame.h"

namespace cmq::client {

namespace asio = boost::asio;
using Tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// One counter for the whole process, starting at 1, as the Java SDK: a seqno then also
// tells apart the requests of different connections in a server's log.
std::atomic<int64_t> g_last_seqno{0};

int64_t NextSeqno() {
  return g_last_seqno.fetch_add(1, std::memory_order_relaxed) + 1;
}

void AppendFrame(std::string& out, const tcp::CMQProto& p, size_t body_size) {
  tcp::AppendFrameHeader(out, body_size);
  size_t at = out.size();
  out.resize(at + body_size);
  p.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out.data() + at));
}

void AppendFrame(std::string& out, const tcp::CMQProto& p) {
  AppendFrame(out, p, p.ByteSizeLong());
}

struct Pending {
  TcpConnection::ProtoHandler handler;
  Clock::time_point deadline;
};

// One TCP connection. A new one is made for every reconnect, so that completions of the
// previous one (which hold it) can tell they are stale: `link != impl->link`.
struct Link {
  enum class State { kConnecting, kAuthing, kReady };

  explicit Link(asio::io_context& ioc) : socket(ioc), timer(ioc) {}

  Tcp::socket socket;
  asio::steady_timer timer;  // the connect deadline, then the heartbeats
  State state = State::kConnecting;
  TcpFrameReader reader;
  std::string out;      // frames for the next write
  std::string writing;  // the frames of the write in progress
  bool write_busy = false;
  Clock::time_point last_io;  // the last read or write (heartbeats go after idle time)
};

}  // namespace

struct TcpConnection::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, TcpOptions opts, Endpoint ep)
      : ioc(io), options(std::move(opts)), endpoint(std::move(ep)), resolver(io), sweep(io) {}

  void Submit(tcp::CMQProto& request, std::chrono::milliseconds timeout, ProtoHandler handler) {
    int64_t seqno = NextSeqno();
    request.set_seqno(seqno);
    if (!request.IsInitialized()) {
      return FailLater(std::move(handler), Error::Protocol("request lacks required fields: " +
                                                           request.InitializationErrorString()));
    }
    size_t size = request.ByteSizeLong();
    if (size + tcp::kFrameHeaderSize > tcp::kMaxFrameSize) {
      return FailLater(std::move(handler), Error::Protocol("request of " + std::to_string(size) +
                                                           " bytes exceeds the frame limit"));
    }
    bool ready = link && link->state == Link::State::kReady;
    // Before the auth has succeeded data frames wait in `held`: a server answers 306 to a
    // data command that arrives before it has seen the auth.
    AppendFrame(ready ? link->out : held, request, size);
    auto deadline = Clock::now() + (timeout.count() > 0 ? timeout : options.request_timeout);
    pending.emplace(seqno, Pending{std::move(handler), deadline});
    ArmSweep(deadline);
    if (ready) {
      Flush(link);
    } else if (!link) {
      Connect();
    }
  }

  // A request that never reaches the wire fails from the io_context, not inside the
  // caller's own call (a loop that resubmits from its handler would recurse).
  void FailLater(ProtoHandler handler, Error e) {
    asio::post(ioc, [h = std::move(handler), e = std::move(e)]() mutable { h(std::move(e)); });
  }

  void Connect() {
    auto l = std::make_shared<Link>(ioc);
    link = l;
    l->timer.expires_after(options.connect_timeout);
    l->timer.async_wait([self = shared_from_this(), l](boost::system::error_code ec) {
      if (ec || l != self->link || l->state == Link::State::kReady) return;
      self->Fail(l, Error::Transport("connecting to " + self->options.address + " timed out"));
    });
    resolver.async_resolve(
        endpoint.host, endpoint.port,
        [self = shared_from_this(), l](boost::system::error_code ec,
                                       Tcp::resolver::results_type results) {
          if (l != self->link) return;
          if (ec)
            return self->Fail(
                l, Error::Transport("resolve " + self->endpoint.host + ": " + ec.message()));
          asio::async_connect(
              l->socket, results, [self, l](boost::system::error_code ec2, const Tcp::endpoint&) {
                if (l != self->link) return;
                if (ec2) {
                  return self->Fail(l, Error::Transport("connect " + self->options.address + ": " +
                                                        ec2.message()));
                }
                self->OnConnected(l);
              });
        });
  }

  void OnConnected(const std::shared_ptr<Link>& l) {
    ++connects;
    boost::system::error_code ignored;
    l->socket.set_option(Tcp::no_delay(true), ignored);
    l->state = Link::State::kAuthing;
    l->last_io = Clock::now();
    std::string client_id = options.client_id;
    if (client_id.empty()) {
      auto local = l->socket.local_endpoint(ignored);
      client_id = (ignored ? std::string("127.0.0.1") : local.address().to_string()) + "@DEFAULT";
    }
    tcp::CMQProto auth =
        MakeTcpAuth(client_id, options.secret_id, options.secret_key, options.signature_method);
    int64_t seqno = NextSeqno();
    auth.set_seqno(seqno);
    AppendFrame(l->out, auth);
    auto deadline = Clock::now() + options.request_timeout;
    pending.emplace(seqno, Pending{[self = shared_from_this(), l](Result<tcp::CMQProto> r) {
                                     self->OnAuth(l, std::move(r));
                                   },
                                   deadline});
    ArmSweep(deadline);
    Flush(l);
    Read(l);
  }

  void OnAuth(const std::shared_ptr<Link>& l, Result<tcp::CMQProto> r) {
    if (l != link) return;
    if (!r.ok()) return Fail(l, Error::Transport("auth: " + r.error().message));
    int code = r->result();
    if (code != 0 && code != kTcpAuthAlready) {
      // Every waiting request fails with the server's reason: a wrong key is the caller's
      // to fix, and retrying on this connection would only repeat it.
      std::string text = r->error().empty() ? "authentication failed" : r->error();
      return Fail(l, Error::Server(code, std::move(text), std::to_string(r->seqno())));
    }
    l->state = Link::State::kReady;
    l->out.append(held);
    held.clear();
    Flush(l);
    Heartbeat(l);
  }

  // Starts a write of everything queued unless one is in progress; its completion starts
  // the next, which then carries whatever was queued meanwhile.
  void Flush(const std::shared_ptr<Link>& l) {
    if (l->write_busy || l->out.empty() || l->state == Link::State::kConnecting) return;
    l->write_busy = true;
    std::swap(l->out, l->writing);
    asio::async_write(l->socket, asio::buffer(l->writing),
                      [self = shared_from_this(), l](boost::system::error_code ec, size_t) {
                        if (l != self->link) return;
                        if (ec) return self->Fail(l, Error::Transport("write: " + ec.message()));
                        l->writing.clear();  // keeps its capacity for the next swap
                        l->write_busy = false;
                        l->last_io = Clock::now();
                        self->Flush(l);
                      });
  }

  void Read(const std::shared_ptr<Link>& l) {
    auto space = l->reader.Prepare();
    l->socket.async_read_some(
        asio::buffer(space.data(), space.size()),
        [self = shared_from_this(), l](boost::system::error_code ec, size_t n) {
          if (l != self->link) return;
          if (ec) {
            return self->Fail(l, Error::Transport(ec == asio::error::eof
                                                      ? std::string("connection closed by server")
                                                      : "read: " + ec.message()));
          }
          l->reader.Commit(n);
          l->last_io = Clock::now();
          std::string_view body;
          for (;;) {
            auto status = l->reader.Next(&body);
            if (status == TcpFrameReader::Status::kNeedMore) break;
            if (status == TcpFrameReader::Status::kBad) {
              return self->Fail(l, Error::Protocol("invalid frame header from the server"));
            }
            self->OnFrame(l, body);
            if (l != self->link) return;  // a handler closed it, or a 306
          }
          self->Read(l);
        });
  }

  void OnFrame(const std::shared_ptr<Link>& l, std::string_view body) {
    tcp::CMQProto response;
    if (!response.ParsePartialFromArray(body.data(), static_cast<int>(body.size()))) {
      return Fail(l, Error::Protocol("unparsable frame from the server"));
    }
    if (!response.IsInitialized()) {
      // As the Java SDK: a frame without its required fields ends the connection (its
      // seqno may be missing, so it cannot even fail the request it answers).
      return Fail(l, Error::Protocol("frame from the server lacks " +
                                     response.InitializationErrorString()));
    }
    switch (response.cmd()) {
      case tcp::CMQ_TCP_HEARTBEAT:        // the server's echo of our heartbeat
      case tcp::CMQ_TRANSACTION_CONFIRM:  // confirms are one-way
      case tcp::CMQ_TRANSACTION_QUERY:    // check-back: this client sends no transactions
        return;
      default:
        break;
    }
    auto it = pending.find(response.seqno());
    if (it == pending.end()) return;  // it timed out already
    ProtoHandler handler = std::move(it->second.handler);
    pending.erase(it);
    // 306: the server does not (or no longer) know this connection's auth. The caller
    // sees the error; the connection is dropped so that the next request authenticates
    // again on a new one, as the Java SDK does.
    bool not_authed = response.result() == kTcpNotAuthed && l->state == Link::State::kReady;
    handler(std::move(response));
    if (not_authed) Fail(l, Error::Transport("the server answered 306 (connection not authed)"));
  }

  // A heartbeat (cmd 1040, only a seqno) after heartbeat_interval without any I/O. Nobody
  // waits for its answer: it only shows the server (and middleboxes) the connection lives.
  void Heartbeat(const std::shared_ptr<Link>& l) {
    auto interval = options.heartbeat_interval;
    if (interval.count() <= 0) return;
    l->timer.expires_at(l->last_io + interval);
    l->timer.async_wait([self = shared_from_this(), l, interval](boost::system::error_code ec) {
      if (ec || l != self->link) return;
      if (Clock::now() - l->last_io >= interval) {
        tcp::CMQProto beat;
        beat.set_seqno(NextSeqno());
        beat.set_cmd(tcp::CMQ_TCP_HEARTBEAT);
        AppendFrame(l->out, beat);
        l->last_io = Clock::now();
        self->Flush(l);
      }
      self->Heartbeat(l);
    });
  }

  // One timer for every deadline: it fires at the earliest and is moved only when a
  // request with an earlier deadline comes (rare: deadlines mostly increase), so a request
  // costs no timer operation of its own.
  void ArmSweep(Clock::time_point deadline) {
    if (deadline >= sweep_at) return;
    sweep_at = deadline;
    sweep.expires_at(deadline);
    sweep.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec == asio::error::operation_aborted) return;
      self->Sweep();
    });
  }

  void Sweep() {
    sweep_at = Clock::time_point::max();
    auto now = Clock::now();
    std::vector<std::pair<int64_t, ProtoHandler>> expired;
    auto next = Clock::time_point::max();
    for (auto it = pending.begin(); it != pending.end();) {
      if (it->second.deadline <= now) {
        expired.emplace_back(it->first, std::move(it->second.handler));
        it = pending.erase(it);
      } else {
        next = std::min(next, it->second.deadline);
        ++it;
      }
    }
    if (next != Clock::time_point::max()) ArmSweep(next);
    std::sort(expired.begin(), expired.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [seqno, handler] : expired) handler(Error::Transport("request timed out"));
  }

  // Drops connection l (if still current) and fails every request in flight with e.
  void Fail(const std::shared_ptr<Link>& l, Error e) {
    if (l != link) return;
    CloseLink();
    FailAll(std::move(e));
  }

  void CloseLink() {
    if (!link) return;
    auto l = std::move(link);
    link.reset();
    boost::system::error_code ignored;
    l->timer.cancel();
    l->socket.shutdown(Tcp::socket::shutdown_both, ignored);
    l->socket.close(ignored);
    resolver.cancel();
  }

  void FailAll(const Error& e) {
    held.clear();
    std::vector<std::pair<int64_t, ProtoHandler>> failed;
    failed.reserve(pending.size());
    for (auto& [seqno, p] : pending) failed.emplace_back(seqno, std::move(p.handler));
    pending.clear();
    // In seqno order: the order the requests were made in.
    std::sort(failed.begin(), failed.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [seqno, handler] : failed) handler(e);
  }

  asio::io_context& ioc;
  TcpOptions options;
  Endpoint endpoint;
  Tcp::resolver resolver;
  std::shared_ptr<Link> link;  // null while disconnected
  std::unordered_map<int64_t, Pending> pending;
  std::string held;  // data frames written before the auth succeeded
  asio::steady_timer sweep;
  Clock::time_point sweep_at = Clock::time_point::max();
  size_t connects = 0;
};

Result<std::unique_ptr<TcpConnection>> TcpConnection::Create(asio::io_context& ioc,
                                                             TcpOptions options) {
  auto ep = ParseTcpAddress(options.address);
  if (!ep.ok()) return ep.error();
  auto impl = std::make_shared<Impl>(ioc, std::move(options), std::move(*ep));
  return std::unique_ptr<TcpConnection>(new TcpConnection(std::move(impl)));
}

TcpConnection::TcpConnection(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

TcpConnection::~TcpConnection() {
  impl_->pending.clear();  // completions still run, but call nobody
  Close();
}

void TcpConnection::Call(tcp::CMQProto request, std::chrono::milliseconds timeout,
                         ProtoHandler handler) {
  impl_->Submit(request, timeout, [h = std::move(handler)](Result<tcp::CMQProto> r) {
    if (r.ok()) {
      if (auto e = TcpServerError(*r)) return h(std::move(*e));
    }
    h(std::move(r));
  });
}

void TcpConnection::CallRaw(tcp::CMQProto request, std::chrono::milliseconds timeout,
                            ProtoHandler handler) {
  impl_->Submit(request, timeout, std::move(handler));
}

void TcpConnection::Close() {
  impl_->CloseLink();
  impl_->sweep.cancel();
  impl_->sweep_at = Clock::time_point::max();
  impl_->FailAll(Error::Transport("connection closed by the client"));
}

const TcpOptions& TcpConnection::options() const {
  return impl_->options;
}
bool TcpConnection::ready() const {
  return impl_->link && impl_->link->state == Link::State::kReady;
}
size_t TcpConnection::in_flight() const {
  return impl_->pending.size();
}
size_t TcpConnection::connections_opened() const {
  return impl_->connects;
}

std::optional<Error> TcpServerError(const tcp::CMQProto& response) {
  if (response.result() == 0) return std::nullopt;
  std::string text = response.error();
  if (text.empty()) text = "(" + std::to_string(response.result()) + ")";
  return Error::Server(response.result(), std::move(text), std::to_string(response.seqno()));
}

}  // namespace cmq::client
