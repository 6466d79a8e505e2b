#include "api/auth.h"

#include <vector>

#include "common/signature.h"

namespace cmq::api {
namespace {

std::string_view PathOf(std::string_view target) {
  size_t q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool HasPort(std::string_view host) {
  size_t colon = host.rfind(':');
  size_t bracket = host.rfind(']');  // IPv6 literal: "[::1]:80"
  return colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket);
}

// The hosts a client may have signed with, given the Host header it sent: the header as
// received first, then without a default port (or with one, when the header has none), and
// with a trailing '/' (Java keeps one from the endpoint).
std::vector<std::string> HostVariants(std::string_view host) {
  std::vector<std::string> hosts;
  hosts.emplace_back(host);
  if (EndsWith(host, ":80")) {
    hosts.emplace_back(host.substr(0, host.size() - 3));
  } else if (EndsWith(host, ":443")) {
    hosts.emplace_back(host.substr(0, host.size() - 4));
  } else if (!HasPort(host) && !host.empty()) {
    hosts.push_back(std::string(host) + ":80");
    hosts.push_back(std::string(host) + ":443");
  }
  hosts.push_back(std::string(host) + "/");
  return hosts;
}

}  // namespace

Authenticator::Authenticator(const ServerConfig& config, const Clock& clock)
    : window_seconds_(config.timestamp_window_seconds), clock_(clock) {
  for (const Account& account : config.accounts) keys_[account.secret_id] = account.secret_key;
}

std::optional<ApiError> Authenticator::Verify(const HttpRequest& request,
                                              const RequestParams& params) const {
  if (keys_.empty()) return std::nullopt;
  const std::string* secret_id = params.Find("SecretId");
  if (secret_id == nullptr) return AuthenticationFailed("SecretId is missing");
  auto key = keys_.find(*secret_id);
  if (key == keys_.end()) return UnknownSecretId();
  const std::string* signature = params.Find("Signature");
  if (signature == nullptr || signature->empty()) {
    return AuthenticationFailed("Signature is missing");
  }
  if (window_seconds_ > 0) {
    const std::string* timestamp = params.Find("Timestamp");
    std::optional<int64_t> ts = timestamp ? ParseInt64(*timestamp) : std::nullopt;
    if (!ts) return AuthenticationFailed("Timestamp is missing or not an integer");
    int64_t now_s = clock_.NowMs() / 1000;
    if (*ts < now_s - window_seconds_ || *ts > now_s + window_seconds_) {
      return AuthenticationFailed("Timestamp is outside the accepted window");
    }
  }
  if (!SignatureMatches(request, params, key->second, *signature)) {
    return AuthenticationFailed("");
  }
  return std::nullopt;
}

std::optional<ApiError> Authenticator::VerifyTcp(std::string_view secret_id,
                                                 std::string_view signature,
                                                 std::string_view client_id,
                                                 std::string_view signature_method) const {
  if (keys_.empty()) return std::nullopt;
  auto key = keys_.find(std::string(secret_id));
  if (key == keys_.end()) return UnknownSecretId();
  if (signature_method != "HmacSHA1" && signature_method != "HmacSHA256") {
    return AuthenticationFailed("signature_method must be HmacSHA1 or HmacSHA256");
  }
  std::string text;
  text.reserve(client_id.size() + secret_id.size());
  text.append(client_id).append(secret_id);
  const std::string expected = Sign(text, key->second, SignatureAlgorithmFor(signature_method));
  if (signature.empty() || !ConstantTimeEquals(expected, signature)) {
    return AuthenticationFailed("");
  }
  return std::nullopt;
}

bool Authenticator::SignatureMatches(const HttpRequest& request, const RequestParams& params,
                                     std::string_view secret_key,
                                     std::string_view signature) const {
  const std::string* method_param = params.Find("SignatureMethod");
  SignatureAlgorithm algorithm =
      SignatureAlgorithmFor(method_param ? std::string_view(*method_param) : std::string_view());
  std::string_view path = PathOf(request.target);
  // Python and PHP drop '@'-prefixed values from POST signatures; the others do not.
  bool has_at_value = false;
  if (request.method == "POST") {
    for (const auto& p : params.form()) {
      if (!p.second.empty() && p.second[0] == '@') has_at_value = true;
    }
  }
  auto matches = [&](std::string_view host, bool drop_at_values) {
    std::string text = StringToSign(request.method, host, path, params.form(), drop_at_values);
    return ConstantTimeEquals(Sign(text, secret_key, algorithm), signature);
  };
  // The common case first: the Host header exactly as received, all parameters.
  if (matches(request.host, false)) return true;
  if (has_at_value && matches(request.host, true)) return true;
  std::vector<std::string> hosts = HostVariants(request.host);
  for (size_t i = 1; i < hosts.size(); ++i) {
    if (matches(hosts[i], false)) return true;
    if (has_at_value && matches(hosts[i], true)) return true;
  }
  return false;
}

}  // namespace cmq::api
