#pragma once
// The CMQ API 2.0 request signature (spec §4.2), shared by the server (verify) and our
// client (sign). String to sign: METHOD + host + path + '?' + the parameters except
// Signature, sorted by name (byte order), '_' in names replaced by '.', joined as
// name=value with raw (decoded) values. HMAC-SHA256 iff SignatureMethod is exactly
// "HmacSHA256", else HMAC-SHA1; the result is standard base64.

#include <string>
#include <string_view>

#include "common/url.h"

namespace cmq {

enum class SignatureAlgorithm { kHmacSha1, kHmacSha256 };

SignatureAlgorithm SignatureAlgorithmFor(std::string_view signature_method);

// drop_at_values: skip parameters whose value starts with '@' (what the Python and PHP
// SDKs do for POST).
std::string StringToSign(std::string_view method, std::string_view host, std::string_view path,
                         const FormParams& params, bool drop_at_values = false);

std::string Sign(std::string_view string_to_sign, std::string_view secret_key,
                 SignatureAlgorithm algorithm);

// Constant-time comparison for signatures.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

std::string Base64Encode(std::string_view in);

}  // namespace cmq
