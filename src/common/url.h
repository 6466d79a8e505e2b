#pragma once
// application/x-www-form-urlencoded, as CMQ clients send it (spec §3): '+' or %20 for a
// space, %XX for any byte. Decoding is strict: a '%' not followed by two hex digits fails.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cmq {

// Percent-encodes everything but unreserved characters (A-Z a-z 0-9 - _ . ~); space as %20.
std::string UrlEncode(std::string_view in);
// Decodes %XX and '+'; nullopt on a malformed escape.
std::optional<std::string> UrlDecode(std::string_view in);

using FormParams = std::vector<std::pair<std::string, std::string>>;
// Splits "a=1&b=2" and decodes names and values, in order (duplicates kept; the caller
// decides). Empty pieces ("a=1&&b=2") are skipped; a piece without '=' has an empty value.
// nullopt on a malformed escape.
std::optional<FormParams> ParseForm(std::string_view body);
// The inverse, for clients: name=value pairs joined by '&', both encoded.
std::string EncodeForm(const FormParams& params);

}  // namespace cmq
