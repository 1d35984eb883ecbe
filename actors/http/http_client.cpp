#include "actors/http/http_client.hpp"

#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <charconv>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <thread>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "actors/http/proxy_connect.hpp"
#include "crypto/pem.hpp"

namespace cbcs::actors {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
namespace ca = protocol::ca;

namespace {
thread_local io_runner* this_thread_runner = nullptr;
}  // namespace

class io_runner {
 public:
  io_runner()
      : work_(net::make_work_guard(ioc_)), thread_([this] {
          this_thread_runner = this;
          ioc_.run();
        }) {}
  ~io_runner() {
    work_.reset();
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
  }
  net::io_context& context() { return ioc_; }

 private:
  net::io_context ioc_;
  net::executor_work_guard<net::io_context::executor_type> work_;
  std::thread thread_;
};

std::shared_ptr<io_runner> make_io_runner() { return std::make_shared<io_runner>(); }
net::io_context& io_context_of(io_runner& runner) { return runner.context(); }
void post_to(io_runner& runner, std::function<void()> fn) {
  net::post(runner.context(), std::move(fn));
}
io_runner* current_io_runner() { return this_thread_runner; }

bool bypasses_proxy(std::string_view host) {
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  beast::error_code not_an_address;
  auto address = net::ip::make_address(std::string(host), not_an_address);
  if (not_an_address) return false;
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    address = net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6());
  if (address.is_v4()) return (address.to_v4().to_uint() >> 16) == 0xA9FE;  // 169.254.0.0/16
  auto v6 = address.to_v6();
  return v6.is_link_local() || v6 == net::ip::make_address_v6("fd00:ec2::254");
}

namespace {

struct parsed_url {
  bool tls = true;
  std::string host;  // without brackets
  std::string port;
  std::string target;
};

// Only what CA APIs use: scheme, host (name, IPv4 or [IPv6]), port, path+query.
bool parse_url(const std::string& url, parsed_url& out) {
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    out.tls = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    out.tls = false;
    rest.remove_prefix(7);
  } else {
    return false;
  }
  auto slash = rest.find_first_of("/?");
  auto authority = rest.substr(0, slash);
  out.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (out.target.front() == '?') out.target.insert(out.target.begin(), '/');
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return false;
    out.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (authority.starts_with(':')) out.port = std::string(authority.substr(1));
  } else {
    auto colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) out.port = std::string(authority.substr(colon + 1));
  }
  if (out.port.empty()) out.port = out.tls ? "443" : "80";
  return !out.host.empty() && out.port.find_first_not_of("0123456789") == std::string::npos;
}

std::string host_header(const parsed_url& u) {
  bool v6 = u.host.find(':') != std::string::npos;
  auto host = v6 ? "[" + u.host + "]" : u.host;
  bool default_port = (u.tls && u.port == "443") || (!u.tls && u.port == "80");
  return default_port ? host : host + ":" + u.port;
}

struct connection {
  // Exactly one is set: a plain stream, or TLS over it.
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
  std::chrono::steady_clock::time_point idle_since;

  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
};

std::string describe(const beast::error_code& ec) {
  if (ec == beast::error::timeout) return "timed out";
  return ec.message();
}

// An alert from the server about our certificate (or the lack of one). With
// TLS 1.3 it comes after the handshake, on the first read.
bool client_certificate_alert(const beast::error_code& ec) {
  if (ec.category() != net::error::get_ssl_category()) return false;
  switch (ERR_GET_REASON(static_cast<unsigned long>(ec.value()))) {
    case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
      return true;
    default:
      return false;
  }
}

}  // namespace

