#include "register_plan.hpp"

#include <cstddef>

namespace cbcs::msi {
namespace {

std::string field(const action_fields& fields, std::string_view name) {
  auto it = fields.find(name);
  return it == fields.end() ? std::string() : it->second;
}

std::string_view trimmed(std::string_view s) {
  constexpr std::string_view space = " \t\r\n";
  auto b = s.find_first_not_of(space);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(space) - b + 1);
}

bool has_line_break(std::string_view s) {
  return s.find_first_of("\r\n") != std::string_view::npos;
}

// No Windows path holds a quote or a control character; on the command line
// a quote would end the argument early.
bool windows_path_text(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == '"' || c == 0x7f) return false;
  return true;
}

register_plan failure(std::string message) {
  return {.what = register_plan::kind::fail, .message = std::move(message)};
}

}  // namespace

std::string join_windows_path(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (!out.empty() && out.back() != '\\' && out.back() != '/') out += '\\';
  out += name;
  return out;
}

std::string identity_path(std::string_view data_dir) {
  return join_windows_path(data_dir, "identity.json");
}

register_plan plan_register(const action_fields& fields, bool identity_exists) {
  auto install_dir = field(fields, field_install_dir);
  auto data_dir = field(fields, field_data_dir);
  if (install_dir.empty() || data_dir.empty())
    return failure("the custom action's data has no INSTALLDIR or data directory");
  if (!windows_path_text(install_dir) || !windows_path_text(data_dir))
    return failure(
        "INSTALLDIR and the data directory must be Windows paths (no quote or control "
        "character)");
  auto token = std::string(trimmed(field(fields, field_token)));
  auto force = std::string(trimmed(field(fields, field_force)));
  if (!force.empty() && force != "0" && force != "1")
    return failure("FORCE must be 0 or 1 (1 registers again, replacing the identity)");
  if (force == "1" && token.empty())
    return failure("FORCE=1 needs a new TOKEN to register again with");
  bool proxy_given = false;
  for (auto name : {field_proxy_type, field_proxy_addr, field_proxy_port, field_proxy_user,
                    field_proxy_password})
    proxy_given = proxy_given || !field(fields, name).empty();
  const std::string proxy_note =
      proxy_given ? "; PROXY_* not applied (change the proxy with cbcs proxy set)" : "";
  if (token.empty()) {
    if (identity_exists)
      return {
          .what = register_plan::kind::skip,
          .message = "no TOKEN given and the connector is registered: identity kept" + proxy_note};
    return failure(
        "TOKEN is required on the first installation: msiexec /i cbcs.msi TOKEN=<installation "
        "token from SCM>");
  }
  if (has_line_break(token)) return failure("TOKEN must be one line");
  // A token is single-use: the one a script passes again has been used, and
  // the upgrade it rides on must not fail on it.
  if (identity_exists && force != "1")
    return {.what = register_plan::kind::skip,
            .message =
                "the connector is registered: identity kept, TOKEN not used "
                "(FORCE=1 registers again with a new TOKEN)" +
                proxy_note};

  register_plan plan{.what = register_plan::kind::run};
  // Each value joined to its option with '=': a value that starts with '-'
  // stays a value, never an option of its own.
  plan.argv = {join_windows_path(install_dir, "cbcs.exe"), "register", "--data-dir=" + data_dir,
               "-token=-"};
  if (force == "1") plan.argv.push_back("-force");
  plan.stdin_text = token + "\n";

  auto type = std::string(trimmed(field(fields, field_proxy_type)));
  auto addr = field(fields, field_proxy_addr);
  auto port = field(fields, field_proxy_port);
  auto user = field(fields, field_proxy_user);
  auto password = field(fields, field_proxy_password);
  if (type.empty()) {
    if (!addr.empty() || !port.empty() || !user.empty() || !password.empty())
      return failure("PROXY_ADDR, PROXY_PORT, PROXY_USER and PROXY_PASSWORD need PROXY_TYPE=1");
    return plan;
  }
  if (type == "0" || type == "direct") {
    plan.argv.push_back("-proxy-type=direct");
  } else if (type == "1" || type == "manual") {
    plan.argv.push_back("-proxy-type=manual");
  } else {
    return failure("PROXY_TYPE must be 0 (direct) or 1 (manual proxy)");
  }
  // cbcs checks the values and names the option that is wrong.
  if (!addr.empty()) plan.argv.push_back("-proxy-addr=" + addr);
  if (!port.empty()) plan.argv.push_back("-proxy-port=" + port);
  if (!user.empty()) plan.argv.push_back("-proxy-user=" + user);
  if (!password.empty()) {
    if (has_line_break(password)) return failure("PROXY_PASSWORD must be one line");
    plan.argv.push_back("-proxy-password=-");
    plan.stdin_text += password + "\n";
  }
  return plan;
}

std::string escape_msi_format(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '[' || c == ']' || c == '{' || c == '}') {
      out += "[\\";
      out += c;
      out += ']';
    } else {
      out += c;
    }
  }
  return out;
}

std::string failure_reason(std::string_view output) {
  std::string last, reason;
  std::size_t start = 0;
  while (start < output.size()) {
    auto end = output.find('\n', start);
    if (end == std::string_view::npos) end = output.size();
    auto line = std::string(trimmed(output.substr(start, end - start)));
    if (!line.empty()) {
      last = line;
      if (line.starts_with("cbcs: ")) reason = line.substr(6);
    }
    start = end + 1;
  }
  return reason.empty() ? last : reason;
}

std::string redact(std::string text, const std::vector<std::string_view>& secrets) {
  for (auto secret : secrets) {
    if (secret.empty()) continue;
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 8))
      text.replace(at, secret.size(), "********");
  }
  return text;
}

}  // namespace cbcs::msi
