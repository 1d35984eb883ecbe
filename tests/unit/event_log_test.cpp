// The Event Log's table: ids pinned (operators filter on them), texts fit for
// windmc with the insertion strings the code passes, the generated message
// file says the same, report_event writes one operator-log line; on Windows
// the linked resource gives the same texts and the event source registers.

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#ifdef _WIN32
#include <windows.h>
#endif

#include "actors/trace/event_log.hpp"
#include "actors/trace/operator_log.hpp"
#include "test_pki.hpp"

namespace actors = cbcs::actors;
using actors::event_id;
using actors::event_severity;
namespace fs = std::filesystem;

namespace {

struct pinned {
  unsigned id;
  std::string_view name;
  event_severity severity;
  std::size_t insertions;
};

// Changing a line here breaks operators' filters: add, never renumber.
constexpr pinned pinned_events[] = {
    {1000, "service_started", event_severity::information, 2},
    {1001, "service_stopped", event_severity::information, 1},
    {1002, "registered", event_severity::information, 2},
    {1100, "session_up", event_severity::information, 2},
    {1101, "session_down", event_severity::warning, 2},
    {1200, "backend_unhealthy", event_severity::warning, 4},
    {1201, "backend_healthy", event_severity::information, 2},
    {1300, "journal_failed", event_severity::error, 3},
    {1301, "journal_recovered", event_severity::information, 1},
};

// Not config::read_file: this suite shares a unity batch with one that
// names a function config() after `using namespace cbcs`.
std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  REQUIRE(in.good());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct mc_message {
  unsigned id = 0;
  std::string severity, symbol, text;
};

// The blocks of a message file as windmc reads them.
std::vector<mc_message> read_message_file(const std::string& text) {
  std::vector<mc_message> out;
  std::istringstream in(text);
  std::string line;
  mc_message m;
  while (std::getline(in, line)) {
    if (line.starts_with("MessageId="))
      m = {.id = static_cast<unsigned>(std::stoul(line.substr(10)))};
    if (line.starts_with("Severity=")) m.severity = line.substr(9);
    if (line.starts_with("SymbolicName=")) m.symbol = line.substr(13);
    if (line == "Language=English") {
      std::string body;
      while (std::getline(in, line) && line != ".") body += (body.empty() ? "" : "\n") + line;
      m.text = body;
      out.push_back(m);
    }
  }
  return out;
}

}  // namespace

