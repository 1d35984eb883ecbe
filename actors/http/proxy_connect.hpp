#pragma once
// What every dialer shares about HTTP CONNECT tunnels (the HTTP client, the
// SCM session, registration's chain fetch, `proxy test`): one place decides
// how the request looks and what a proxy's answer means.

#include <string>

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>

#include "actors/http/http_client.hpp"

namespace cbcs::actors {

// "host:port", an IPv6 host in brackets.
std::string tunnel_authority(const std::string& host, const std::string& port);

// CONNECT authority with Proxy-Authorization: Basic when a user is set.
boost::beast::http::request<boost::beast::http::empty_body> make_connect_request(
    const std::string& authority, const proxy_settings& proxy);

enum class connect_verdict { open, auth_failed, refused };

// 2xx opens the tunnel. 407, and 401 (what tinyproxy sends), mean the
// credentials were refused: retrying cannot help and may lock the account.
connect_verdict classify_connect_reply(unsigned status);

}  // namespace cbcs::actors
