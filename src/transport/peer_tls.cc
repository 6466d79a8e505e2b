#include "transport/peer_tls.h"

namespace cmq::transport {

namespace ssl = boost::asio::ssl;

Result<std::shared_ptr<ssl::context>> MakePeerTlsContext(const PeerTlsFiles& files) {
  if (files.cert_file.empty() || files.key_file.empty() || files.ca_file.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "peer TLS needs a certificate, its key and the cluster's CA file (all three)");
  }
  // tls: one context for both roles (a node dials some peers and accepts the others).
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(files.cert_file, ec);
  if (ec) {
    return Status(ErrorCode::kInvalidArgument,
                  "peer TLS certificate " + files.cert_file + ": " + ec.message());
  }
  ctx->use_private_key_file(files.key_file, ssl::context::pem, ec);
  if (ec) {  // also what OpenSSL says when the key is not the certificate's
    return Status(ErrorCode::kInvalidArgument,
                  "peer TLS key " + files.key_file + ": " + ec.message());
  }
  ctx->load_verify_file(files.ca_file, ec);
  if (ec) {
    return Status(ErrorCode::kInvalidArgument,
                  "peer TLS CA " + files.ca_file + ": " + ec.message());
  }
  // Both ends verify: the acceptor asks for the dialer's certificate and refuses none.
  ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  return ctx;
}

}  // namespace cmq::transport
