#pragma once

// Loopback ports for processes the tests start (broker, identity provider,
// `mozaiek run`). Ports come from below the kernel's ephemeral range
// (32768-60999 on Linux), so an outgoing connection of another process can
// never take one between the check here and the child's bind; a random
// start keeps parallel test processes apart.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <random>

namespace mozaiek::test {

// True when 127.0.0.1:port can be bound right now.
inline bool loopback_port_free(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// A port p such that p .. p+span-1 are all free right now; 0 if none found.
inline int free_loopback_ports(int span = 1) {
  constexpr int kLow = 20000;
  constexpr int kHigh = 32700;  // below the ephemeral range
  static thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_int_distribution<int> pick(kLow, kHigh - span);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int p = pick(rng);
    bool all = true;
    for (int i = 0; i < span && all; ++i) all = loopback_port_free(p + i);
    if (all) return p;
  }
  return 0;
}

}  // namespace mozaiek::test
