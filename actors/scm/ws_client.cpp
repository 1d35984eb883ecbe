#include "actors/scm/ws_client.hpp"

#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <deque>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

#include "actors/http/proxy_connect.hpp"
#include "protocol/scm/installation_token.hpp"

namespace cbcs::actors {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

std::string describe(const beast::error_code& ec) {
  if (ec == beast::error::timeout) return "timed out";
  return ec.message();
}

class ws_impl final : public ws_connection, public std::enable_shared_from_this<ws_impl> {
 public:
  ws_impl(net::io_context& ioc, ws_settings settings, ws_events events, protocol::scm::endpoint ep)
      : ioc_(ioc),
        settings_(std::move(settings)),
        events_(std::move(events)),
        ep_(std::move(ep)),
        tls_(ssl::context::tls_client),
        resolver_(ioc) {
    auto* native = tls_.native_handle();
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    tls_.set_verify_mode(ssl::verify_peer);
    // Only the pinned SCM CA: no system roots.
    try {
      tls_.add_certificate_authority(net::buffer(settings_.trust_pem));
    } catch (const std::exception&) {
      throw std::invalid_argument("the pinned SCM CA certificate is unreadable");
    }
    try {
      tls_.use_certificate_chain(net::buffer(settings_.cert_chain_pem));
    } catch (const std::exception&) {
      throw std::invalid_argument("the client certificate is unreadable");
    }
    try {
      tls_.use_private_key(net::buffer(settings_.key_pem), ssl::context::pem);
    } catch (const std::exception&) {
      throw std::invalid_argument("the identity key is unreadable");
    }
  }

  void start() {
    auto self = shared_from_this();
    net::post(ioc_, [self] { self->resolve(); });
  }

  void send(std::string text) override {
    auto self = shared_from_this();
    net::post(ioc_, [self, text = std::move(text)]() mutable {
      if (self->done_ || !self->open_) return;
      self->queue_.push_back(std::move(text));
      if (self->queue_.size() == 1) self->write_next();
    });
  }

  void close() override {
    auto self = shared_from_this();
    net::post(ioc_, [self] {
      if (self->done_) return;
      self->closing_ = true;
      if (!self->open_) return self->finish("closed before the session was open");
      if (self->queue_.empty()) self->start_close();
    });
  }

  void abort() override {
    auto self = shared_from_this();
    net::post(ioc_, [self] { self->finish("dropped"); });
  }

 private:
  using ws_stream = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

  std::string peer() const {
    const auto& p = settings_.proxy;
    return p.enabled ? fmt::format("proxy {}:{}", p.host, p.port)
                     : fmt::format("{}:{}", ep_.host, ep_.port);
  }

