#include "config/connector_config.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <simdjson.h>

#include "config/atomic_file.hpp"
#include "config/config_error.hpp"
#include "protocol/common/json_error.hpp"
#include "protocol/common/json_writer.hpp"

namespace cbcs::config {
namespace {

namespace dom = simdjson::dom;

class parse_context {
 public:
  explicit parse_context(const std::filesystem::path& file) : file_(file) {}

  [[noreturn]] void fail(std::string_view what) const {
    throw config_error(fmt::format("config file {} is invalid: {}", file_.string(), what));
  }

  std::string string_at(dom::object obj, std::string_view key, std::string_view where) const {
    std::string_view v;
    if (obj[key].get_string().get(v)) fail(fmt::format("{}: \"{}\" must be a string", where, key));
    return std::string(v);
  }

  string_map map_at(dom::object obj, std::string_view key, std::string_view where) const {
    string_map out;
    dom::element e;
    if (obj[key].get(e)) return out;  // optional
    dom::object m;
    if (e.get_object().get(m)) fail(fmt::format("{}: \"{}\" must be an object", where, key));
    for (auto [k, v] : m) {
      std::string_view s;
      if (v.get_string().get(s))
        fail(fmt::format("{}: \"{}\".\"{}\" must be a string", where, key, k));
      out.emplace(std::string(k), std::string(s));
    }
    return out;
  }

 private:
  const std::filesystem::path& file_;
};

}  // namespace

const backend_definition* connector_config::find_backend(std::string_view name) const {
  auto it = std::find_if(backends.begin(), backends.end(),
                         [&](const backend_definition& b) { return b.name == name; });
  return it == backends.end() ? nullptr : &*it;
}

bool is_valid_backend_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || !std::isalnum(static_cast<unsigned char>(name[0])))
    return false;
  return std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
  });
}

connector_config parse_config(std::string_view text, const std::filesystem::path& file) {
  parse_context ctx(file);
  dom::parser parser;
  dom::element root;
  if (parser.parse(simdjson::padded_string(text)).get(root)) {
    auto problem = protocol::find_json_problem(text);
    throw config_error(problem.line ? fmt::format("config file {} is not valid JSON (line {}): {}",
                                                  file.string(), problem.line, problem.message)
                                    : fmt::format("config file {} is not valid JSON: {}",
                                                  file.string(), problem.message));
  }
  dom::object top;
  if (root.get_object().get(top)) ctx.fail("the top level must be an object");
  int64_t version = 0;
  if (top["schema_version"].get_int64().get(version)) ctx.fail("\"schema_version\" is missing");
  if (version != config_schema_version)
    throw config_error(fmt::format(
        "config file {} has schema version {}, this cbcs reads version {} (is it from a newer "
        "cbcs?)",
        file.string(), version, config_schema_version));

  connector_config out;
  dom::element proxy;
  if (!top["proxy"].get(proxy)) {
    dom::object obj;
    if (proxy.get_object().get(obj)) ctx.fail("\"proxy\" must be an object");
    auto type = ctx.string_at(obj, "type", "proxy");
    if (type != "direct" && type != "manual") ctx.fail("proxy: \"type\" must be direct or manual");
    out.proxy.manual = type == "manual";
    if (out.proxy.manual) {
      out.proxy.address = ctx.string_at(obj, "address", "proxy");
      int64_t port = 0;
      if (obj["port"].get_int64().get(port) || port < 1 || port > 65535)
        ctx.fail("proxy: \"port\" must be a number from 1 to 65535");
      out.proxy.port = static_cast<int>(port);
      std::string_view v;
      if (!obj["user"].get_string().get(v)) out.proxy.user = std::string(v);
      if (!obj["password_record"].get_string().get(v)) out.proxy.password_record = std::string(v);
    }
  }
  dom::element backends;
  if (!top["backends"].get(backends)) {
    dom::array list;
    if (backends.get_array().get(list)) ctx.fail("\"backends\" must be an array");
    std::size_t index = 0;
    for (auto item : list) {
      auto where = fmt::format("backends[{}]", index++);
      dom::object obj;
      if (item.get_object().get(obj)) ctx.fail(where + " must be an object");
      backend_definition b;
      b.name = ctx.string_at(obj, "name", where);
      b.type = ctx.string_at(obj, "type", where);
      if (!is_valid_backend_name(b.name)) ctx.fail(where + ": invalid backend name");
      if (out.find_backend(b.name)) ctx.fail(where + ": duplicate backend name " + b.name);
      b.settings = ctx.map_at(obj, "settings", where);
      b.sealed = ctx.map_at(obj, "sealed", where);
      b.summaries = ctx.map_at(obj, "summaries", where);
      out.backends.push_back(std::move(b));
    }
  }
  return out;
}

connector_config load_config(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return {};
  return parse_config(read_file(file), file);
}

std::string serialize_config(const connector_config& config) {
  protocol::json_writer w;
  auto write_map = [&](std::string_view key, const string_map& m) {
    if (m.empty()) return;
    w.key(key).begin_object();
    for (const auto& [k, v] : m) w.member(k, v);
    w.end_object();
  };
  w.begin_object();
  w.member("schema_version", config.schema_version);
  w.key("proxy").begin_object();
  w.member("type", config.proxy.manual ? "manual" : "direct");
  if (config.proxy.manual) {
    w.member("address", config.proxy.address).member("port", config.proxy.port);
    if (!config.proxy.user.empty()) w.member("user", config.proxy.user);
    if (!config.proxy.password_record.empty())
      w.member("password_record", config.proxy.password_record);
  }
  w.end_object();
  w.key("backends").begin_array();
  for (const auto& b : config.backends) {
    w.begin_object();
    w.member("name", b.name);
    w.member("type", b.type);
    write_map("settings", b.settings);
    write_map("sealed", b.sealed);
    write_map("summaries", b.summaries);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.str() + "\n";
}

void save_config(const std::filesystem::path& file, const connector_config& config) {
  remove_stale_temp_files(file);
  write_file_atomic(file, serialize_config(config));
}

}  // namespace cbcs::config