struct http_client::impl : std::enable_shared_from_this<http_client::impl> {
  // Not owned: in-flight exchanges keep impl alive on the I/O thread, and the
  // runner must never be destroyed there (it joins that thread). The client
  // object holds the strong reference.
  io_runner* runner = nullptr;
  http_client_settings settings;
  ssl::context tls{ssl::context::tls_client};
  std::string client_subject;        // of the client certificate, for messages
  bool system_roots_loaded = false;  // I/O thread only
  std::map<std::string, std::vector<std::unique_ptr<connection>>> idle;  // I/O thread only

  // The system bundle costs 25-40 ms to parse: only for the first TLS peer,
  // never for plain-HTTP endpoints (simulators, moto).
  void load_system_roots() {
    if (system_roots_loaded || !settings.tls.system_roots) return;
    system_roots_loaded = true;
    boost::system::error_code ignored;
    tls.set_default_verify_paths(ignored);
  }
  std::atomic<std::size_t> opened{0}, reused{0};

  std::unique_ptr<connection> take_idle(const std::string& key) {
    auto it = idle.find(key);
    if (it == idle.end()) return nullptr;
    auto now = std::chrono::steady_clock::now();
    while (!it->second.empty()) {
      auto c = std::move(it->second.back());
      it->second.pop_back();
      if (now - c->idle_since < settings.idle_timeout) return c;
    }
    return nullptr;
  }

  void give_back(const std::string& key, std::unique_ptr<connection> c) {
    c->idle_since = std::chrono::steady_clock::now();
    c->lowest().expires_never();
    auto& list = idle[key];
    if (list.size() < settings.max_connections) list.push_back(std::move(c));
  }

  // The bound on connections per host (settings.max_connections): an
  // exchange holds a slot from before it takes or dials a connection until
  // it has given it back or dropped it; idle connections count too.
  std::map<std::string, std::size_t> busy;                           // I/O thread only
  std::map<std::string, std::deque<std::function<void()>>> waiting;  // I/O thread only

  // A slot for one more exchange to key, or false (then `resume` runs once
  // one comes free). A placement needs a fresh connection: it closes an
  // idle one to make room.
  bool take_slot(const std::string& key, bool fresh, std::function<void()> resume) {
    auto& idle_list = idle[key];
    auto& in_use = busy[key];
    if (in_use + idle_list.size() >= std::max<std::size_t>(settings.max_connections, 1)) {
      if (idle_list.empty() || !fresh) {
        if (idle_list.empty()) {
          waiting[key].push_back(std::move(resume));
          return false;
        }
      } else {
        idle_list.erase(idle_list.begin());  // the oldest: closed
      }
    }
    ++in_use;
    return true;
  }

  void release_slot(const std::string& key) {
    if (auto it = busy.find(key); it != busy.end() && it->second > 0) --it->second;
    auto w = waiting.find(key);
    if (w == waiting.end() || w->second.empty()) return;
    auto next = std::move(w->second.front());
    w->second.pop_front();
    net::post(runner->context(), std::move(next));  // not inside the caller's handler
  }
};

namespace {

// One request/response. Each step is an on_* handler that opens with its
// error check; timeouts sit on the lowest layer (the TCP stream).
class exchange : public std::enable_shared_from_this<exchange> {
 public:
  exchange(std::shared_ptr<http_client::impl> client, parsed_url url, ca::http_request request,
           ca::transport::completion done)
      : client_(std::move(client)),
        url_(std::move(url)),
        request_(std::move(request)),
        done_(std::move(done)),
        resolver_(client_->runner->context()),
        via_proxy_(client_->settings.proxy.enabled && !bypasses_proxy(url_.host)) {}

  ~exchange() { release_slot(); }

