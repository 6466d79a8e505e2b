#pragma once
// Request authentication (spec §4.2, §4.3; choices in docs/http-api.md "Signatures").
// With no account configured nothing is checked. Otherwise the signature is recomputed
// over the method, the Host header as received and the request path, and compared in
// constant time; a few host and parameter variants the SDKs produce are accepted too.

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "api/config.h"
#include "api/errors.h"
#include "api/params.h"
#include "api/request.h"
#include "common/clock.h"

namespace cmq::api {

class Authenticator {
 public:
  // Keeps references to nothing: the accounts and the window are copied. clock must
  // outlive the Authenticator.
  Authenticator(const ServerConfig& config, const Clock& clock);

  bool enabled() const { return !keys_.empty(); }

  // nullopt when the request may proceed, else the error to answer (4100).
  std::optional<ApiError> Verify(const HttpRequest& request, const RequestParams& params) const;
  // The CMQ TCP protocol's proof, once per connection (spec/cmq-tcp-protocol.md §3):
  // signature = base64(HMAC_method(secret key, client_id + secret_id)), method "HmacSHA1" or
  // "HmacSHA256". It has no timestamp, so there is no window to check. nullopt: accepted.
  std::optional<ApiError> VerifyTcp(std::string_view secret_id, std::string_view signature,
                                    std::string_view client_id,
                                    std::string_view signature_method) const;

 private:
  bool SignatureMatches(const HttpRequest& request, const RequestParams& params,
                        std::string_view secret_key, std::string_view signature) const;

  std::unordered_map<std::string, std::string> keys_;  // secret id → secret key
  int64_t window_seconds_;
  const Clock& clock_;
};

}  // namespace cmq::api
