#pragma once
// The connection auth of the CMQ TCP protocol (spec cmq-tcp-protocol.md §3): cmd 1020 with
// tcp_auth {secret_id, signature, client_id, signature_method}, where signature =
// base64(HMAC(key = SecretKey, data = client_id + secret_id)). The proof has no timestamp
// or nonce: it is the same for every connection of a client.

#include <string>
#include <string_view>

#include "proto/cmq.pb.h"

namespace cmq::client {

// Result codes of an auth answer that mean "logged in": 0, and 307 ALREADY_AUTHORIZED.
inline constexpr int kTcpAuthAlready = 307;
// A data command on a connection that is not (or no longer) authed.
inline constexpr int kTcpNotAuthed = 306;

// base64(HMAC-SHA256 if method is "HmacSHA256", else HMAC-SHA1), as the HTTP signer.
std::string TcpAuthSignature(std::string_view client_id, std::string_view secret_id,
                             std::string_view secret_key, std::string_view signature_method);

// The auth request (seqno left to the caller). All four fields are `required` on the
// wire, so without credentials they go as empty strings (a server without accounts
// accepts any auth).
tcp::CMQProto MakeTcpAuth(const std::string& client_id, const std::string& secret_id,
                          const std::string& secret_key, const std::string& signature_method);

}  // namespace cmq::client
