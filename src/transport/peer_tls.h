#pragma once
// Mutual TLS between nodes (docs/transport.md "TLS"). One context serves both ends of every
// connection: it shows this node's certificate and accepts only a peer whose certificate
// the cluster's authority signed. Host names are not checked: a certificate from the
// cluster's authority is what makes a node a member (the transport handshake then checks
// the cluster id and node ids, as without TLS).

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "common/result.h"

namespace cmq::transport {

struct PeerTlsFiles {
  std::string cert_file;  // this node's certificate chain (PEM)
  std::string key_file;   // its private key (PEM)
  std::string ca_file;    // the authority (or authorities) that signs the nodes' certificates
  bool enabled() const { return !cert_file.empty() || !key_file.empty() || !ca_file.empty(); }
};

// TLS 1.2 or 1.3, peer verification required in both directions. kInvalidArgument naming
// the file when one is missing, unreadable, or the key is not the certificate's; also when
// only some of the three files are given.
Result<std::shared_ptr<boost::asio::ssl::context>> MakePeerTlsContext(const PeerTlsFiles& files);

}  // namespace cmq::transport
