// RawClient: a plain TCP connection to a test server on loopback, for what
// an HTTP client library will not send: a header promising a huge body, a
// request trickled slowly, a connection held open without a request. Reads
// time out after `read_timeout`, so a test never hangs.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <string_view>

namespace mozaiek::test {

class RawClient {
 public:
  explicit RawClient(int port, std::chrono::milliseconds read_timeout = std::chrono::seconds(10)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(read_timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((read_timeout.count() % 1000) * 1000);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }

  bool send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads until the server closes the connection (or the read times out:
  // then timed_out() is true).
  std::string read_until_closed() {
    std::string out;
    char buf[4096];
    while (true) {
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n > 0) {
        out.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      timed_out_ = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
      return out;
    }
  }

  // Reads until `text` has arrived, the server closes or the read times out;
  // returns what arrived.
  std::string read_until(std::string_view text) {
    std::string out;
    char buf[4096];
    while (out.find(text) == std::string::npos) {
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }

  bool timed_out() const { return timed_out_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool timed_out_ = false;
};

}  // namespace mozaiek::test