  void run(bool allow_reuse = true) {
    if (!has_slot_) {
      auto self = shared_from_this();
      if (!client_->take_slot(pool_key(), request_.placement || !allow_reuse,
                              [self, allow_reuse] { self->run(allow_reuse); }))
        return;  // runs again when a connection to this host comes free
      has_slot_ = true;
    }
    // A placement (a CA without idempotency keys) goes on a fresh connection:
    // a pooled one the server closed meanwhile would fail after the write,
    // and a placement is never written twice (its answer lost is a
    // placement in doubt, resolved by the driver's lookup).
    if (allow_reuse && !request_.placement) conn_ = client_->take_idle(pool_key());
    if (conn_) {
      reused_ = true;
      ++client_->reused;
      return write_request();
    }
    reused_ = false;
    const auto& proxy = client_->settings.proxy;
    auto host = via_proxy_ ? proxy.host : url_.host;
    auto port = via_proxy_ ? std::to_string(proxy.port) : url_.port;
    // An address needs no resolver (and its thread hop).
    beast::error_code not_an_address;
    auto address = net::ip::make_address(host, not_an_address);
    unsigned short port_number = 0;
    auto [end, parse_error] = std::from_chars(port.data(), port.data() + port.size(), port_number);
    if (!not_an_address && parse_error == std::errc{} && end == port.data() + port.size())
      return on_resolve(
          {}, tcp::resolver::results_type::create(tcp::endpoint(address, port_number), host, port));
    resolver_.async_resolve(host, port,
                            beast::bind_front_handler(&exchange::on_resolve, shared_from_this()));
  }

 private:
  std::string pool_key() const {
    return fmt::format("{}://{}:{}", url_.tls ? "https" : "http", url_.host, url_.port);
  }

  std::string peer() const {
    const auto& proxy = client_->settings.proxy;
    return via_proxy_ ? fmt::format("proxy {}:{}", proxy.host, proxy.port)
                      : fmt::format("{}:{}", url_.host, url_.port);
  }

  void fail(std::string message, ca::transport_failure kind = ca::transport_failure::network) {
    if (conn_) {
      beast::error_code ignored;
      conn_->lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
      conn_.reset();
    }
    release_slot();
    if (done_) std::exchange(done_, nullptr)(ca::http_response{}, {kind, std::move(message)});
  }

  void release_slot() {
    if (!has_slot_) return;
    has_slot_ = false;
    client_->release_slot(pool_key());
  }

  // The server's verdict on our client certificate, naming it (never the key).
  void fail_client_certificate(const beast::error_code& ec) {
    const auto& subject = client_->client_subject;
    fail(subject.empty()
             ? fmt::format("{}:{} requires a client certificate and none is configured: {}",
                           url_.host, url_.port, describe(ec))
             : fmt::format("{}:{} refused the client certificate {}: {}", url_.host, url_.port,
                           subject, describe(ec)),
         ca::transport_failure::client_certificate_refused);
  }

  void on_resolve(beast::error_code ec, tcp::resolver::results_type results) {
    if (ec) return fail(fmt::format("cannot resolve {}: {}", peer(), describe(ec)));
    conn_ = std::make_unique<connection>();
    conn_->plain = std::make_unique<beast::tcp_stream>(client_->runner->context());
    conn_->plain->expires_after(client_->settings.connect_timeout);
    conn_->plain->async_connect(
        results, beast::bind_front_handler(&exchange::on_connect, shared_from_this()));
  }

  void on_connect(beast::error_code ec, tcp::endpoint) {
    if (ec) return fail(fmt::format("cannot connect to {}: {}", peer(), describe(ec)));
    ++client_->opened;
    // Requests are written in pieces (headers, body): without this, Nagle's
    // algorithm and the server's delayed ACK add up to 40 ms to each.
    beast::error_code ignored;
    conn_->plain->socket().set_option(tcp::no_delay(true), ignored);
    if (via_proxy_) return write_connect();
    after_tunnel();
  }

  // HTTP CONNECT: the proxy only relays bytes; TLS runs end to end inside.
  void write_connect() {
    connect_request_ =
        make_connect_request(tunnel_authority(url_.host, url_.port), client_->settings.proxy);
    http::async_write(*conn_->plain, connect_request_,
                      beast::bind_front_handler(&exchange::on_connect_written, shared_from_this()));
  }

