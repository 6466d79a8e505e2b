#include "api/config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace cmq::api {
namespace {

TEST(ConfigTest, EmptyObjectGivesDefaults) {
  auto c = ParseServerConfig("{}");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c.value(), ServerConfig{});
  EXPECT_EQ(c->http, "127.0.0.1:8080");
  EXPECT_EQ(c->timestamp_window_seconds, 300);
  EXPECT_EQ(c->max_body_bytes, 4u * 1024 * 1024);
  EXPECT_GE(c->idle_timeout_seconds, 60);
}

TEST(ConfigTest, ReadsEveryKey) {
  auto c = ParseServerConfig(R"({
    "http": "0.0.0.0:9000", "data_dir": "/var/lib/cmq",
    "accounts": [{"secret_id": "AKIDa", "secret_key": "ka"}, {"secret_id": "AKIDb", "secret_key": "kb"}],
    "timestamp_window_seconds": 0, "max_body_bytes": 1048576, "max_header_bytes": 8192,
    "idle_timeout_seconds": 90, "write_timeout_seconds": 10, "max_pipelined_requests": 4,
    "io_threads": 2 })");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->http, "0.0.0.0:9000");
  EXPECT_EQ(c->data_dir, "/var/lib/cmq");
  ASSERT_EQ(c->accounts.size(), 2u);
  EXPECT_EQ(c->accounts[1], (Account{"AKIDb", "kb"}));
  EXPECT_EQ(c->timestamp_window_seconds, 0);
  EXPECT_EQ(c->max_body_bytes, 1048576u);
  EXPECT_EQ(c->max_header_bytes, 8192u);
  EXPECT_EQ(c->idle_timeout_seconds, 90);
  EXPECT_EQ(c->write_timeout_seconds, 10);
  EXPECT_EQ(c->max_pipelined_requests, 4u);
  EXPECT_EQ(c->io_threads, 2u);
}

TEST(ConfigTest, UnknownKeysAreRefusedByName) {
  auto c = ParseServerConfig(R"({"htpp": "x:1"})", "cmqd.json");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("cmqd.json"), std::string::npos);
  EXPECT_NE(c.status().message().find("unknown key \"htpp\""), std::string::npos);
  auto nested =
      ParseServerConfig(R"({"accounts": [{"secret_id": "a", "secret_key": "b", "x": 1}]})");
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.status().message().find("accounts[].x"), std::string::npos);
}

TEST(ConfigTest, BadValuesAreRefused) {
  EXPECT_FALSE(ParseServerConfig(R"({"http": 8080})").ok());
  EXPECT_FALSE(ParseServerConfig(R"({"timestamp_window_seconds": -1})").ok());
  EXPECT_FALSE(ParseServerConfig(R"({"timestamp_window_seconds": "300"})").ok());
  EXPECT_FALSE(ParseServerConfig(R"({"accounts": [{"secret_id": "a"}]})").ok());
  EXPECT_FALSE(
      ParseServerConfig(
          R"({"accounts": [{"secret_id": "a", "secret_key": "b"}, {"secret_id": "a", "secret_key": "c"}]})")
          .ok());
  EXPECT_FALSE(ParseServerConfig("[]").ok());
  EXPECT_FALSE(ParseServerConfig("{").ok());
}

TEST(ConfigTest, DataGroupKeys) {
  auto defaults = ParseServerConfig("{}");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->groups, 0u);  // chosen at start: 1 alone, 3 in a cluster
  EXPECT_TRUE(defaults->balance_leaders);
  auto c = ParseServerConfig(R"({"groups": 5, "balance_leaders": false})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->groups, 5u);
  EXPECT_FALSE(c->balance_leaders);
  EXPECT_FALSE(ParseServerConfig(R"({"groups": 0})").ok());
  EXPECT_FALSE(ParseServerConfig(R"({"groups": 65})").ok());
  EXPECT_FALSE(ParseServerConfig(R"({"balance_leaders": 1})").ok());
}