TEST_SUITE("event_log") {
  TEST_CASE("the ids, names, severities and insertion counts are the pinned ones") {
    REQUIRE(std::size(actors::event_table) == std::size(pinned_events));
    for (std::size_t i = 0; i < std::size(pinned_events); ++i) {
      const auto& d = actors::event_table[i];
      const auto& p = pinned_events[i];
      CAPTURE(p.name);
      CHECK(static_cast<unsigned>(d.id) == p.id);
      CHECK(d.name == p.name);
      CHECK(d.severity == p.severity);
      CHECK(actors::insertion_count(d.text) == p.insertions);
      CHECK(&actors::definition_of(d.id) == &d);
    }
  }

  TEST_CASE("ids and names are unique") {
    std::set<unsigned> ids;
    std::set<std::string_view> names;
    for (const auto& d : actors::event_table) {
      CHECK(ids.insert(static_cast<unsigned>(d.id)).second);
      CHECK(names.insert(d.name).second);
    }
  }

  TEST_CASE("texts are what windmc and FormatMessage take as plain text") {
    for (const auto& d : actors::event_table) {
      CAPTURE(d.name);
      CHECK_FALSE(d.text.empty());
      CHECK(d.text.front() != '.');
      CHECK(d.text.size() < 1000);
      std::set<int> used;
      for (std::size_t i = 0; i < d.text.size(); ++i) {
        char c = d.text[i];
        CHECK((c >= 0x20 && c < 0x7f));  // one line, ASCII (the .rc is code page 1252)
        CHECK(c != '!');                 // %n!fmt! would be a format
        if (c != '%') continue;
        REQUIRE(i + 1 < d.text.size());
        CHECK((d.text[i + 1] >= '1' && d.text[i + 1] <= '9'));  // no %% %n %t %0
        used.insert(d.text[i + 1] - '0');
      }
      // %1..%n each used: no insertion string passed and dropped.
      CHECK(used.size() == actors::insertion_count(d.text));
    }
  }

  TEST_CASE("message ids carry the severity above the event id, as windmc makes them") {
    CHECK(actors::message_id(actors::definition_of(event_id::service_started)) == 0x400003e8u);
    CHECK(actors::message_id(actors::definition_of(event_id::session_down)) == 0x8000044du);
    CHECK(actors::message_id(actors::definition_of(event_id::journal_failed)) == 0xc0000514u);
  }

  TEST_CASE("the generated message file holds the table, in order") {
    auto messages = read_message_file(read_text(CBCS_EVENT_MESSAGE_FILE));
    REQUIRE(messages.size() == std::size(actors::event_table));
    for (std::size_t i = 0; i < messages.size(); ++i) {
      const auto& d = actors::event_table[i];
      const auto& m = messages[i];
      CAPTURE(d.name);
      CHECK(m.id == static_cast<unsigned>(d.id));
      CHECK(m.symbol == "CBCS_EVENT_" + std::string(d.name));
      CHECK(m.text == d.text);
      CHECK(m.severity == (d.severity == event_severity::error     ? "Error"
                           : d.severity == event_severity::warning ? "Warning"
                                                                   : "Informational"));
    }
  }

  TEST_CASE("format_event puts the insertion strings in place, on one line") {
    auto e = actors::make_event<event_id::session_down>("read: end of stream\nagain", 1500);
    CHECK(actors::format_event(e) ==
          "session closed: read: end of stream again; next attempt in 1500 ms");
    auto b = actors::make_event<event_id::backend_unhealthy>("aws", "acmpca", "degraded",
                                                             "circuit breaker open");
    CHECK(actors::format_event(b) == "backend aws (acmpca) is degraded: circuit breaker open");
    // Insertion strings are not texts: a %2 in one stays as it is.
    auto j = actors::make_event<event_id::journal_failed>("disk %2 full", 250, 1);
    CHECK(actors::format_event(j) ==
          "the journal cannot commit (disk %2 full); results are held and retried in 250 ms "
          "(attempt 1)");
  }

  TEST_CASE("report_event writes the operator log's one line, at the event's level") {
    cbcs::test::temp_dir dir;
    auto logs = fs::path(dir.path()) / "logs";
    actors::configure_log({.level = actors::log_level::info, .dir = logs, .echo_stderr = false});
    actors::report_event(actors::make_event<event_id::journal_failed>("disk full", 250, 1));
    actors::report_event(actors::make_event<event_id::service_stopped>("0.1.0"));
    actors::report_system_event(actors::make_event<event_id::registered>("c-1", "https://scm"));
    actors::configure_log({});  // back to stderr for the other tests
    auto text = read_text(logs / "cbcs.log");
    CHECK(text.find("Z error the journal cannot commit (disk full); results are held and "
                    "retried in 250 ms (attempt 1)") != std::string::npos);
    CHECK(text.find("Z info cbcs 0.1.0 stopped") != std::string::npos);
    // Two lines (spdlog ends them with CRLF on Windows), not the system-only one.
    CHECK(std::count(text.begin(), text.end(), '\n') == 2);
  }

#ifdef _WIN32
  TEST_CASE("the exe's message resource gives the table's texts (FormatMessageW)") {
    for (const auto& d : actors::event_table) {
      CAPTURE(d.name);
      std::vector<std::wstring> args;
      std::vector<DWORD_PTR> ptrs;
      actors::event e{d.id, {}};
      for (std::size_t i = 1; i <= actors::insertion_count(d.text); ++i) {
        e.insertions.push_back("v" + std::to_string(i));
        args.push_back(L"v" + std::to_wstring(i));
      }
      for (const auto& a : args) ptrs.push_back(reinterpret_cast<DWORD_PTR>(a.c_str()));
      wchar_t buf[2048] = {};
      DWORD n = FormatMessageW(FORMAT_MESSAGE_FROM_HMODULE | FORMAT_MESSAGE_ARGUMENT_ARRAY,
                               GetModuleHandleW(nullptr), actors::message_id(d), 0x409, buf,
                               static_cast<DWORD>(std::size(buf)),
                               reinterpret_cast<va_list*>(ptrs.data()));
      REQUIRE(n > 0);
      std::wstring got(buf, n);
      while (!got.empty() && (got.back() == L'\n' || got.back() == L'\r')) got.pop_back();
      auto want = actors::format_event(e);
      CHECK(got == std::wstring(want.begin(), want.end()));
    }
  }

  TEST_CASE("the event source registers with this exe and unregisters") {
    auto exe = fs::path("C:\\Program Files\\CBCS\\cbcs.exe");
    actors::register_event_source(exe);
    std::wstring key(actors::event_source_key);
    wchar_t file[MAX_PATH] = {};
    DWORD size = sizeof file;
    CHECK(RegGetValueW(HKEY_LOCAL_MACHINE, key.c_str(), L"EventMessageFile",
                       RRF_RT_REG_EXPAND_SZ | RRF_NOEXPAND, nullptr, file, &size) == ERROR_SUCCESS);
    CHECK(std::wstring(file) == exe.wstring());
    DWORD types = 0;
    size = sizeof types;
    CHECK(RegGetValueW(HKEY_LOCAL_MACHINE, key.c_str(), L"TypesSupported", RRF_RT_REG_DWORD,
                       nullptr, &types, &size) == ERROR_SUCCESS);
    CHECK(types == 7u);
    // Events go out (Wine's ReportEventW accepts and drops them).
    actors::report_system_event(actors::make_event<event_id::service_stopped>("0.1.0"));
    actors::unregister_event_source();
    HKEY k = nullptr;
    CHECK(RegOpenKeyExW(HKEY_LOCAL_MACHINE, key.c_str(), 0, KEY_READ, &k) == ERROR_FILE_NOT_FOUND);
    actors::unregister_event_source();  // again: nothing to remove, no error
  }
#endif
}