  // Reports the end once and shuts the socket.
  void finish(std::string reason) {
    if (done_) return;
    done_ = true;
    open_ = false;
    beast::error_code ignored;
    if (ws_) {
      beast::get_lowest_layer(*ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
      beast::get_lowest_layer(*ws_).close();
    } else if (plain_) {
      plain_->socket().shutdown(tcp::socket::shutdown_both, ignored);
      plain_->close();
    }
    resolver_.cancel();
    if (events_.closed) events_.closed(std::move(reason));
  }

  void resolve() {
    if (done_) return;
    const auto& p = settings_.proxy;
    auto self = shared_from_this();
    resolver_.async_resolve(
        p.enabled ? p.host : ep_.host, std::to_string(p.enabled ? p.port : ep_.port),
        [self](beast::error_code ec, tcp::resolver::results_type results) {
          if (ec)
            return self->finish(fmt::format("cannot resolve {}: {}", self->peer(), describe(ec)));
          self->connect(results);
        });
  }

  void connect(const tcp::resolver::results_type& results) {
    if (done_) return;
    plain_.emplace(ioc_);
    plain_->expires_after(settings_.dial_timeout);
    auto self = shared_from_this();
    plain_->async_connect(results, [self](beast::error_code ec, tcp::endpoint) {
      if (ec)
        return self->finish(fmt::format("cannot connect to {}: {}", self->peer(), describe(ec)));
      // Frames are small and answered one by one: Nagle's algorithm against
      // the peer's delayed ACK would hold each for up to 40 ms.
      beast::error_code ignored;
      self->plain_->socket().set_option(tcp::no_delay(true), ignored);
      if (self->settings_.proxy.enabled) return self->write_connect();
      self->tls_handshake();
    });
  }

  void write_connect() {
    const auto& p = settings_.proxy;
    connect_req_ = make_connect_request(tunnel_authority(ep_.host, std::to_string(ep_.port)), p);
    auto self = shared_from_this();
    http::async_write(*plain_, connect_req_, [self](beast::error_code ec, std::size_t) {
      if (ec)
        return self->finish(
            fmt::format("proxy: cannot send CONNECT to {}: {}", self->peer(), describe(ec)));
      self->connect_parser_.emplace();
      self->connect_parser_->skip(true);
      http::async_read_header(
          *self->plain_, self->buffer_, *self->connect_parser_,
          [self](beast::error_code ec2, std::size_t) {
            if (ec2)
              return self->finish(fmt::format("proxy: bad reply from {} to CONNECT: {}",
                                              self->peer(), describe(ec2)));
            auto status = self->connect_parser_->get().result_int();
            auto verdict = classify_connect_reply(status);
            if (verdict == connect_verdict::auth_failed)
              return self->finish(fmt::format("proxy-auth: proxy authentication failed at {} ({})",
                                              self->peer(), status));
            if (verdict != connect_verdict::open)
              return self->finish(
                  fmt::format("proxy: {} refused CONNECT with status {}", self->peer(), status));
            self->buffer_.clear();
            self->tls_handshake();
          });
    });
  }

  void tls_handshake() {
    if (done_) return;
    ws_.emplace(std::move(*plain_), tls_);
    plain_.reset();
    auto& tls_stream = ws_->next_layer();
    if (!SSL_set_tlsext_host_name(tls_stream.native_handle(), ep_.host.c_str()))
      return finish("tls: cannot set SNI");
    tls_stream.set_verify_callback(ssl::host_name_verification(ep_.host));
    auto self = shared_from_this();
    tls_stream.async_handshake(ssl::stream_base::client, [self](beast::error_code ec) {
      if (ec)
        return self->finish(fmt::format("tls: handshake with {}:{} failed: {}", self->ep_.host,
                                        self->ep_.port, describe(ec)));
      self->ws_handshake();
    });
  }

  void ws_handshake() {
    if (done_) return;
    // The TCP deadline still covers the upgrade; the websocket's own
    // timeouts take over after it (no idle timeout: the session detects a
    // dead link from heartbeats itself).
    websocket::stream_base::timeout t{};
    t.handshake_timeout = settings_.dial_timeout;
    t.idle_timeout = websocket::stream_base::none();
    t.keep_alive_pings = false;
    ws_->set_option(t);
    ws_->read_message_max(0);  // we bound frames ourselves, to answer too_large
    ws_->auto_fragment(false);
    bool default_port = ep_.port == 443;
    auto host = ep_.host.find(':') != std::string::npos ? "[" + ep_.host + "]" : ep_.host;
    if (!default_port) host += fmt::format(":{}", ep_.port);
    auto self = shared_from_this();
    ws_->async_handshake(upgrade_answer_, host, ep_.target, [self](beast::error_code ec) {
      if (ec == websocket::error::upgrade_declined) return self->finish(self->declined());
      if (ec)
        return self->finish(
            fmt::format("websocket upgrade at {} failed: {}", self->ep_.host, describe(ec)));
      beast::get_lowest_layer(*self->ws_).expires_never();
      self->ws_->text(true);
      self->open_ = true;
      if (self->events_.opened) self->events_.opened();
      self->read_next();
      if (self->closing_ && self->queue_.empty()) self->start_close();
    });
  }

  // SCM answered the upgrade with a plain HTTP status: say which, with the
  // first line of its body, and what the operator can do about a refused
  // identity (expired or revoked at SCM's side).
  std::string declined() const {
    auto status = upgrade_answer_.result_int();
    std::string body = upgrade_answer_.body().substr(0, 200);
    if (auto nl = body.find_first_of("\r\n"); nl != std::string::npos) body.resize(nl);
    std::erase_if(body, [](unsigned char c) { return c < 0x20 || c > 0x7e; });
    auto line = fmt::format("SCM at {} declined the session: HTTP {} {}{}", ep_.host, status,
                            std::string(upgrade_answer_.reason()),
                            body.empty() ? "" : " (" + body + ")");
    if (status == 401 || status == 403)
      line +=
          "; SCM no longer accepts this connector's identity (expired or revoked there): get a "
          "restore token from SCM and run cbcs register -token T -force";
    return line;
  }

  void read_next() {
    if (done_) return;
    auto self = shared_from_this();
    ws_->async_read_some(frame_, 64 * 1024,
                         [self](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (done_) return;
    if (ec == websocket::error::closed) return finish("SCM closed the session");
    if (ec) return finish(fmt::format("session read failed: {}", describe(ec)));
    if (frame_.size() > settings_.max_frame_bytes) {
      discarding_ = true;  // keep reading to the end of the message, keep nothing
      frame_.clear();
    }
    if (ws_->is_message_done()) {
      bool binary = ws_->got_binary();
      if (discarding_) {
        discarding_ = false;
        if (events_.frame) events_.frame({}, ws_frame_kind::too_large);
      } else {
        std::string text = beast::buffers_to_string(frame_.data());
        if (events_.frame)
          events_.frame(std::move(text), binary ? ws_frame_kind::binary : ws_frame_kind::text);
      }
      frame_.clear();
    }
    read_next();
  }

  void write_next() {
    if (done_ || queue_.empty()) return;
    auto self = shared_from_this();
    ws_->async_write(net::buffer(queue_.front()), [self](beast::error_code ec, std::size_t) {
      if (ec) return self->finish(fmt::format("session write failed: {}", describe(ec)));
      self->queue_.pop_front();
      if (!self->queue_.empty()) return self->write_next();
      if (self->closing_) self->start_close();
    });
  }

  void start_close() {
    if (done_ || close_started_) return;
    close_started_ = true;
    // A peer that never answers the close must not hold us.
    beast::get_lowest_layer(*ws_).expires_after(std::chrono::seconds(5));
    auto self = shared_from_this();
    ws_->async_close(websocket::close_code::normal,
                     [self](beast::error_code) { self->finish("closed"); });
  }

  net::io_context& ioc_;
  ws_settings settings_;
  ws_events events_;
  protocol::scm::endpoint ep_;
  ssl::context tls_;
  tcp::resolver resolver_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<ws_stream> ws_;
  beast::flat_buffer buffer_;
  beast::flat_buffer frame_;
  websocket::response_type upgrade_answer_;
  http::request<http::empty_body> connect_req_;
  std::optional<http::response_parser<http::empty_body>> connect_parser_;
  std::deque<std::string> queue_;
  bool open_ = false;
  bool done_ = false;
  bool closing_ = false;
  bool close_started_ = false;
  bool discarding_ = false;
};

}  // namespace

std::shared_ptr<ws_connection> ws_connection::dial(const std::shared_ptr<io_runner>& runner,
                                                   ws_settings settings, ws_events events) {
  auto ep = protocol::scm::parse_endpoint(settings.url);
  if (!ep || ep->scheme != "wss")
    throw std::invalid_argument("the session URL is not a wss:// URL");
  auto conn = std::make_shared<ws_impl>(io_context_of(*runner), std::move(settings),
                                        std::move(events), std::move(*ep));
  conn->start();
  return conn;
}

}  // namespace cbcs::actors
