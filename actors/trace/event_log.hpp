#pragma once
// Events for the operator with stable ids (event_table.def): service start
// and stop, registration, the SCM session up and down, a backend unhealthy
// and healthy again, the journal failing and recovering. report_event writes
// the operator log's line (Linux: that is all; journald carries it) and, on
// Windows, the Application log's entry of source CBCS, whose texts come from
// the message resource built from the same table. Never a secret.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace cbcs::actors {

enum class event_id : std::uint16_t {
#define CBCS_EVENT(number, name, severity, text) name = number,
#include "actors/trace/event_table.def"
#undef CBCS_EVENT
};

enum class event_severity : std::uint8_t { information, warning, error };

struct event_definition {
  event_id id;
  event_severity severity;
  std::string_view name;
  std::string_view text;  // %1..%n: the insertion strings
};

inline constexpr event_definition event_table[] = {
#define CBCS_EVENT(number, name, severity, text) \
  {event_id::name, event_severity::severity, #name, text},
#include "actors/trace/event_table.def"
#undef CBCS_EVENT
};

constexpr const event_definition& definition_of(event_id id) {
  for (const auto& d : event_table)
    if (d.id == id) return d;
  return event_table[0];  // unreachable: every event_id has its line
}

// The highest %n in a text: how many insertion strings it takes.
constexpr std::size_t insertion_count(std::string_view text) {
  std::size_t n = 0;
  for (std::size_t i = 0; i + 1 < text.size(); ++i)
    if (text[i] == '%' && text[i + 1] >= '1' && text[i + 1] <= '9')
      n = std::max<std::size_t>(n, static_cast<std::size_t>(text[i + 1] - '0'));
  return n;
}

// The message id in the resource (and ReportEventW's): severity in the top
// two bits, facility 0, the event id below; Event Viewer shows the event id.
constexpr std::uint32_t message_id(const event_definition& d) {
  std::uint32_t severity = d.severity == event_severity::error     ? 3
                           : d.severity == event_severity::warning ? 2
                                                                   : 1;
  return severity << 30 | static_cast<std::uint32_t>(d.id);
}

struct event {
  event_id id;
  std::vector<std::string> insertions;
};

namespace detail {
inline std::string insertion(std::string_view s) { return std::string(s); }
template <class Number>
requires std::is_arithmetic_v<Number> std::string insertion(Number n) { return std::to_string(n); }
}  // namespace detail

// An event with exactly the insertion strings its text takes (checked when
// compiled): make_event<event_id::session_up>(connector_id, interval_ms).
template <event_id Id, class... Args>
event make_event(const Args&... args) {
  static_assert(sizeof...(Args) == insertion_count(definition_of(Id).text),
                "the event's text takes another number of insertion strings");
  return {Id, {detail::insertion(args)...}};
}

// The text with its insertion strings, one line (the operator log's line).
std::string format_event(const event& e);

using event_reporter = std::function<void(const event&)>;

// The operator log's line at the event's level, and the system's event log.
// Never throws.
void report_event(const event& e) noexcept;
// The system's event log only (Windows: the Application log; Linux:
// nothing), where the line reaches the operator otherwise (cbcs register
// prints it). Never throws.
void report_system_event(const event& e) noexcept;

#ifdef _WIN32
// HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\CBCS with
// EventMessageFile = exe (whose resource holds the texts) and TypesSupported:
// what `cbcs service install` (and the MSI) do so that Event Viewer shows
// the texts. Throws std::runtime_error (one line) when it cannot.
inline constexpr std::wstring_view event_source_key =
    L"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\CBCS";
void register_event_source(const std::filesystem::path& exe);
// Removes that key; nothing when it is not there. Throws like register.
void unregister_event_source();
#endif

}  // namespace cbcs::actors