  void on_connect_written(beast::error_code ec, std::size_t) {
    if (ec) return fail(fmt::format("proxy: cannot send CONNECT to {}: {}", peer(), describe(ec)));
    connect_parser_.emplace();
    connect_parser_->skip(true);  // a 2xx reply to CONNECT has no body
    http::async_read_header(
        *conn_->plain, buffer_, *connect_parser_,
        beast::bind_front_handler(&exchange::on_connect_reply, shared_from_this()));
  }

  void on_connect_reply(beast::error_code ec, std::size_t) {
    if (ec)
      return fail(fmt::format("proxy: bad reply from {} to CONNECT: {}", peer(), describe(ec)));
    auto status = connect_parser_->get().result_int();
    auto verdict = classify_connect_reply(status);
    if (verdict == connect_verdict::auth_failed)
      return fail(fmt::format("proxy authentication failed at {} ({})", peer(), status),
                  ca::transport_failure::proxy_auth);
    if (verdict == connect_verdict::refused_for_good)
      return fail(fmt::format("proxy: {} refused CONNECT to {}:{} with status {} (the proxy's "
                              "rules: asking again gets the same answer)",
                              peer(), url_.host, url_.port, status),
                  ca::transport_failure::proxy_refused);
    if (verdict == connect_verdict::refused)
      return fail(fmt::format("proxy: {} refused CONNECT to {}:{} with status {}", peer(),
                              url_.host, url_.port, status));
    after_tunnel();
  }

  void after_tunnel() {
    if (!url_.tls) return write_request();
    client_->load_system_roots();
    auto& plain = *conn_->plain;
    conn_->secure =
        std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(plain), client_->tls);
    conn_->plain.reset();
    // SNI, and a certificate that must name the host we asked for.
    if (!SSL_set_tlsext_host_name(conn_->secure->native_handle(), url_.host.c_str()))
      return fail("tls: cannot set SNI", ca::transport_failure::tls);
    conn_->secure->set_verify_callback(ssl::host_name_verification(url_.host));
    conn_->lowest().expires_after(client_->settings.connect_timeout);
    conn_->secure->async_handshake(
        ssl::stream_base::client,
        beast::bind_front_handler(&exchange::on_handshake, shared_from_this()));
  }

  void on_handshake(beast::error_code ec) {
    if (ec && client_certificate_alert(ec)) return fail_client_certificate(ec);
    // What OpenSSL refused (the certificate, the protocol) is configuration;
    // a connection reset, closed or timed out mid-handshake (a proxy
    // restarting, a CA's load balancer) is the network's, retried as a
    // failed connect is.
    if (ec)
      return fail(
          fmt::format("tls: handshake with {}:{} failed: {}", url_.host, url_.port, describe(ec)),
          ec.category() == net::error::get_ssl_category() ? ca::transport_failure::tls
                                                          : ca::transport_failure::network);
    write_request();
  }

  void write_request() {
    auto verb = http::string_to_verb(request_.method);
    if (verb == http::verb::unknown) return fail("bad HTTP method " + request_.method);
    req_ = {verb, url_.target, 11};
    bool has_host = false;
    for (const auto& h : request_.headers) {
      if (beast::iequals(h.name, "host")) has_host = true;
      req_.set(h.name, h.value);
    }
    if (!has_host) req_.set(http::field::host, host_header(url_));
    req_.keep_alive(true);
    req_.body() = request_.body;
    req_.prepare_payload();
    conn_->lowest().expires_after(client_->settings.request_timeout);
    auto on_written = beast::bind_front_handler(&exchange::on_written, shared_from_this());
    if (conn_->secure)
      http::async_write(*conn_->secure, req_, std::move(on_written));
    else
      http::async_write(*conn_->plain, req_, std::move(on_written));
  }

