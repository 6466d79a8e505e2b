#pragma once
// Builds the POST body of one CMQ API 2.0 request (spec §4): the action parameters plus
// Action, Timestamp, Nonce, RequestClient and, when a secret key is set, SecretId,
// SignatureMethod and Signature (signed over "POST" + Host + path, spec §4.2).

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "client/options.h"
#include "common/signature.h"
#include "common/url.h"

namespace cmq::client {

inline constexpr std::string_view kRequestClient = "OpenCMQ_CPP_0.1";

class RequestBuilder {
 public:
  // host_header: the Host the request is sent with (and signed with).
  RequestBuilder(const ClientOptions& options, std::string host_header);

  // Writes the form body into *out (its capacity is reused).
  void Build(std::string_view action, const FormParams& params, std::string* out);
  // The same when the caller already holds EncodeForm(params) (cheap repeated requests).
  void Build(std::string_view action, const FormParams& params, std::string_view encoded_params,
             std::string* out);

  bool signs() const { return !secret_key_.empty(); }
  const std::string& host_header() const { return host_header_; }
  const std::string& path() const { return path_; }

 private:
  std::string host_header_;
  std::string path_;
  std::string secret_id_;
  std::string secret_key_;
  std::string signature_method_;
  SignatureAlgorithm algorithm_;
  std::mt19937_64 rng_;
  FormParams scratch_;
};

}  // namespace cmq::client
