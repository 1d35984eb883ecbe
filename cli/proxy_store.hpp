#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "cli/workspace.hpp"

namespace cbcs::cli {

// What `proxy set` takes, and what `register` takes as -proxy-* options so
// that an installer can pass PROXY_TYPE, PROXY_ADDR, PROXY_PORT, PROXY_USER
// and PROXY_PASSWORD in one command.
struct proxy_request {
  std::optional<std::string> type, addr, port, user, password;
};

// Checks and stores the proxy (password sealed). Usage errors name the
// option as prefix + name_prefix + name, e.g. "register: option -proxy-addr".
void apply_proxy_settings(const workspace& ws, proxy_request req, std::string_view prefix,
                          std::string_view name_prefix);

}  // namespace cbcs::cli
