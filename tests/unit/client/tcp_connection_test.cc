// TcpConnection against the fake TCP server: the auth frame and its signature, pipelined
// requests answered out of order, answers arriving in pieces or together, a broken
// connection failing every request in flight and the next request reconnecting, a failed
// auth, an oversized frame, timeouts, 306 and heartbeats; and the typed commands.
#include "client/tcp_connection.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <map>
#include <thread>

#include "unit/client/fake_tcp_server.h"

namespace cmq::client {
namespace {

using namespace std::chrono_literals;
using testing::FakeTcpServer;
using testing::FakeTcpSession;

// Runs ioc until pred() holds (or 10 s pass); false on time-out.
template <typename Pred>
bool RunUntil(boost::asio::io_context& ioc, Pred pred) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    ioc.run_for(5ms);
    if (ioc.stopped()) ioc.restart();
  }
  return true;
}

// The expected signature, computed without the code under test.
std::string ExpectedSignature(const std::string& data, const std::string& key, const EVP_MD* md) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &len);
  std::string b64(4 * ((len + 2) / 3) + 1, '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), digest, static_cast<int>(len));
  b64.resize(static_cast<size_t>(n));
  return b64;
}

// Auth, then every request answered at once, msgids = {seqno} for sends.
void EchoRequests(FakeTcpSession& s) {
  while (auto req = s.ReadRequest()) {
    auto r = FakeTcpSession::Answer(*req);
    r.add_msgids(static_cast<uint64_t>(req->seqno()));
    s.Write(r);
  }
}

void EchoSession(FakeTcpSession& s) {
  if (s.Auth()) EchoRequests(s);
}

struct Fixture {
  explicit Fixture(FakeTcpServer& server, TcpOptions o = {}) {
    o.address = server.address();
    auto c = TcpConnection::Create(ioc, o);
    EXPECT_TRUE(c.ok());
    conn = std::move(*c);
  }
  ~Fixture() {
    conn->Close();
    ioc.restart();
    ioc.run();
  }
  boost::asio::io_context ioc;
  std::unique_ptr<TcpConnection> conn;
};

TEST(TcpConnectionTest, AuthFrameCarriesTheHmacOfClientIdAndSecretId) {
  for (const char* method : {"HmacSHA1", "HmacSHA256"}) {
    FakeTcpServer server(EchoSession);
    TcpOptions o;
    o.secret_id = "AKIDexample";
    o.secret_key = "s3cr3t-key";
    o.signature_method = method;
    o.client_id = "192.0.2.2@DEFAULT";
    Fixture f(server, o);
    std::optional<Result<uint64_t>> got;
    f.conn->Send("q1", "hello", -1, [&](Result<uint64_t> r) { got = std::move(r); });
    ASSERT_TRUE(RunUntil(f.ioc, [&] { return got.has_value(); }));
    ASSERT_TRUE(got->ok()) << got->error().ToString();

    auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 2u);
    const auto& auth = reqs[0];
    EXPECT_EQ(auth.proto.cmd(), tcp::CMQ_TCP_AUTH);
    ASSERT_TRUE(auth.proto.has_tcp_auth());
    EXPECT_EQ(auth.proto.tcp_auth().secret_id(), "AKIDexample");
    EXPECT_EQ(auth.proto.tcp_auth().client_id(), "192.0.2.2@DEFAULT");
    EXPECT_EQ(auth.proto.tcp_auth().signature_method(), method);
    const EVP_MD* md = std::string(method) == "HmacSHA256" ? EVP_sha256() : EVP_sha1();
    EXPECT_EQ(auth.proto.tcp_auth().signature(),
              ExpectedSignature("192.0.2.2@DEFAULTAKIDexample", "s3cr3t-key", md));
    // The header: two zero bytes, then the total length (header included), little-endian.
    ASSERT_GE(auth.raw.size(), 6u);
    EXPECT_EQ(auth.raw[0], '\0');
    EXPECT_EQ(auth.raw[1], '\0');
    uint32_t total = 0;
    for (int i = 0; i < 4; ++i) {
      total |= static_cast<uint32_t>(static_cast<unsigned char>(auth.raw[2 + i])) << (8 * i);
    }
    EXPECT_EQ(total, auth.raw.size());

    // The send went after the auth: made before the connection existed, it has the lower
    // seqno, as with the Java SDK.
    const auto& send = reqs[1];
    EXPECT_EQ(send.proto.cmd(), tcp::CMQ_TCP_SEND_MSG);
    EXPECT_EQ(send.proto.tcp_send_msg().queue_name(), "q1");
    EXPECT_EQ(send.proto.tcp_send_msg().msgbody(), "hello");
    EXPECT_FALSE(send.proto.tcp_send_msg().has_delay_seconds());
    EXPECT_LT(send.proto.seqno(), auth.proto.seqno());
    EXPECT_EQ(**got, static_cast<uint64_t>(send.proto.seqno()));
  }
}

