#include "actors/scm/server_chain.hpp"

#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <fmt/format.h>

#include "actors/http/proxy_connect.hpp"
#include "crypto/openssl_types.hpp"
#include "crypto/pem.hpp"
#include "protocol/scm/installation_token.hpp"

namespace cbcs::actors {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

std::string describe(const beast::error_code& ec) {
  if (ec == beast::error::timeout) return "timed out";
  return ec.message();
}

std::string to_pem(X509* cert) {
  crypto::bio_ptr bio{BIO_new(BIO_s_mem())};
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return {};
  char* data = nullptr;
  auto n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

std::vector<std::string> fetch_server_chain(const std::string& host, std::uint16_t port,
                                            const proxy_settings& proxy,
                                            std::chrono::milliseconds timeout) {
  net::io_context ioc;
  ssl::context ctx{ssl::context::tls_client};
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  // Nothing is trusted on this connection: it only reads the chain, and
  // nothing is sent over it. The real connection verifies.
  ctx.set_verify_mode(ssl::verify_none);

  auto peer = proxy.enabled ? fmt::format("proxy {}:{}", proxy.host, proxy.port)
                            : fmt::format("{}:{}", host, port);
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  std::string error;
  bool completed = false;
  std::vector<std::string> chain;
  beast::flat_buffer buffer;
  http::request<http::empty_body> connect_req;
  http::response_parser<http::empty_body> connect_parser;
  connect_parser.skip(true);
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;

  auto handshake = [&] {
    tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(stream), ctx);
    if (!SSL_set_tlsext_host_name(tls->native_handle(), host.c_str())) {
      error = "tls: cannot set SNI";
      return;
    }
    tls->async_handshake(ssl::stream_base::client, [&](beast::error_code ec) {
      if (ec) {
        error = fmt::format("tls: handshake with {}:{} failed: {}", host, port, describe(ec));
        return;
      }
      completed = true;
      STACK_OF(X509)* certs = SSL_get_peer_cert_chain(tls->native_handle());
      for (int i = 0; certs && i < sk_X509_num(certs); ++i)
        chain.push_back(to_pem(sk_X509_value(certs, i)));
      beast::get_lowest_layer(*tls).close();
    });
  };

  resolver.async_resolve(
      proxy.enabled ? proxy.host : host, std::to_string(proxy.enabled ? proxy.port : port),
      [&](beast::error_code ec, tcp::resolver::results_type results) {
        if (ec) {
          error = fmt::format("cannot resolve {}: {}", peer, describe(ec));
          return;
        }
        stream.expires_after(timeout);
        stream.async_connect(results, [&](beast::error_code ec2, tcp::endpoint) {
          if (ec2) {
            error = fmt::format("cannot connect to {}: {}", peer, describe(ec2));
            return;
          }
          if (!proxy.enabled) return handshake();
          auto authority = tunnel_authority(host, std::to_string(port));
          connect_req = make_connect_request(authority, proxy);
          http::async_write(stream, connect_req, [&](beast::error_code ec3, std::size_t) {
            if (ec3) {
              error = fmt::format("proxy: cannot send CONNECT to {}: {}", peer, describe(ec3));
              return;
            }
            http::async_read_header(
                stream, buffer, connect_parser, [&](beast::error_code ec4, std::size_t) {
                  if (ec4) {
                    error =
                        fmt::format("proxy: bad reply from {} to CONNECT: {}", peer, describe(ec4));
                    return;
                  }
                  auto status = connect_parser.get().result_int();
                  auto verdict = classify_connect_reply(status);
                  if (verdict == connect_verdict::auth_failed) {
                    error = fmt::format("proxy-auth: proxy authentication failed at {} ({})", peer,
                                        status);
                    return;
                  }
                  if (verdict != connect_verdict::open) {
                    error = fmt::format("proxy: {} refused CONNECT to {} with status {}", peer,
                                        authority, status);
                    return;
                  }
                  handshake();
                });
          });
        });
      });
  ioc.run_for(timeout + std::chrono::seconds(1));
  if (!error.empty()) throw std::runtime_error(error);
  if (chain.empty() && !completed)
    throw std::runtime_error(fmt::format("cannot reach {}: timed out", peer));
  if (chain.empty())
    throw std::runtime_error(fmt::format("tls: {}:{} sent no certificate chain", host, port));
  return chain;
}

std::optional<std::string> fetch_pinned_certificate(const std::string& host, std::uint16_t port,
                                                    const proxy_settings& proxy,
                                                    const std::string& ca_sha256,
                                                    std::chrono::milliseconds timeout) {
  for (const auto& pem : fetch_server_chain(host, port, proxy, timeout)) {
    auto certs = crypto::parse_certificates(pem);
    unsigned char* der = nullptr;
    int n = i2d_X509(certs.front().get(), &der);
    if (n <= 0) continue;
    auto fp =
        protocol::scm::certificate_fingerprint(crypto::byte_view(der, static_cast<std::size_t>(n)));
    OPENSSL_free(der);
    if (fp == ca_sha256) return pem;
  }
  return std::nullopt;
}

}  // namespace cbcs::actors
