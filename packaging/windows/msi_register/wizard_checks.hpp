#pragma once

// What the setup wizard's pages check before Install, each answer one line
// for a Text control: the token page runs cbcs register's token check, the
// proxy page's Test Connection runs cbcs proxy test's probe to the SCM the
// token names, directly or through the proxy, trusting what registration
// trusts (the CA the token pins). Portable: unit-tested natively, called by
// the MSI's DLL (msi_register.cpp). No line ever holds the token's secret or
// the proxy password.

#include <chrono>
#include <string>
#include <string_view>

#include "actors/http/connection_probe.hpp"

namespace cbcs::msi {

struct token_verdict {
  bool ok = false;
  std::string line;
};

token_verdict check_token(std::string_view text, std::chrono::system_clock::time_point now);

// The proxy page's properties, as the silent path takes them.
struct wizard_proxy {
  std::string type;  // PROXY_TYPE: "" or 0/direct, 1/manual
  std::string addr, port, user, password;
};

// One line from a probe's steps: connected (with the TLS peer), the proxy
// refused the credentials (407), proxy unreachable, SCM unreachable, or the
// TLS failure named.
std::string summarize_probe(const actors::probe_result& result, bool via_proxy);

// The whole Test Connection: checks the token and the proxy's fields, fetches
// the pinned CA through the same path, probes the registration endpoint.
std::string test_connection(std::string_view token_text, const wizard_proxy& proxy,
                            std::chrono::system_clock::time_point now,
                            std::chrono::milliseconds step_timeout = std::chrono::seconds(10));

}  // namespace cbcs::msi