TEST(TcpConnectionTest, WithoutCredentialsAuthIsSentWithEmptyStrings) {
  FakeTcpServer server(EchoSession);
  Fixture f(server);
  bool done = false;
  f.conn->Send("q", "b", 0, [&](Result<uint64_t> r) {
    EXPECT_TRUE(r.ok());
    done = true;
  });
  ASSERT_TRUE(RunUntil(f.ioc, [&] { return done; }));
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  const auto& a = reqs[0].proto.tcp_auth();
  EXPECT_EQ(a.secret_id(), "");
  EXPECT_EQ(a.signature(), "");
  EXPECT_EQ(a.client_id(), "127.0.0.1@DEFAULT");  // the connection's local address
  EXPECT_EQ(a.signature_method(), "HmacSHA256");
  EXPECT_EQ(reqs[1].proto.tcp_send_msg().delay_seconds(), 0u);
  EXPECT_TRUE(f.conn->ready());
}

// The server reads all N requests before answering any (so they must all have been
// written without waiting for answers), then answers them in reverse order.
TEST(TcpConnectionTest, PipelinedRequestsAnsweredOutOfOrder) {
  constexpr int kN = 50;
  FakeTcpServer server([](FakeTcpSession& s) {
    if (!s.Auth()) return;
    std::vector<tcp::CMQProto> reqs;
    for (int i = 0; i < kN; ++i) {
      auto r = s.ReadRequest();
      if (!r) return;
      reqs.push_back(*r);
    }
    for (auto it = reqs.rbegin(); it != reqs.rend(); ++it) {
      auto a = FakeTcpSession::Answer(*it);
      a.add_msgids(1000 + std::stoull(it->tcp_send_msg().msgbody()));
      s.Write(a);
    }
    while (s.ReadRequest()) {
    }
  });
  Fixture f(server);
  std::vector<std::optional<uint64_t>> ids(kN);
  std::vector<int> order;
  for (int i = 0; i < kN; ++i) {
    f.conn->Send("q", std::to_string(i), 0, [&, i](Result<uint64_t> r) {
      ASSERT_TRUE(r.ok()) << r.error().ToString();
      ids[static_cast<size_t>(i)] = *r;
      order.push_back(i);
    });
  }
  EXPECT_EQ(f.conn->in_flight(), static_cast<size_t>(kN));
  ASSERT_TRUE(RunUntil(f.ioc, [&] { return order.size() == kN; }));
  for (int i = 0; i < kN; ++i) EXPECT_EQ(ids[static_cast<size_t>(i)], 1000u + i);
  EXPECT_EQ(order.front(), kN - 1);  // answered last-first, matched by seqno
  EXPECT_EQ(f.conn->connections_opened(), 1u);
  EXPECT_EQ(f.conn->in_flight(), 0u);
}

