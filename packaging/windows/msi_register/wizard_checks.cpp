#include "wizard_checks.hpp"

#include <optional>
#include <stdexcept>

#include <fmt/format.h>

#include "actors/scm/server_chain.hpp"
#include "protocol/ca/common/option_checks.hpp"
#include "protocol/scm/installation_token.hpp"

namespace cbcs::msi {
namespace {

namespace scm = protocol::scm;

// The proxy page's fields as the probe takes them, or why they cannot be.
std::optional<std::string> to_settings(const wizard_proxy& in, actors::proxy_settings& out) {
  out = {};
  if (in.type.empty() || in.type == "0" || in.type == "direct") return std::nullopt;
  if (in.type != "1" && in.type != "manual") return "Choose a direct connection or a manual proxy.";
  if (in.addr.empty() || in.port.empty()) return "A manual proxy needs its address and port.";
  if (!protocol::ca::check_positive_count(in.port).empty() || std::stol(in.port) > 65535)
    return "The proxy port must be a number from 1 to 65535.";
  if (!in.password.empty() && in.user.empty()) return "A password needs a username.";
  out = {.enabled = true,
         .host = in.addr,
         .port = static_cast<std::uint16_t>(std::stol(in.port)),
         .user = in.user,
         .password = in.password};
  return std::nullopt;
}

}  // namespace

token_verdict check_token(std::string_view text, std::chrono::system_clock::time_point now) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return {false, "Paste the installation token to go on."};
  try {
    auto token = scm::check_installation_token(text, now);
    return {true, "Token accepted: " + token.describe() + "."};
  } catch (const scm::token_error& e) {
    return {false, std::string("Token not accepted: ") + e.what()};
  }
}

std::string summarize_probe(const actors::probe_result& result, bool via_proxy) {
  if (result.steps.empty()) return "Not tested.";
  if (result.ok) {
    std::string peer;
    for (const auto& s : result.steps)
      if (s.name == "TLS handshake") peer = s.detail;
    return fmt::format("Connected to SCM{}{}.", via_proxy ? " through the proxy" : "",
                       peer.empty() ? "" : " (TLS peer " + peer + ")");
  }
  const auto& failed = result.steps.back();
  if (failed.name == "proxy CONNECT") {
    if (failed.detail.starts_with("proxy authentication failed")) {
      auto open = failed.detail.find('(');
      auto status =
          open == std::string::npos ? std::string("407") : failed.detail.substr(open + 1, 3);
      return fmt::format(
          "The proxy refused the credentials (HTTP {}): check the username and password.", status);
    }
    if (failed.detail.starts_with("bad or no reply")) return "Proxy unreachable: " + failed.detail;
    return "The proxy refused the connection to SCM: " + failed.detail;
  }
  if (failed.name == "TLS handshake") return "TLS failure: " + failed.detail;
  if (via_proxy && (failed.name == "name resolution" || failed.name == "TCP to proxy"))
    return "Proxy unreachable: " + failed.detail;
  return "SCM unreachable: " + failed.detail;
}

std::string test_connection(std::string_view token_text, const wizard_proxy& proxy_fields,
                            std::chrono::system_clock::time_point now,
                            std::chrono::milliseconds step_timeout) {
  scm::installation_token token;
  try {
    token = scm::check_installation_token(token_text, now);
  } catch (const scm::token_error& e) {
    return std::string("Test Connection needs the installation token (it names SCM): ") + e.what();
  }
  actors::proxy_settings proxy;
  if (auto problem = to_settings(proxy_fields, proxy)) return *problem;
  auto ep = scm::parse_endpoint(token.scm);
  if (!ep) return "The token's SCM address is not an https origin.";

  // Registration trusts only the CA the token pins, fetched through the same path.
  actors::tls_settings tls;
  if (!token.ca_sha256.empty()) {
    try {
      auto pinned = actors::fetch_pinned_certificate(ep->host, ep->port, proxy, token.ca_sha256,
                                                     step_timeout);
      if (!pinned)
        return fmt::format(
            "TLS failure: SCM at {} did not present the CA certificate the token pins.", token.scm);
      tls.extra_roots_pem = *pinned;
      tls.system_roots = false;
    } catch (const std::exception&) {
      // Unreachable: the probe below says at which step.
    }
  }
  auto result = actors::probe_connection(token.registration_url(), proxy, tls, step_timeout);
  return summarize_probe(result, proxy.enabled);
}

}  // namespace cbcs::msi
