#include "client/async_connection.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "unit/client/fake_server.h"

namespace cmq::client {
namespace {

using testing::FakeRequest;
using testing::FakeResponse;
using testing::FakeServer;

TEST(AsyncConnectionTest, ManyConnectionsOnOneThreadEachKeepAlive) {
  FakeServer server([](const FakeRequest& r) {
    FakeResponse out;
    out.body = R"({"code":0,"message":"","requestId":"1","msgId":")" + r.Param("msgBody") + "\"}";
    return out;
  });
  ClientOptions o;
  o.endpoint = server.endpoint();
  boost::asio::io_context ioc;
  constexpr int kConns = 8, kPerConn = 20;
  std::vector<std::unique_ptr<AsyncConnection>> conns;
  int done = 0, bad = 0;
  std::function<void(AsyncConnection*, int, int)> next = [&](AsyncConnection* c, int id, int i) {
    if (i == kPerConn) {
      ++done;
      return;
    }
    std::string body = std::to_string(id * 1000 + i);
    c->Call("SendMessage", {{"queueName", "q"}, {"msgBody", body}}, {},
            [&, c, id, i, body](Result<nlohmann::json> r) {
              if (!r.ok() || (*r)["msgId"] != body) ++bad;
              next(c, id, i + 1);
            });
  };
  for (int id = 0; id < kConns; ++id) {
    auto c = AsyncConnection::Create(ioc, o);
    ASSERT_TRUE(c.ok());
    conns.push_back(std::move(*c));
    next(conns.back().get(), id, 0);
  }
  ioc.run();
  EXPECT_EQ(done, kConns);
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(server.connections(), kConns);
  EXPECT_EQ(server.requests().size(), static_cast<size_t>(kConns * kPerConn));
  for (auto& c : conns) EXPECT_EQ(c->connections_opened(), 1u);
}

TEST(AsyncConnectionTest, RawPostAndErrorEnvelope) {
  FakeServer server([](const FakeRequest&) {
    FakeResponse out;
    out.body = R"({"code":4440,"message":"(10100)queue is not existed","requestId":"2"})";
    return out;
  });
  ClientOptions o;
  o.endpoint = server.endpoint();
  boost::asio::io_context ioc;
  auto c = AsyncConnection::Create(ioc, o);
  ASSERT_TRUE(c.ok());
  std::string got;
  std::string body;
  (*c)->builder().Build("GetQueueAttributes", {{"queueName", "nope"}}, &body);
  (*c)->PostRaw(body, {}, [&](Result<std::string_view> r) {
    ASSERT_TRUE(r.ok());
    got = std::string(*r);
  });
  ioc.run();
  EXPECT_NE(got.find("4440"), std::string::npos);
  EXPECT_EQ(server.requests().at(0).Param("queueName"), "nope");
}

}  // namespace
}  // namespace cmq::client
