#include "cli/service/systemd_unit.hpp"

#include <charconv>
#include <map>

#include <fmt/format.h>

namespace cbcs::cli::service {
namespace {

constexpr std::string_view default_data_dir = "/var/lib/cbcs";

// systemd splits ExecStart on spaces and expands %, $ and quotes, \ escapes.
void check_unit_path(const std::filesystem::path& p, std::string_view what) {
  auto s = p.string();
  if (!p.is_absolute())
    throw service_error(fmt::format("{} '{}' is not an absolute path", what, s));
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f || c == ' ' || c == '%' || c == '$' || c == '"' || c == '\'' ||
        c == '\\' || c == ';')
      throw service_error(fmt::format(
          "{} '{}' has a character a systemd unit cannot carry as is (space, %, $, quote, \\, ;)",
          what, s));
}

}  // namespace

std::string render_unit(std::string_view unit, const install_options& options) {
  check_unit_path(options.executable, "the executable");
  check_unit_path(options.data_dir, "the data directory");
  auto dir = options.data_dir.lexically_normal().string();
  while (dir.size() > 1 && dir.ends_with('/')) dir.pop_back();
  std::string out;
  bool exec_seen = false;
  std::size_t pos = 0;
  while (pos < unit.size()) {
    auto nl = unit.find('\n', pos);
    auto line = unit.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? unit.size() : nl + 1;
    if (line.starts_with("ExecStart=")) {
      exec_seen = true;
      out += fmt::format("ExecStart={} run --data-dir {}\n", options.executable.string(), dir);
      continue;
    }
    if (line.starts_with("ConditionPathExists=") && dir != default_data_dir) {
      auto rest = line.substr(line.find('=') + 1);
      if (rest.starts_with(default_data_dir)) {
        out += fmt::format("ConditionPathExists={}{}\n", dir, rest.substr(default_data_dir.size()));
        continue;
      }
    }
    out += line;
    out += '\n';
    if (line.starts_with("StateDirectory=") && dir != default_data_dir)
      out += fmt::format("ReadWritePaths={}\n", dir);
  }
  if (!exec_seen) throw service_error("the packaged unit has no ExecStart line");
  return out;
}

service_status parse_systemctl_show(std::string_view text) {
  std::map<std::string, std::string, std::less<>> kv;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    auto line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    auto eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    kv[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
  }
  auto get = [&](std::string_view k) {
    auto it = kv.find(k);
    return it == kv.end() ? std::string{} : it->second;
  };
  service_status st;
  auto load = get("LoadState");
  auto active = get("ActiveState");
  auto sub = get("SubState");
  st.definition = get("FragmentPath");
  st.enabled = get("UnitFileState") == "enabled";
  auto pid = get("MainPID");
  std::int64_t n = 0;
  if (auto [p, ec] = std::from_chars(pid.data(), pid.data() + pid.size(), n);
      ec == std::errc{} && p == pid.data() + pid.size() && n > 0)
    st.main_pid = n;
  if (load == "not-found" || load.empty()) {
    st.state = service_state::not_installed;
    st.detail = load.empty() ? "systemd said nothing about the unit" : "no unit cbcs.service";
    return st;
  }
  if (active == "active")
    st.state = service_state::running;
  else if (active == "activating" || active == "reloading")
    st.state = service_state::starting;
  else if (active == "deactivating")
    st.state = service_state::stopping;
  else if (active == "failed")
    st.state = service_state::failed;
  else if (active == "inactive")
    st.state = service_state::stopped;
  else
    st.state = service_state::unknown;
  st.detail = sub.empty() ? active : fmt::format("{} ({})", active, sub);
  if (auto since = get("ActiveEnterTimestamp"); !since.empty() && active == "active")
    st.detail += " since " + since;
  if (auto result = get("Result"); !result.empty() && result != "success")
    st.detail += ", last result " + result;
  return st;
}

}  // namespace cbcs::cli::service