TEST(TcpConnectionTest, AnswersInPiecesAndSeveralInOneWrite) {
  FakeTcpServer server([](FakeTcpSession& s) {
    if (!s.Auth()) return;
    auto a = s.ReadRequest(), b = s.ReadRequest(), c = s.ReadRequest();
    if (!a || !b || !c) return;
    auto ra = FakeTcpSession::Answer(*a), rb = FakeTcpSession::Answer(*b),
         rc = FakeTcpSession::Answer(*c);
    ra.add_msgids(1);
    rb.add_msgids(2);
    rc.add_msgids(3);
    // Two answers one byte at a time, then one more frame glued to nothing else.
    s.WriteByteByByte(FakeTcpSession::Frame(ra) + FakeTcpSession::Frame(rb));
    s.Write(rc);
    while (s.ReadRequest()) {
    }
  });
  Fixture f(server);
  std::vector<uint64_t> got;
  for (int i = 0; i < 3; ++i) {
    f.conn->Send("q", "x", 0, [&](Result<uint64_t> r) {
      ASSERT_TRUE(r.ok()) << r.error().ToString();
      got.push_back(*r);
    });
  }
  ASSERT_TRUE(RunUntil(f.ioc, [&] { return got.size() == 3; }));
  EXPECT_EQ(got, (std::vector<uint64_t>{1, 2, 3}));
}

TEST(TcpConnectionTest, ManyAnswersInOneWrite) {
  constexpr int kN = 20;
  FakeTcpServer server([](FakeTcpSession& s) {
    if (!s.Auth()) return;
    std::string all;
    for (int i = 0; i < kN; ++i) {
      auto r = s.ReadRequest();
      if (!r) return;
      auto a = FakeTcpSession::Answer(*r);
      a.add_msgids(static_cast<uint64_t>(i));
      all += FakeTcpSession::Frame(a);
    }
    s.WriteBytes(all);
    while (s.ReadRequest()) {
    }
  });
  Fixture f(server);
  int ok = 0;
  for (int i = 0; i < kN; ++i) {
    f.conn->Send("q", "x", 0, [&](Result<uint64_t> r) { ok += r.ok(); });
  }
  ASSERT_TRUE(RunUntil(f.ioc, [&] { return ok == kN; }));
}

// Connection 1 takes three requests and closes without answering: all three fail at once
// (not after their timeout); the next request opens connection 2 and authenticates again.
TEST(TcpConnectionTest, ServerCloseFailsEveryRequestAndNextCallReconnects) {
  FakeTcpServer server([](FakeTcpSession& s) {
    if (s.id() == 1) {
      if (!s.Auth()) return;
      for (int i = 0; i < 3; ++i) s.ReadRequest();
      return;  // closes
    }
    EchoSession(s);
  });
  TcpOptions o;
  o.request_timeout = 30s;
  Fixture f(server, o);
  std::vector<Error> errors;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) {
    f.conn->Send("q", "x", 0, [&](Result<uint64_t> r) {
      ASSERT_FALSE(r.ok());
      errors.push_back(r.error());
    });
  }
  ASSERT_TRUE(RunUntil(f.ioc, [&] { return errors.size() == 3; }));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  // EOF ("connection closed by server"), or a reset: either way a transport error.
  for (const auto& e : errors) EXPECT_EQ(e.kind, Error::Kind::kTransport) << e.message;
  EXPECT_FALSE(f.conn->ready());
  EXPECT_EQ(f.conn->in_flight(), 0u);

  std::optional<Result<uint64_t>> again;
  f.conn->Send("q", "y", 0, [&](Result<uint64_t> r) { again = std::move(r); });
  ASSERT_TRUE(RunUntil(f.ioc, [&] { return again.has_value(); }));
  ASSERT_TRUE(again->ok()) << again->error().ToString();
  EXPECT_EQ(f.conn->connections_opened(), 2u);
  EXPECT_EQ(server.connections(), 2);
  int auths = 0;
  for (const auto& r : server.requests()) auths += r.proto.cmd() == tcp::CMQ_TCP_AUTH;
  EXPECT_EQ(auths, 2);
}

