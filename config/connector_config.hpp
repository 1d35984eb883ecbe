#pragma once
// config.json: the connector's non-secret configuration. Secrets are in the
// vault; this file names their vault records only.

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace cbcs::config {

inline constexpr int config_schema_version = 1;

using string_map = std::map<std::string, std::string, std::less<>>;

struct backend_definition {
  std::string name;
  std::string type;
  string_map settings;   // option -> value, for options that are not secret
  string_map sealed;     // option -> vault record holding its value
  string_map summaries;  // option -> non-secret description of a sealed file
};

// How every outbound connection leaves the machine. Maps one-to-one onto the
// installer properties PROXY_TYPE (0 direct, 1 manual), PROXY_ADDR,
// PROXY_PORT, PROXY_USER and PROXY_PASSWORD (the password lives in the vault).
struct proxy_config {
  bool manual = false;
  std::string address;
  int port = 0;
  std::string user;
  std::string password_record;  // vault record; empty when there is no password
};

inline constexpr std::string_view proxy_password_record = "proxy/password";

struct connector_config {
  int schema_version = config_schema_version;
  std::vector<backend_definition> backends;
  proxy_config proxy;

  const backend_definition* find_backend(std::string_view name) const;
};

// A missing file is the empty configuration. A corrupt file or an unknown
// schema version throws config_error naming the file (and the line, when
// the parser knows it); the file is left as it is.
connector_config load_config(const std::filesystem::path& file);
connector_config parse_config(std::string_view text, const std::filesystem::path& file);

std::string serialize_config(const connector_config& config);
void save_config(const std::filesystem::path& file, const connector_config& config);

// Backend names: 1 to 64 of letters, digits, '-', '_', '.', starting with a letter or digit.
bool is_valid_backend_name(std::string_view name);

}  // namespace cbcs::config
