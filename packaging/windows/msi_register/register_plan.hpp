#pragma once

// What the MSI's deferred action does with the installer's values: run
// "<INSTALLDIR>\cbcs.exe" register with the token and the proxy password on
// its standard input (never on a command line), skip when the connector
// already has an identity (upgrade, repair, a deployment script run again)
// unless FORCE=1 asks to register again, or fail with a message that names
// the property. Portable: unit-tested natively.

#include <string>
#include <string_view>
#include <vector>

#include "action_data.hpp"
#include "config/os/windows_command_line.hpp"

namespace cbcs::msi {

// The plan's argv becomes a command line with these.
using config::quote_windows_argument;
using config::windows_command_line;

// CustomActionData field names (the immediate action packs them).
inline constexpr std::string_view field_install_dir = "install_dir";
inline constexpr std::string_view field_data_dir = "data_dir";
inline constexpr std::string_view field_token = "token";
inline constexpr std::string_view field_proxy_type = "proxy_type";
inline constexpr std::string_view field_proxy_addr = "proxy_addr";
inline constexpr std::string_view field_proxy_port = "proxy_port";
inline constexpr std::string_view field_proxy_user = "proxy_user";
inline constexpr std::string_view field_proxy_password = "proxy_password";
inline constexpr std::string_view field_force = "force";

struct register_plan {
  enum class kind { run, skip, fail };
  kind what = kind::fail;
  std::string message;            // for skip and fail: one line, no secret
  std::vector<std::string> argv;  // for run: argv[0] is cbcs.exe's path
  std::string stdin_text;         // for run: the token's line, then the password's
};

// <dir>\<name>, with one backslash between.
std::string join_windows_path(std::string_view dir, std::string_view name);

// The file whose presence means "already registered" (cbcs's identity.json).
std::string identity_path(std::string_view data_dir);

register_plan plan_register(const action_fields& fields, bool identity_exists);

// text as a literal MSI format template: [ ] { } escaped as [\[] [\]] [\{] [\}]
// (the log's text is formatted: "[1]" in cbcs's output would be a field).
std::string escape_msi_format(std::string_view text);

// cbcs's one-line reason in its output: the last line "cbcs: <reason>" (how
// cbcs reports a failure), else the last non-empty line; "" for no output.
std::string failure_reason(std::string_view output);

// text with every occurrence of each non-empty secret replaced by ********.
std::string redact(std::string text, const std::vector<std::string_view>& secrets);

}  // namespace cbcs::msi