TEST(TcpConnectionTest, AuthFailureFailsWaitingRequestsWithTheServersText) {
  FakeTcpServer server([](FakeTcpSession& s) {
    s.Auth(4100, "authentication failed: unknown secretId");
    while (s.ReadRequest()) {
    }
  });
  Fixture f(server);
  std::vector<Error> errors;
  for (int i = 0; i < 2; ++i) {
    f.conn->Send("q", "x", 0, [&](Result<uint64_t> r) {
      ASSERT_FALSE(r.ok());
      errors.push_back(r.error());
    });
  }
  ASSERT_TRUE(RunUntil(f.ioc, [&] { return errors.size() == 2; }));
  for (const auto& e : errors) {
    EXPECT_TRUE(e.is_server());
    EXPECT_EQ(e.code, 4100);
    EXPECT_EQ(e.message, "authentication failed: unknown secretId");
  }
  // The data frames never went out: they waited for the auth.
  for (const auto& r : server.requests()) EXPECT_EQ(r.proto.cmd(), tcp::CMQ_TCP_AUTH);
}

TEST(TcpConnectionTest, AlreadyAuthorizedCountsAsAuthed) {
  FakeTcpServer server([](FakeTcpSession& s) {
    if (s.Auth(307, "already authorized")) EchoRequests(s);
  });
  Fixture f(server);
  bool ok = false;
  f.conn->Send("q", "x", 0, [&](Result<uint64_t> r) { ok = r.ok(); });
  ASSERT_TRUE(RunUntil(f.ioc, [&] { return ok; }));
}

TEST(TcpConnectionTest, OversizedFrameClosesTheConnection) {
  FakeTcpServer server([](FakeTcpSession& s) {
    if (s.id() == 1) {
      if (!s.Auth()) return;
      if (!s.ReadRequest()) return;
      std::string h("\0\0", 2);
      uint32_t total = tcp::kMaxFrameSize + 1;
      for (int i = 0; i < 4; ++i) h.push_back(static_cast<char>(total >> (8 * i)));
      s.WriteBytes(h + "garbage");
      while (s.Read()) {
      }  // until the client closes
      return;
    }
    EchoSession(s);
  });
  Fixture f(server);
  std::optional<Error> err;
  f.conn->Send("q", "x", 0, [&](Result<uint64_t> r) {
    ASSERT_FALSE(r.ok());
    err = r.error();
  });
  ASSERT_TRUE(RunUntil(f.ioc, [&] { return err.has_value(); }));
  EXPECT_EQ(err->kind, Error::Kind::kProtocol);
  // The client closed its end: the server's session saw EOF.
  ASSERT_TRUE(RunUntil(f.ioc, [&] { return server.finished() == 1; }));
  bool ok = false;
  f.conn->Send("q", "x", 0, [&](Result<uint64_t> r) { ok = r.ok(); });
  ASSERT_TRUE(RunUntil(f.ioc, [&] { return ok; }));
  EXPECT_EQ(f.conn->connections_opened(), 2u);
}

// A request the server leaves unanswered times out alone; the connection carries on.
TEST(TcpConnectionTest, TimeoutFailsOnlyThatRequest) {
  FakeTcpServer server([](FakeTcpSession& s) {
    if (!s.Auth()) return;
    while (auto req = s.ReadRequest()) {
      if (req->tcp_send_msg().msgbody() == "ignore me") continue;
      auto a = FakeTcpSession::Answer(*req);
      a.add_msgids(7);
      s.Write(a);
    }
  });
  TcpOptions o;
  o.request_timeout = 200ms;
  Fixture f(server, o);
  std::optional<Result<uint64_t>> lost;
  f.conn->Send("q", "ignore me", 0, [&](Result<uint64_t> r) { lost = std::move(r); });
  ASSERT_TRUE(RunUntil(f.ioc, [&] { return lost.has_value(); }));
  ASSERT_FALSE(lost->ok());
  EXPECT_NE(lost->error().message.find("timed out"), std::string::npos);
  std::optional<Result<uint64_t>> fine;
  f.conn->Send("q", "answer me", 0, [&](Result<uint64_t> r) { fine = std::move(r); });
  ASSERT_TRUE(RunUntil(f.ioc, [&] { return fine.has_value(); }));
  ASSERT_TRUE(fine->ok());
  EXPECT_EQ(f.conn->connections_opened(), 1u);
}

