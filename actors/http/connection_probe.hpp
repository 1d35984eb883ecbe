#pragma once
// `cbcs proxy test`: one connection to a target, step by step (name
// resolution, TCP, CONNECT through the proxy, TLS, HTTP), each timed, so an
// operator sees exactly where the path breaks.

#include <chrono>
#include <string>
#include <vector>

#include "actors/http/http_client.hpp"

namespace cbcs::actors {

struct probe_step {
  std::string name;
  bool ok = false;
  double ms = 0;
  std::string detail;  // never holds the proxy password
};

struct probe_result {
  std::vector<probe_step> steps;
  bool ok = false;
  // The reply's Date header as sent (RFC 9110 §6.6.1), "" when none: how far
  // the target's clock is from ours (cbcs doctor).
  std::string server_date;
};

probe_result probe_connection(const std::string& target_url, const proxy_settings& proxy,
                              const tls_settings& tls,
                              std::chrono::milliseconds step_timeout = std::chrono::seconds(10));

}  // namespace cbcs::actors
