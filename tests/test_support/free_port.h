#pragma once
// A loopback TCP port that was free a moment ago, for a server the test starts next. It is
// picked at random below the kernel's ephemeral range (32768-60999 by default): a port
// from that range (what binding port 0 gives) can be taken, between this check and the
// server's bind, by any outgoing connection of the tests running beside this one, and was
// (a cluster test's node failed to listen). Below it, only another test picking the same
// port at the same moment can collide. Shared by the transport unit tests and the
// integration tests.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <random>
#include <stdexcept>

namespace cmq::testing {

// True if a listening socket could bind 127.0.0.1:port now.
inline bool LoopbackPortIsFree(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));  // as the servers bind
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return free;
}

inline uint16_t FreeLoopbackPort() {
  static thread_local std::mt19937 rng(std::random_device{}());
  for (int attempt = 0; attempt < 10'000; ++attempt) {
    const auto port = static_cast<uint16_t>(20'000 + rng() % 12'000);
    if (LoopbackPortIsFree(port)) return port;
  }
  throw std::runtime_error("no free loopback port in 20000-31999");
}

}  // namespace cmq::testing
