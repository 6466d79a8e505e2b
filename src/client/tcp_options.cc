#include "client/tcp_options.h"

namespace cmq::client {

TcpOptions TcpOptionsFrom(const ClientOptions& options, std::string address) {
  TcpOptions o;
  o.address = std::move(address);
  o.secret_id = options.secret_id;
  o.secret_key = options.secret_key;
  o.signature_method = options.signature_method;
  o.connect_timeout = options.connect_timeout;
  o.request_timeout = options.request_timeout;
  return o;
}

Result<Endpoint> ParseTcpAddress(const std::string& address) {
  if (address.find("://") != std::string::npos) {
    return Error::Transport("bad TCP address (want host:port, no scheme): " + address);
  }
  // ParseEndpoint splits host and port the same way, but defaults the port to 80.
  auto ep = ParseEndpoint(address);
  if (!ep.ok()) return ep.error();
  if (!ep->host_header.ends_with(":" + ep->port)) {
    return Error::Transport("bad TCP address (no port): " + address);
  }
  return ep;
}

}  // namespace cmq::client