// 306: the caller sees it, and the connection is replaced (a new one authenticates).
TEST(TcpConnectionTest, NotAuthedDropsTheConnection) {
  FakeTcpServer server([](FakeTcpSession& s) {
    if (!s.Auth()) return;
    if (s.id() == 1) {
      auto req = s.ReadRequest();
      if (!req) return;
      auto a = FakeTcpSession::Answer(*req);
      a.set_result(306);
      a.set_error("connection not authed");
      s.Write(a);
      while (s.Read()) {
      }
      return;
    }
    while (auto req = s.ReadRequest()) {
      auto a = FakeTcpSession::Answer(*req);
      a.add_msgids(1);
      s.Write(a);
    }
  });
  Fixture f(server);
  std::optional<Error> err;
  f.conn->Send("q", "x", 0, [&](Result<uint64_t> r) {
    ASSERT_FALSE(r.ok());
    err = r.error();
  });
  ASSERT_TRUE(RunUntil(f.ioc, [&] { return err.has_value(); }));
  EXPECT_EQ(err->code, 306);
  EXPECT_FALSE(f.conn->ready());
  bool ok = false;
  f.conn->Send("q", "x", 0, [&](Result<uint64_t> r) { ok = r.ok(); });
  ASSERT_TRUE(RunUntil(f.ioc, [&] { return ok; }));
  EXPECT_EQ(server.connections(), 2);
}

TEST(TcpConnectionTest, HeartbeatAfterIdleTime) {
  FakeTcpServer server([](FakeTcpSession& s) {
    if (!s.Auth()) return;
    while (auto f = s.Read()) {
      auto a = FakeTcpSession::Answer(*f);  // heartbeats echoed too, as a server may
      if (f->cmd() != tcp::CMQ_TCP_HEARTBEAT) a.add_msgids(1);
      s.Write(a);
    }
  });
  TcpOptions o;
  o.heartbeat_interval = 50ms;
  Fixture f(server, o);
  bool ok = false;
  f.conn->Send("q", "x", 0, [&](Result<uint64_t> r) { ok = r.ok(); });
  ASSERT_TRUE(RunUntil(f.ioc, [&] {
    int beats = 0;
    for (const auto& fr : server.frames()) beats += fr.proto.cmd() == tcp::CMQ_TCP_HEARTBEAT;
    return ok && beats >= 2;
  }));
  for (const auto& fr : server.frames()) {
    if (fr.proto.cmd() != tcp::CMQ_TCP_HEARTBEAT) continue;
    tcp::CMQProto only;  // nothing but seqno and cmd
    only.set_seqno(fr.proto.seqno());
    only.set_cmd(tcp::CMQ_TCP_HEARTBEAT);
    EXPECT_EQ(fr.proto.SerializeAsString(), only.SerializeAsString());
  }
  EXPECT_EQ(f.conn->in_flight(), 0u);
}

TEST(TcpConnectionTest, RequestLackingRequiredFieldsFailsWithoutBeingSent) {
  FakeTcpServer server(EchoSession);
  Fixture f(server);
  tcp::CMQProto p;
  p.set_cmd(tcp::CMQ_TCP_SEND_MSG);
  p.mutable_tcp_send_msg();  // no queue_name
  std::optional<Error> err;
  f.conn->Call(p, {}, [&](Result<tcp::CMQProto> r) {
    ASSERT_FALSE(r.ok());
    err = r.error();
  });
  EXPECT_FALSE(err.has_value());  // not from inside Call
  ASSERT_TRUE(RunUntil(f.ioc, [&] { return err.has_value(); }));
  EXPECT_EQ(err->kind, Error::Kind::kProtocol);
  EXPECT_NE(err->message.find("queue_name"), std::string::npos) << err->message;
  EXPECT_EQ(server.connections(), 0);
}