  void on_written(beast::error_code ec, std::size_t) {
    if (ec && client_certificate_alert(ec)) return fail_client_certificate(ec);
    if (ec) return retry_or_fail(fmt::format("cannot send to {}: {}", url_.host, describe(ec)));
    parser_.emplace();
    parser_->body_limit(client_->settings.max_body_bytes);
    // Beast reads 512 bytes at first, then grows: room for a typical CA answer
    // makes it one read instead of four.
    buffer_.reserve(16 * 1024);
    auto on_read = beast::bind_front_handler(&exchange::on_read, shared_from_this());
    if (conn_->secure)
      http::async_read(*conn_->secure, buffer_, *parser_, std::move(on_read));
    else
      http::async_read(*conn_->plain, buffer_, *parser_, std::move(on_read));
  }

  // A pooled connection the server already closed fails at once: try once
  // more on a fresh one before calling it a network error.
  void retry_or_fail(std::string message) {
    if (reused_) {
      conn_.reset();
      buffer_.clear();
      return run(false);
    }
    fail(std::move(message));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::body_limit)
      return fail(fmt::format("reply from {} is larger than {} bytes", url_.host,
                              client_->settings.max_body_bytes));
    if (ec && client_certificate_alert(ec)) return fail_client_certificate(ec);
    if (ec) return retry_or_fail(fmt::format("no reply from {}: {}", url_.host, describe(ec)));
    auto& res = parser_->get();
    ca::http_response out;
    out.status = res.result_int();
    for (const auto& field : res)
      out.headers.push_back({std::string(field.name_string()), std::string(field.value())});
    out.body = std::move(res.body());
    if (res.keep_alive()) client_->give_back(pool_key(), std::move(conn_));
    conn_.reset();  // not kept alive: closed now, its slot free
    release_slot();
    if (done_) std::exchange(done_, nullptr)(std::move(out), {});
  }

  std::shared_ptr<http_client::impl> client_;
  parsed_url url_;
  ca::http_request request_;
  ca::transport::completion done_;
  tcp::resolver resolver_;
  bool via_proxy_;  // through the CONNECT proxy; fixed for the exchange
  std::unique_ptr<connection> conn_;
  bool has_slot_ = false;  // counts against max_connections (take_slot)
  bool reused_ = false;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  std::optional<http::response_parser<http::string_body>> parser_;
  http::request<http::empty_body> connect_request_;
  std::optional<http::response_parser<http::empty_body>> connect_parser_;
};

}  // namespace

http_client::http_client(std::shared_ptr<io_runner> runner, http_client_settings settings)
    : impl_(std::make_shared<impl>()) {
  runner_ = std::move(runner);
  impl_->runner = runner_.get();
  impl_->settings = std::move(settings);
  auto& ctx = impl_->tls;
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  ctx.set_verify_mode(ssl::verify_peer);
  const auto& t = impl_->settings.tls;
  if (!t.extra_roots_pem.empty()) ctx.add_certificate_authority(net::buffer(t.extra_roots_pem));
  if (!t.client_cert_pem.empty()) {
    ctx.use_certificate_chain(net::buffer(t.client_cert_pem));
    ctx.use_private_key(net::buffer(t.client_key_pem), ssl::context::pem);
    impl_->client_subject =
        crypto::subject_line(crypto::parse_certificates(t.client_cert_pem).front().get());
  }
}

http_client::~http_client() = default;

void http_client::send(const ca::http_request& request, completion done) {
  parsed_url url;
  if (!parse_url(request.url, url)) {
    done({}, {ca::transport_failure::network, "bad URL: " + request.url});
    return;
  }
  auto ex = std::make_shared<exchange>(impl_, std::move(url), request, std::move(done));
  net::post(impl_->runner->context(), [ex] { ex->run(); });
}

std::size_t http_client::connections_opened() const { return impl_->opened; }
std::size_t http_client::connections_reused() const { return impl_->reused; }

}  // namespace cbcs::actors
