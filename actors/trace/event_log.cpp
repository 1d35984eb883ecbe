#include "actors/trace/event_log.hpp"

#include "actors/trace/operator_log.hpp"

namespace cbcs::actors {

namespace {

log_level level_of(event_severity s) {
  switch (s) {
    case event_severity::error:
      return log_level::error;
    case event_severity::warning:
      return log_level::warning;
    case event_severity::information:
      break;
  }
  return log_level::info;
}

}  // namespace

std::string format_event(const event& e) {
  auto text = definition_of(e.id).text;
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 1 < text.size() && text[i + 1] >= '1' && text[i + 1] <= '9') {
      auto n = static_cast<std::size_t>(text[i + 1] - '1');
      if (n < e.insertions.size()) out += e.insertions[n];
      ++i;
      continue;
    }
    out += text[i];
  }
  for (auto& c : out)
    if (c == '\n' || c == '\r') c = ' ';
  return out;
}

void report_event(const event& e) noexcept {
  try {
    log_at(level_of(definition_of(e.id).severity), format_event(e));
  } catch (...) {
  }
  report_system_event(e);  // event_log_windows.cpp, event_log_posix.cpp
}

}  // namespace cbcs::actors
