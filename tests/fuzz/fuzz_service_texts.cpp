// What `cbcs service` and `cbcs run` read from outside on Linux: systemctl
// show's output (parse_systemctl_show), the paths written into a unit
// (render_unit), the unit text itself, and NOTIFY_SOCKET / WATCHDOG_USEC /
// WATCHDOG_PID (systemd_notifier). Input: a mode byte, then fields split at
// NUL bytes.
//   0: systemctl show output: never throws, a state and a one-line detail.
//   1: executable NUL data dir: a service_error, or the packaged unit with
//      exactly one ExecStart line running them and no other new line.
//   2: unit text: a service_error or a unit with one ExecStart line per
//      ExecStart in the text.
//   3: NOTIFY_SOCKET NUL WATCHDOG_USEC NUL WATCHDOG_PID: no crash; active
//      only for a path or an abstract name.

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "cli/service/systemd_notify.hpp"
#include "cli/service/systemd_unit.hpp"
#include "fuzz_check.hpp"

namespace {

using namespace cbcs;
namespace svc = cli::service;

std::vector<std::string> fields(std::string_view text, std::size_t n) {
  std::vector<std::string> out;
  while (out.size() + 1 < n) {
    auto nul = text.find('\0');
    if (nul == std::string_view::npos) break;
    out.emplace_back(text.substr(0, nul));
    text.remove_prefix(nul + 1);
  }
  out.emplace_back(text);
  while (out.size() < n) out.emplace_back();
  return out;
}

std::vector<std::string> lines(std::string_view text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    out.emplace_back(text.substr(pos, nl == std::string_view::npos ? nl : nl - pos));
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
  }
  return out;
}

void show(std::string_view text) {
  svc::service_status st;
  try {
    st = svc::parse_systemctl_show(text);
  } catch (const std::exception& e) {
    fuzz::fail("parse_systemctl_show threw", e.what());
  }
  fuzz::check(st.main_pid >= 0, "negative pid");
  fuzz::check(st.detail.find('\n') == std::string::npos, "detail of more than one line", st.detail);
  fuzz::check(!svc::to_string(st.state).empty(), "state without a name");
}

void paths(const std::string& exe, const std::string& dir) {
  std::string unit;
  try {
    unit = svc::render_unit(svc::packaged_unit(), {.executable = exe, .data_dir = dir});
  } catch (const svc::service_error&) {
    return;
  } catch (const std::exception& e) {
    fuzz::fail("render_unit threw something other than service_error", e.what());
  }
  auto before = lines(svc::packaged_unit());
  auto after = lines(unit);
  auto execs = std::count_if(after.begin(), after.end(),
                             [](const std::string& l) { return l.starts_with("ExecStart="); });
  fuzz::check(execs == 1, "not exactly one ExecStart line", unit);
  fuzz::check(after.size() == before.size() || after.size() == before.size() + 1,
              "a path made lines of its own", unit);
  for (const auto& l : after)
    fuzz::check(l.starts_with("ExecStart=") || l.starts_with("ReadWritePaths=") ||
                    l.starts_with("ConditionPathExists=") ||
                    std::find(before.begin(), before.end(), l) != before.end(),
                "a line the packaged unit does not have", l);
}

void unit_text(std::string_view text) {
  std::string unit;
  try {
    unit = svc::render_unit(text, {.executable = "/usr/bin/cbcs", .data_dir = "/srv/cbcs"});
  } catch (const svc::service_error&) {
    return;
  } catch (const std::exception& e) {
    fuzz::fail("render_unit threw something other than service_error", e.what());
  }
  auto count = [](std::string_view t) {
    auto ls = lines(t);
    return std::count_if(ls.begin(), ls.end(),
                         [](const std::string& l) { return l.starts_with("ExecStart="); });
  };
  fuzz::check(count(unit) == count(text) && count(unit) > 0, "ExecStart lines changed", unit);
}

void notify(const std::vector<std::string>& f) {
  auto arg = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
  svc::systemd_notifier n(arg(f[0]), arg(f[1]), arg(f[2]));
  if (n.active()) {
    fuzz::check(f[0].front() == '/' || f[0].front() == '@', "active for a relative name", f[0]);
    n.status(f[1]);  // to a socket nobody listens on: ignored, never fatal
  }
  fuzz::check(n.watchdog_interval().count() >= 0, "negative watchdog interval");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto rest = fuzz::as_text(data + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      show(rest);
      break;
    case 1: {
      auto f = fields(rest, 2);
      paths(f[0], f[1]);
      break;
    }
    case 2:
      unit_text(rest);
      break;
    case 3:
      notify(fields(rest, 3));
      break;
  }
  return 0;
}
