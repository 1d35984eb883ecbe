#pragma once
// An accept loop on 127.0.0.1 for the simulators' servers (Asio: include it
// only from a server's .cpp).

#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <functional>
#include <memory>

namespace cbcs::sim {

class tcp_listener : public std::enable_shared_from_this<tcp_listener> {
 public:
  using socket = boost::asio::ip::tcp::socket;
  using on_socket = std::function<void(socket&&)>;

  // Binds now (port 0: any free port); throws on bind errors.
  tcp_listener(boost::asio::io_context& ioc, std::uint16_t port, on_socket handler)
      : acceptor_(ioc), handler_(std::move(handler)) {
    boost::asio::ip::tcp::endpoint at(boost::asio::ip::make_address("127.0.0.1"), port);
    acceptor_.open(at.protocol());
    acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
    acceptor_.bind(at);
    acceptor_.listen(boost::asio::socket_base::max_listen_connections);
  }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void run() { do_accept(); }
  void stop() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }

 private:
  void do_accept() {
    acceptor_.async_accept([self = shared_from_this()](boost::system::error_code ec, socket s) {
      if (ec == boost::asio::error::operation_aborted) return;
      if (!ec) {
        boost::system::error_code ignored;
        s.set_option(boost::asio::ip::tcp::no_delay(true), ignored);  // small answers, at once
        self->handler_(std::move(s));
      }
      self->do_accept();
    });
  }

  boost::asio::ip::tcp::acceptor acceptor_;
  on_socket handler_;
};

}  // namespace cbcs::sim