// The typed commands: what goes on the wire and what comes back.
void CommandSession(FakeTcpSession& s) {
  if (!s.Auth()) return;
  while (auto req = s.ReadRequest()) {
    auto a = FakeTcpSession::Answer(*req);
    switch (req->cmd()) {
      case tcp::CMQ_TCP_BATCH_SEND_MSG:
        for (int i = 0; i < req->tcp_batch_send_msg().msgbody_size(); ++i) a.add_msgids(100 + i);
        break;
      case tcp::CMQ_TCP_PULL_MSG:
        if (req->tcp_pull_msg().queue_name() == "empty") {
          a.set_result(10200);
          a.set_error("no message");
        } else {
          auto* m = a.mutable_pull_rsp();
          m->set_msg_id(5);
          m->set_receipt_handle(55);
          m->set_msg_body(std::string("bin\0ary", 7));
          m->set_dequeue_count(2);
        }
        break;
      case tcp::CMQ_TCP_BATCH_PULL_MSG:
        for (int i = 0; i < req->tcp_batch_pull_msg().num_msg(); ++i) {
          auto* m = a.mutable_batch_pull_rsp()->add_msg_list();
          m->set_msg_id(10 + i);
          m->set_receipt_handle(20 + i);
          m->set_msg_body("m" + std::to_string(i));
        }
        break;
      case tcp::CMQ_TCP_DELETE_MSG:
        if (req->tcp_delete_msg().receipt_handle() == 0) {
          a.set_result(4430);
          a.set_error("receipt handle is invalid");
        }
        break;
      case tcp::CMQ_TCP_BATCH_DELETE_MSG:
        for (uint64_t h : req->tcp_batch_delete_msg().receipt_handle_list()) {
          if (h != 0) continue;
          a.set_result(6010);
          auto* d = a.add_del_result();
          d->set_receipt_handle(h);
          d->set_err_code(4430);
          d->set_err_msg("receipt handle is invalid");
        }
        if (req->tcp_batch_delete_msg().queue_name() == "gone") {
          a.set_result(4440);
          a.set_error("queue is not existed");
        }
        break;
      case tcp::CMQ_TCP_PUBLISH_MSG:
        a.add_msgids(9);
        break;
      case tcp::CMQ_TCP_BATCH_PUBLISH_MSG:
        for (int i = 0; i < req->tcp_batch_publish_msg().msgbody_size(); ++i) a.add_msgids(i);
        break;
      default:
        break;
    }
    s.Write(a);
  }
}

