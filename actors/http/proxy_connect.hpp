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

enum class connect_verdict { open, auth_failed, refused, refused_for_good };

// 2xx opens the tunnel. 407, and 401 (what tinyproxy sends), mean the
// credentials were refused: retrying cannot help and may lock the account.
// A proxy's other 4xx (403: its access rules forbid the destination) and
// 501/505 answer the request itself: asked again, it answers the same. Its
// 502/503/504 (the destination unreachable from it, overloaded) and 408/429
// may pass.
connect_verdict classify_connect_reply(unsigned status);

}  // namespace cbcs::actors
