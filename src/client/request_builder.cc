#include "client/request_builder.h"

#include <chrono>

namespace cmq::client {

RequestBuilder::RequestBuilder(const ClientOptions& options, std::string host_header)
    : host_header_(std::move(host_header)),
      path_(options.path),
      secret_id_(options.secret_id),
      secret_key_(options.secret_key),
      signature_method_(options.signature_method),
      algorithm_(SignatureAlgorithmFor(options.signature_method)),
      rng_(std::random_device{}()) {}

void RequestBuilder::Build(std::string_view action, const FormParams& params, std::string* out) {
  Build(action, params, EncodeForm(params), out);
}

void RequestBuilder::Build(std::string_view action, const FormParams& params,
                           std::string_view encoded_params, std::string* out) {
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  std::string timestamp = std::to_string(
      duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  std::string nonce = std::to_string(rng_() >> 2 | 1);

  out->clear();
  out->append("Action=").append(UrlEncode(action));
  out->append("&Timestamp=").append(timestamp);
  out->append("&Nonce=").append(nonce);
  out->append("&RequestClient=").append(kRequestClient);
  if (signs()) {
    out->append("&SecretId=").append(UrlEncode(secret_id_));
    out->append("&SignatureMethod=").append(UrlEncode(signature_method_));
  }
  if (!encoded_params.empty()) out->append("&").append(encoded_params);
  if (!signs()) return;

  scratch_.clear();
  scratch_.reserve(params.size() + 6);
  scratch_.emplace_back("Action", std::string(action));
  scratch_.emplace_back("Timestamp", std::move(timestamp));
  scratch_.emplace_back("Nonce", std::move(nonce));
  scratch_.emplace_back("RequestClient", std::string(kRequestClient));
  scratch_.emplace_back("SecretId", secret_id_);
  scratch_.emplace_back("SignatureMethod", signature_method_);
  scratch_.insert(scratch_.end(), params.begin(), params.end());
  std::string to_sign = StringToSign("POST", host_header_, path_, scratch_);
  out->append("&Signature=").append(UrlEncode(Sign(to_sign, secret_key_, algorithm_)));
}

}  // namespace cmq::client
