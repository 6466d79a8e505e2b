#pragma once
// A deliberately plain client of the CMQ TCP protocol for the integration tests: frames
// and CMQProto messages built by hand on a blocking socket, so that the tests check the
// bytes an official SDK would send and read (spec/cmq-tcp-protocol.md), not our client.

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/signature.h"
#include "proto/cmq.pb.h"
#include "proto/tcp_frame.h"

namespace cmq::testing {

class TcpWire {
 public:
  explicit TcpWire(int port) : socket_(ioc_) {
    boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"),
                                      static_cast<uint16_t>(port));
    socket_.connect(ep);
    socket_.set_option(boost::asio::ip::tcp::no_delay(true));
  }

  // Writes bytes as they are (for malformed frames).
  void WriteRaw(const std::string& bytes) {
    boost::asio::write(socket_, boost::asio::buffer(bytes));
  }

  void Write(const cmq::tcp::CMQProto& m) {
    std::string frame;
    std::string body = m.SerializePartialAsString();
    cmq::tcp::AppendFrameHeader(frame, body.size());
    frame += body;
    WriteRaw(frame);
  }

  // The next frame; nullopt when the server closed the connection.
  std::optional<cmq::tcp::CMQProto> Read() {
    char header[cmq::tcp::kFrameHeaderSize];
    boost::system::error_code ec;
    boost::asio::read(socket_, boost::asio::buffer(header), ec);
    if (ec) return std::nullopt;
    auto size = cmq::tcp::BodySizeOf(std::string_view(header, sizeof(header)));
    if (!size) throw std::runtime_error("bad frame header from the server");
    std::string body(*size, '\0');
    boost::asio::read(socket_, boost::asio::buffer(body), ec);
    if (ec) return std::nullopt;
    cmq::tcp::CMQProto m;
    // The SDK parses strictly: a missing required field would make it drop the connection.
    if (!m.ParseFromString(body)) throw std::runtime_error("the server sent an invalid CMQProto");
    return m;
  }

  // The next frame if one starts arriving within `within` (else nullopt, and nothing read).
  std::optional<cmq::tcp::CMQProto> ReadWithin(std::chrono::milliseconds within) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    while (socket_.available() == 0) {
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return Read();
  }

  // One request and its answer (the connection has nothing else in flight).
  cmq::tcp::CMQProto Call(cmq::tcp::CMQProto m) {
    if (!m.has_seqno()) m.set_seqno(++seqno_);
    Write(m);
    auto answer = Read();
    if (!answer) throw std::runtime_error("connection closed");
    if (answer->seqno() != m.seqno()) throw std::runtime_error("answer to another seqno");
    return *answer;
  }

  // Authenticates the way the Java SDK does: HMAC(key, client_id + secret_id), base64.
  cmq::tcp::CMQProto Auth(const std::string& secret_id, const std::string& secret_key,
                          const std::string& method = "HmacSHA1",
                          const std::string& client_id = "192.0.2.2@DEFAULT") {
    cmq::tcp::CMQProto m;
    m.set_cmd(1020);
    auto* auth = m.mutable_tcp_auth();
    auth->set_secret_id(secret_id);
    auth->set_client_id(client_id);
    auth->set_signature_method(method);
    auth->set_signature(Hmac(method, secret_key, client_id + secret_id));
    return Call(m);
  }

  static std::string Hmac(const std::string& method, const std::string& key,
                          const std::string& data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(method == "HmacSHA256" ? EVP_sha256() : EVP_sha1(), key.data(),
         static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
         data.size(), out, &len);
    return Base64Encode(std::string_view(reinterpret_cast<char*>(out), len));
  }

  int64_t NextSeqno() { return ++seqno_; }

 private:
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
  int64_t seqno_ = 0;
};

// Builders of the SDK's requests.
inline cmq::tcp::CMQProto SendRequest(const std::string& queue, const std::string& body) {
  cmq::tcp::CMQProto m;
  m.set_cmd(1021);
  m.set_request_id(1);  // the SDK sends its own counter here on sends
  m.mutable_tcp_send_msg()->set_queue_name(queue);
  m.mutable_tcp_send_msg()->set_msgbody(body);
  return m;
}

// A transaction's batch send (spec §6.9): half messages, first checked back after
// first_query_interval (seconds when at most 3600).
inline cmq::tcp::CMQProto HalfBatchSendRequest(const std::string& queue,
                                               const std::vector<std::string>& bodies,
                                               int first_query_interval) {
  cmq::tcp::CMQProto m;
  m.set_cmd(1022);
  auto* batch = m.mutable_tcp_batch_send_msg();
  batch->set_queue_name(queue);
  for (const std::string& body : bodies) batch->add_msgbody(body);
  batch->set_is_transaction(1);
  batch->set_first_query_interval(first_query_interval);
  return m;
}

// The one-way 1041 (the SDK's checker answer or local transaction outcome): state 1
// commits, 2 rolls back. Written with Write: no answer comes.
inline cmq::tcp::CMQProto ConfirmRequest(int64_t seqno, const std::string& queue,
                                         const std::vector<std::pair<uint64_t, int>>& items) {
  cmq::tcp::CMQProto m;
  m.set_cmd(1041);
  m.set_seqno(seqno);
  m.mutable_transaction_confirm()->set_queue_name(queue);
  for (const auto& [msg_id, state] : items) {
    auto* item = m.mutable_transaction_confirm()->add_item();
    item->set_msg_id(msg_id);
    item->set_state(state);
  }
  return m;
}

inline cmq::tcp::CMQProto PullRequest(const std::string& queue, int wait) {
  cmq::tcp::CMQProto m;
  m.set_cmd(1023);
  m.mutable_tcp_pull_msg()->set_queue_name(queue);
  m.mutable_tcp_pull_msg()->set_poll_wait_seconds(wait);
  return m;
}

inline cmq::tcp::CMQProto DeleteRequest(const std::string& queue, uint64_t handle) {
  cmq::tcp::CMQProto m;
  m.set_cmd(1025);
  m.mutable_tcp_delete_msg()->set_queue_name(queue);
  m.mutable_tcp_delete_msg()->set_receipt_handle(handle);
  return m;
}

}  // namespace cmq::testing
