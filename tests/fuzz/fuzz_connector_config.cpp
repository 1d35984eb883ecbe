// config::parse_config: config.json is edited by hand and may be damaged. It
// either throws config_error or returns a configuration that serialize_config
// writes and parse_config reads back unchanged.

#include <stdexcept>
#include <string>

#include "config/config_error.hpp"
#include "config/connector_config.hpp"
#include "fuzz_check.hpp"

namespace {

using namespace cbcs;

bool same_backend(const config::backend_definition& a, const config::backend_definition& b) {
  return a.name == b.name && a.type == b.type && a.settings == b.settings && a.sealed == b.sealed &&
         a.summaries == b.summaries;
}

bool same_config(const config::connector_config& a, const config::connector_config& b) {
  if (a.schema_version != b.schema_version || a.backends.size() != b.backends.size()) return false;
  for (std::size_t i = 0; i < a.backends.size(); ++i)
    if (!same_backend(a.backends[i], b.backends[i])) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::filesystem::path file = "/fuzz/config.json";
  config::connector_config parsed;
  try {
    parsed = config::parse_config(fuzz::as_text(data, size), file);
  } catch (const config::config_error& e) {
    fuzz::check(std::string_view(e.what()).find(file.string()) != std::string_view::npos,
                "config_error does not name the file", e.what());
    return 0;
  } catch (const std::exception& e) {
    fuzz::fail("parse_config threw something other than config_error", e.what());
  }
  fuzz::check(parsed.schema_version == config::config_schema_version,
              "parse_config accepted another schema version");
  for (const auto& b : parsed.backends)
    fuzz::check(config::is_valid_backend_name(b.name), "parse_config accepted a bad name", b.name);
  auto text = config::serialize_config(parsed);
  config::connector_config back;
  try {
    back = config::parse_config(text, file);
  } catch (const std::exception& e) {
    fuzz::fail("serialize_config output does not parse back",
               std::string(e.what()) + " in " + text);
  }
  fuzz::check(same_config(parsed, back), "config round trip changed the configuration", text);
  fuzz::check(config::serialize_config(back) == text, "serialize_config is not stable", text);
  return 0;
}
