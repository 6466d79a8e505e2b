#include "client/tcp_auth.h"

#include "common/signature.h"

namespace cmq::client {

std::string TcpAuthSignature(std::string_view client_id, std::string_view secret_id,
                             std::string_view secret_key, std::string_view signature_method) {
  std::string data;
  data.reserve(client_id.size() + secret_id.size());
  data.append(client_id).append(secret_id);
  return Sign(data, secret_key, SignatureAlgorithmFor(signature_method));
}

tcp::CMQProto MakeTcpAuth(const std::string& client_id, const std::string& secret_id,
                          const std::string& secret_key, const std::string& signature_method) {
  tcp::CMQProto p;
  p.set_cmd(tcp::CMQ_TCP_AUTH);
  auto* a = p.mutable_tcp_auth();
  a->set_secret_id(secret_id);
  a->set_client_id(client_id);
  a->set_signature_method(signature_method);
  a->set_signature(secret_key.empty()
                       ? std::string()
                       : TcpAuthSignature(client_id, secret_id, secret_key, signature_method));
  return p;
}

}  // namespace cmq::client
