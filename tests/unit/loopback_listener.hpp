#pragma once
// A listening TCP socket on 127.0.0.1, on a port the system chose (no race
// between choosing a port and binding it), for the little servers of the
// HTTP client's tests. POSIX only.

#include <netinet/in.h>
#include <sys/socket.h>

#include <doctest/doctest.h>

namespace cbcs::test {

// The listening socket; its port in `port`.
inline int listen_on_loopback(int& port, int backlog) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  REQUIRE(::listen(fd, backlog) == 0);
  return fd;
}

}  // namespace cbcs::test
