#include "actors/http/connection_probe.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <fmt/format.h>

#include "actors/http/proxy_connect.hpp"
#include "crypto/pem.hpp"

namespace cbcs::actors {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using clock_type = std::chrono::steady_clock;

struct target {
  bool tls = true;
  std::string host, port, path;
};

bool parse(const std::string& url, target& t) {
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    t.tls = false;
    rest.remove_prefix(7);
  } else {
    return false;
  }
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  t.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  auto colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    t.host = std::string(authority.substr(0, colon));
    t.port = std::string(authority.substr(colon + 1));
  } else {
    t.host = std::string(authority);
    t.port = t.tls ? "443" : "80";
  }
  if (t.host.starts_with('[')) t.host = t.host.substr(1, t.host.size() - 2);
  return !t.host.empty();
}

// Runs one asynchronous step to completion or timeout on a private loop.
class stepper {
 public:
  explicit stepper(std::chrono::milliseconds timeout) : timeout_(timeout) {}
  net::io_context& ioc() { return ioc_; }

  template <class Start>
  beast::error_code run(Start start) {
    beast::error_code result = net::error::would_block;
    ioc_.restart();
    start(result);
    ioc_.run_for(timeout_);
    if (result == net::error::would_block) {
      ioc_.stop();
      return beast::error::timeout;
    }
    return result;
  }

 private:
  net::io_context ioc_;
  std::chrono::milliseconds timeout_;
};

std::string text(const beast::error_code& ec) {
  return ec == beast::error::timeout ? std::string("timed out") : ec.message();
}

}  // namespace

probe_result probe_connection(const std::string& target_url, const proxy_settings& proxy,
                              const tls_settings& tls_cfg, std::chrono::milliseconds step_timeout) {
  probe_result out;
  auto started = clock_type::now();
  auto add = [&](std::string name, bool ok, std::string detail) {
    auto now = clock_type::now();
    out.steps.push_back({std::move(name), ok,
                         std::chrono::duration<double, std::milli>(now - started).count(),
                         std::move(detail)});
    started = now;
    return ok;
  };
  target t;
  if (!parse(target_url, t)) {
    add("target", false, "not an http(s) URL: " + target_url);
    return out;
  }
  stepper step(step_timeout);
  // As the HTTP client does: link-local targets never go through the proxy.
  bool via_proxy = proxy.enabled && !bypasses_proxy(t.host);
  auto connect_host = via_proxy ? proxy.host : t.host;
  auto connect_port = via_proxy ? std::to_string(proxy.port) : t.port;
  auto who = via_proxy ? "proxy " + connect_host : connect_host;

  tcp::resolver resolver(step.ioc());
  tcp::resolver::results_type endpoints;
  auto ec = step.run([&](beast::error_code& result) {
    resolver.async_resolve(connect_host, connect_port,
                           [&](beast::error_code e, tcp::resolver::results_type r) {
                             result = e;
                             endpoints = std::move(r);
                           });
  });
  if (!add("name resolution", !ec,
           ec ? fmt::format("cannot resolve {}: {}", who, text(ec))
              : fmt::format("{} -> {}", connect_host,
                            endpoints.begin()->endpoint().address().to_string())))
    return out;

  beast::tcp_stream stream(step.ioc());
  ec = step.run([&](beast::error_code& result) {
    stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { result = e; });
  });
  if (!add(via_proxy ? "TCP to proxy" : "TCP to target", !ec,
           ec ? fmt::format("cannot connect to {}:{}: {}", who, connect_port, text(ec))
              : fmt::format("connected to {}:{}", connect_host, connect_port)))
    return out;

  beast::flat_buffer buffer;
  if (via_proxy) {
    auto authority = tunnel_authority(t.host, t.port);
    auto req = make_connect_request(authority, proxy);
    http::response_parser<http::empty_body> parser;
    parser.skip(true);
    ec = step.run([&](beast::error_code& result) {
      http::async_write(stream, req, [&](beast::error_code e, std::size_t) {
        if (e) {
          result = e;
          return;
        }
        http::async_read_header(stream, buffer, parser,
                                [&](beast::error_code e2, std::size_t) { result = e2; });
      });
    });
    if (ec) {
      add("proxy CONNECT", false, "bad or no reply from the proxy: " + text(ec));
      return out;
    }
    auto status = parser.get().result_int();
    auto verdict = classify_connect_reply(status);
    if (verdict == connect_verdict::auth_failed) {
      add("proxy CONNECT", false,
          fmt::format("proxy authentication failed ({}): check -user and -password", status));
      return out;
    }
    if (verdict != connect_verdict::open) {
      add("proxy CONNECT", false,
          fmt::format("the proxy refused {} with status {}", authority, status));
      return out;
    }
    add("proxy CONNECT", true, fmt::format("tunnel to {} open (status {})", authority, status));
  }

  auto http_step = [&](auto& s) {
    http::request<http::empty_body> req{http::verb::get, t.path, 11};
    req.set(http::field::host, t.host);
    req.set(http::field::user_agent, "cbcs proxy test");
    http::response<http::string_body> res;
    ec = step.run([&](beast::error_code& result) {
      http::async_write(s, req, [&](beast::error_code e, std::size_t) {
        if (e) {
          result = e;
          return;
        }
        http::async_read(s, buffer, res, [&](beast::error_code e2, std::size_t) { result = e2; });
      });
    });
    if (!ec) out.server_date = std::string(res[http::field::date]);
    return add("HTTP reply", !ec,
               ec ? "no HTTP reply: " + text(ec) : fmt::format("HTTP {}", res.result_int()));
  };

  if (!t.tls) {
    out.ok = http_step(stream);
    return out;
  }
  ssl::context ctx(ssl::context::tls_client);
  ctx.set_verify_mode(ssl::verify_peer);
  if (tls_cfg.system_roots) ctx.set_default_verify_paths();
  if (!tls_cfg.extra_roots_pem.empty())
    ctx.add_certificate_authority(net::buffer(tls_cfg.extra_roots_pem));
  beast::ssl_stream<beast::tcp_stream> secure(std::move(stream), ctx);
  SSL_set_tlsext_host_name(secure.native_handle(), t.host.c_str());
  secure.set_verify_callback(ssl::host_name_verification(t.host));
  ec = step.run([&](beast::error_code& result) {
    secure.async_handshake(ssl::stream_base::client, [&](beast::error_code e) { result = e; });
  });
  std::string detail;
  if (X509* peer = SSL_get1_peer_certificate(secure.native_handle())) {
    detail = "certificate " + crypto::subject_line(peer);
    X509_free(peer);
  }
  if (ec) {
    long verify = SSL_get_verify_result(secure.native_handle());
    add("TLS handshake", false,
        fmt::format("{}{}{}", text(ec),
                    verify != X509_V_OK ? std::string(": ") + X509_verify_cert_error_string(verify)
                                        : std::string{},
                    detail.empty() ? "" : " (" + detail + ")"));
    return out;
  }
  add("TLS handshake", true, detail + ", host name verified");
  out.ok = http_step(secure);
  return out;
}

}  // namespace cbcs::actors
