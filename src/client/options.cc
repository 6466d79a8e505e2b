#include "client/options.h"

namespace cmq::client {

std::string Error::ToString() const {
  switch (kind) {
    case Kind::kServer: {
      std::string s = "error " + std::to_string(code) + ": " + message;
      if (!request_id.empty()) s += " (requestId " + request_id + ")";
      return s;
    }
    case Kind::kTransport:
      return "transport error: " + message;
    case Kind::kProtocol:
      return "protocol error: " + message;
  }
  return message;
}

Result<Endpoint> ParseEndpoint(const std::string& endpoint) {
  std::string_view rest = endpoint;
  Endpoint out;
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
    out.tls = true;
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  }
  while (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.empty() || rest.find('/') != std::string_view::npos) {
    return Error::Transport("bad endpoint (want http://host:port or https://host:port): " +
                            endpoint);
  }
  out.host_header = std::string(rest);
  std::string_view host = rest;
  std::string_view port;
  if (rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return Error::Transport("bad endpoint: " + endpoint);
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Error::Transport("bad endpoint: " + endpoint);
      port = after.substr(1);
    }
  } else if (size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty()) return Error::Transport("bad endpoint (no host): " + endpoint);
  if (port.empty()) port = out.tls ? "443" : "80";
  for (char c : port) {
    if (c < '0' || c > '9') return Error::Transport("bad endpoint port: " + endpoint);
  }
  out.host = std::string(host);
  out.port = std::string(port);
  return out;
}

}  // namespace cmq::client