TEST(ConfigTest, PeerDirectWrites) {
  auto defaults = ParseServerConfig("{}");
  ASSERT_TRUE(defaults.ok());
  EXPECT_TRUE(defaults->peer_direct_writes);
  auto c = ParseServerConfig(R"({"peer_direct_writes": false})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->peer_direct_writes);
  EXPECT_FALSE(ParseServerConfig(R"({"peer_direct_writes": "no"})").ok());
}

TEST(ConfigTest, PeerTlsFiles) {
  auto defaults = ParseServerConfig("{}");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->peer_tls_cert_file, "");  // off
  auto c = ParseServerConfig(
      R"({"peer_tls_cert_file": "n.crt", "peer_tls_key_file": "n.key", "peer_tls_ca_file": "ca.crt"})");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->peer_tls_cert_file, "n.crt");
  EXPECT_EQ(c->peer_tls_key_file, "n.key");
  EXPECT_EQ(c->peer_tls_ca_file, "ca.crt");
  EXPECT_FALSE(ParseServerConfig(R"({"peer_tls_ca_file": 1})").ok());
}

TEST(ConfigTest, TcpKeys) {
  auto defaults = ParseServerConfig("{}");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->tcp, "");  // off
  EXPECT_TRUE(defaults->tcp_route.empty());
  EXPECT_EQ(defaults->tcp_idle_timeout_seconds, 60);
  EXPECT_EQ(defaults->tcp_max_inflight, 4096u);
  EXPECT_EQ(defaults->tcp_max_inflight_pulls, 256u);
  auto c = ParseServerConfig(R"({
    "tcp": "0.0.0.0:9100", "tcp_route": ["10.0.0.1:9100", "10.0.0.2:9100"],
    "tcp_idle_timeout_seconds": 120, "tcp_max_inflight": 64, "tcp_max_inflight_pulls": 8 })");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->tcp, "0.0.0.0:9100");
  EXPECT_EQ(c->tcp_route, (std::vector<std::string>{"10.0.0.1:9100", "10.0.0.2:9100"}));
  EXPECT_EQ(c->tcp_idle_timeout_seconds, 120);
  EXPECT_EQ(c->tcp_max_inflight, 64u);
  EXPECT_EQ(c->tcp_max_inflight_pulls, 8u);
  EXPECT_NE(c.value(), ServerConfig{});
  // The bounds are accepted.
  auto edges = ParseServerConfig(
      R"({"tcp_route": [], "tcp_idle_timeout_seconds": 1, "tcp_max_inflight": 1048576})");
  ASSERT_TRUE(edges.ok()) << edges.status().ToString();
  EXPECT_TRUE(edges->tcp_route.empty());
  EXPECT_EQ(edges->tcp_idle_timeout_seconds, 1);
  EXPECT_EQ(edges->tcp_max_inflight, 1048576u);
  EXPECT_TRUE(ParseServerConfig(R"({"tcp_idle_timeout_seconds": 86400})").ok());
}

TEST(ConfigTest, BadTcpValuesAreRefused) {
  for (const char* bad : {
           R"({"tcp": 9100})",
           R"({"tcp": ""})",
           R"({"tcp": ["127.0.0.1:9100"]})",
           R"({"tcp_route": "10.0.0.1:9100"})",
           R"({"tcp_route": [9100]})",
           R"({"tcp_route": ["10.0.0.1:9100", null]})",
           R"({"tcp_idle_timeout_seconds": 0})",
           R"({"tcp_max_inflight_pulls": 0})",
           R"({"tcp_max_inflight_pulls": 65537})",
           R"({"tcp_idle_timeout_seconds": -5})",
           R"({"tcp_idle_timeout_seconds": 86401})",
           R"({"tcp_idle_timeout_seconds": "60"})",
           R"({"tcp_idle_timeout_seconds": 1.5})",
           R"({"tcp_max_inflight": 0})",
           R"({"tcp_max_inflight": 1048577})",
           R"({"tcp_max_inflight": true})",
       }) {
    auto c = ParseServerConfig(bad, "cmqd.json");
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.status().code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_NE(c.status().message().find("tcp"), std::string::npos) << c.status().ToString();
  }
}

TEST(ConfigTest, LoadsAFile) {
  std::string path = ::testing::TempDir() + "/cmq_api_config_test.json";
  {
    std::ofstream out(path);
    out << R"({"http": "127.0.0.1:0"})";
  }
  auto c = LoadServerConfig(path);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->http, "127.0.0.1:0");
  std::remove(path.c_str());
  auto missing = LoadServerConfig(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kIoError);
}

}  // namespace
}  // namespace cmq::api
