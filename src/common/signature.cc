#include "common/signature.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

#include "common/assert.h"

namespace cmq {

SignatureAlgorithm SignatureAlgorithmFor(std::string_view signature_method) {
  return signature_method == "HmacSHA256" ? SignatureAlgorithm::kHmacSha256
                                          : SignatureAlgorithm::kHmacSha1;
}

std::string StringToSign(std::string_view method, std::string_view host, std::string_view path,
                         const FormParams& params, bool drop_at_values) {
  std::vector<const std::pair<std::string, std::string>*> sorted;
  sorted.reserve(params.size());
  for (const auto& p : params) {
    if (p.first == "Signature") continue;
    if (drop_at_values && !p.second.empty() && p.second[0] == '@') continue;
    sorted.push_back(&p);
  }
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto* a, const auto* b) { return a->first < b->first; });
  std::string out;
  out.append(method).append(host).append(path).push_back('?');
  bool first = true;
  for (const auto* p : sorted) {
    if (!first) out.push_back('&');
    first = false;
    std::string name = p->first;
    std::replace(name.begin(), name.end(), '_', '.');
    out += name;
    out.push_back('=');
    out += p->second;
  }
  return out;
}

std::string Sign(std::string_view string_to_sign, std::string_view secret_key,
                 SignatureAlgorithm algorithm) {
  const EVP_MD* md = algorithm == SignatureAlgorithm::kHmacSha256 ? EVP_sha256() : EVP_sha1();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  unsigned char* ok = HMAC(md, secret_key.data(), static_cast<int>(secret_key.size()),
                           reinterpret_cast<const unsigned char*>(string_to_sign.data()),
                           string_to_sign.size(), digest, &digest_len);
  CMQ_ASSERT(ok != nullptr, "HMAC failed");
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(digest), digest_len));
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string Base64Encode(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace cmq
