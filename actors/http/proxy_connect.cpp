#include "actors/http/proxy_connect.hpp"

#include "crypto/base64.hpp"

namespace cbcs::actors {

namespace http = boost::beast::http;

std::string tunnel_authority(const std::string& host, const std::string& port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + port;
}

http::request<http::empty_body> make_connect_request(const std::string& authority,
                                                     const proxy_settings& proxy) {
  http::request<http::empty_body> req{http::verb::connect, authority, 11};
  req.set(http::field::host, authority);
  if (!proxy.user.empty())
    req.set(http::field::proxy_authorization,
            "Basic " + crypto::base64_encode(crypto::as_bytes(proxy.user + ":" + proxy.password)));
  return req;
}

connect_verdict classify_connect_reply(unsigned status) {
  if (status == 407 || status == 401) return connect_verdict::auth_failed;
  if ((status >= 400 && status < 500 && status != 408 && status != 429) || status == 501 ||
      status == 505)
    return connect_verdict::refused_for_good;
  if (status < 200 || status > 299) return connect_verdict::refused;
  return connect_verdict::open;
}

}  // namespace cbcs::actors