TEST(TcpConnectionTest, TypedCommands) {
  FakeTcpServer server(CommandSession);
  Fixture f(server);
  int done = 0;
  std::vector<std::string> bodies{"a", "b", "c"};
  f.conn->BatchSend("q", bodies, 5, [&](Result<std::vector<uint64_t>> r) {
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, (std::vector<uint64_t>{100, 101, 102}));
    ++done;
  });
  f.conn->Pull("q", 3, 60u, [&](Result<Message> r) {
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(r->msg_id, 5u);
    EXPECT_EQ(r->receipt_handle, 55u);
    EXPECT_EQ(r->body, std::string("bin\0ary", 7));
    EXPECT_EQ(r->dequeue_count, 2);
    ++done;
  });
  f.conn->Pull("empty", 0, std::nullopt, [&](Result<Message> r) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, 10200);
    EXPECT_TRUE(r.error().is_no_message());
    ++done;
  });
  f.conn->BatchPull("q", 4, 1, std::nullopt, [&](Result<std::vector<Message>> r) {
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->size(), 4u);
    EXPECT_EQ((*r)[3].receipt_handle, 23u);
    EXPECT_EQ((*r)[3].body, "m3");
    ++done;
  });
  f.conn->Delete("q", 0, [&](Result<void> r) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, 4430);
    ++done;
  });
  std::vector<uint64_t> handles{1, 0, 2};
  f.conn->BatchDelete("q", handles, [&](Result<std::vector<DeleteError>> r) {
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0].code, 4430);
    ++done;
  });
  f.conn->BatchDelete("gone", std::vector<uint64_t>{1}, [&](Result<std::vector<DeleteError>> r) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, 4440);
    ++done;
  });
  std::vector<std::string> tags{"red", "big"};
  f.conn->Publish("t", "news", tags, std::nullopt, [&](Result<uint64_t> r) {
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, 9u);
    ++done;
  });
  f.conn->BatchPublish("t", bodies, {}, "a.b", [&](Result<std::vector<uint64_t>> r) {
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->size(), 3u);
    ++done;
  });
  ASSERT_TRUE(RunUntil(f.ioc, [&] { return done == 9; }));

  std::map<int, tcp::CMQProto> by_cmd;
  for (const auto& r : server.requests()) by_cmd[r.proto.cmd()] = r.proto;
  EXPECT_EQ(by_cmd[tcp::CMQ_TCP_BATCH_SEND_MSG].tcp_batch_send_msg().delay_seconds(), 5u);
  EXPECT_EQ(by_cmd[tcp::CMQ_TCP_BATCH_PULL_MSG].tcp_batch_pull_msg().num_msg(), 4);
  EXPECT_EQ(by_cmd[tcp::CMQ_TCP_BATCH_PULL_MSG].tcp_batch_pull_msg().poll_wait_seconds(), 1);
  EXPECT_FALSE(by_cmd[tcp::CMQ_TCP_BATCH_PULL_MSG].tcp_batch_pull_msg().has_visible_timeout());
  const auto& pub = by_cmd[tcp::CMQ_TCP_PUBLISH_MSG].tcp_publish_msg();
  EXPECT_EQ(pub.topic_name(), "t");
  ASSERT_EQ(pub.msgtags_size(), 2);
  EXPECT_EQ(pub.msgtags(1), "big");
  EXPECT_FALSE(pub.has_routing_key());
  EXPECT_EQ(by_cmd[tcp::CMQ_TCP_BATCH_PUBLISH_MSG].tcp_batch_publish_msg().routing_key(), "a.b");
  // The pull with a visibility timeout (sent first among the two pulls of queue q).
  bool saw_visible = false;
  for (const auto& r : server.requests()) {
    if (r.proto.cmd() == tcp::CMQ_TCP_PULL_MSG && r.proto.tcp_pull_msg().queue_name() == "q") {
      EXPECT_EQ(r.proto.tcp_pull_msg().visible_timeout(), 60u);
      EXPECT_EQ(r.proto.tcp_pull_msg().poll_wait_seconds(), 3);
      saw_visible = true;
    }
  }
  EXPECT_TRUE(saw_visible);
}

TEST(TcpConnectionTest, ConnectRefusedFailsFast) {
  // A port nothing listens on: bind one, learn its number, close it.
  boost::asio::io_context tmp;
  boost::asio::ip::tcp::acceptor a(tmp, {boost::asio::ip::make_address("127.0.0.1"), 0});
  std::string address = "127.0.0.1:" + std::to_string(a.local_endpoint().port());
  a.close();
  boost::asio::io_context ioc;
  TcpOptions o;
  o.address = address;
  auto c = TcpConnection::Create(ioc, o);
  ASSERT_TRUE(c.ok());
  std::optional<Error> err;
  (*c)->Send("q", "x", 0, [&](Result<uint64_t> r) {
    ASSERT_FALSE(r.ok());
    err = r.error();
  });
  ASSERT_TRUE(RunUntil(ioc, [&] { return err.has_value(); }));
  EXPECT_NE(err->message.find("connect"), std::string::npos) << err->message;
  (*c)->Close();
}

TEST(TcpConnectionTest, MalformedAddressIsRefused) {
  boost::asio::io_context ioc;
  TcpOptions o;
  o.address = "127.0.0.1";  // no port
  EXPECT_FALSE(TcpConnection::Create(ioc, o).ok());
  o.address = "http://127.0.0.1:8081";
  EXPECT_FALSE(TcpConnection::Create(ioc, o).ok());
  o.address = "[::1]:8081";
  EXPECT_TRUE(TcpConnection::Create(ioc, o).ok());
}

}  // namespace
}  // namespace cmq::client
