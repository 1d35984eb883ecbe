// The MSI custom action's inputs (packaging/windows/msi_register): the
// CustomActionData text (unpack_action_data) and the installer's properties
// in it (plan_register), which come from msiexec's command line. The text
// either is refused or gives fields that pack and unpack back equal; the plan
// never throws; a failure or skip message is one line made only of the
// plan's own words; a run passes the token and the password on standard
// input only, and its command line reads back (as the C runtime splits it)
// to exactly its arguments, each a fixed option word or an option joined to
// a non-secret field with '=' (a value starting with '-' stays a value).
//
// First byte: bit 0 says whether the connector has an identity; bit 1 says
// the rest is the fields themselves, split at 0xff (name, value, name, ...),
// so the fuzzer reaches the plan without spelling the format's lengths.

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fuzz_check.hpp"
#include "packaging/windows/msi_register/action_data.hpp"
#include "packaging/windows/msi_register/register_plan.hpp"

namespace {

using namespace cbcs;
using namespace cbcs::msi;

// The words of register_plan.cpp's messages.
constexpr std::string_view vocabulary =
    "the custom action's data has no INSTALLDIR or data directory and must be Windows paths quote "
    "control character TOKEN given connector is registered identity kept PROXY_ are used with only "
    "change proxy cbcs set required on first installation msiexec i msi installation token from "
    "SCM one line FORCE registers again replacing a new not PROXY_ADDR PROXY_PORT PROXY_USER "
    "PROXY_PASSWORD need PROXY_TYPE direct manual needs to register applied";

// A command line split as the C runtime splits it (argv[0] by the program
// name's own rule: quoted or up to a space, no escapes).
std::vector<std::string> split_command_line(std::string_view line) {
  std::vector<std::string> out;
  std::size_t i = 0;
  std::string first;
  if (i < line.size() && line[i] == '"') {
    for (++i; i < line.size() && line[i] != '"'; ++i) first += line[i];
    if (i < line.size()) ++i;
  } else {
    for (; i < line.size() && line[i] != ' ' && line[i] != '\t'; ++i) first += line[i];
  }
  out.push_back(first);
  for (;;) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size()) break;
    std::string arg;
    bool quoted = false;
    while (i < line.size() && (quoted || (line[i] != ' ' && line[i] != '\t'))) {
      std::size_t backslashes = 0;
      while (i < line.size() && line[i] == '\\') ++backslashes, ++i;
      if (i < line.size() && line[i] == '"') {
        arg.append(backslashes / 2, '\\');
        if (backslashes % 2 == 1) {
          arg += '"';
        } else if (quoted && i + 1 < line.size() && line[i + 1] == '"') {
          // The C runtimes read "" inside quotes differently: never write it.
          fuzz::fail("\"\" inside a quoted argument", line);
        } else {
          quoted = !quoted;
        }
        ++i;
      } else {
        arg.append(backslashes, '\\');
        if (i < line.size() && (quoted || (line[i] != ' ' && line[i] != '\t'))) arg += line[i++];
      }
    }
    out.push_back(arg);
  }
  return out;
}

std::string field_of(const action_fields& f, std::string_view name) {
  auto it = f.find(name);
  return it == f.end() ? std::string() : it->second;
}

std::string trimmed(std::string s) {
  constexpr std::string_view space = " \t\r\n";
  auto b = s.find_first_not_of(space);
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(space) - b + 1);
}

void check_plan(const action_fields& fields, bool identity_exists) {
  static const fuzz::word_set words = [] {
    fuzz::word_set w;
    fuzz::add_words(w, vocabulary);
    return w;
  }();
  register_plan plan;
  try {
    plan = plan_register(fields, identity_exists);
  } catch (...) {
    fuzz::fail("plan_register threw");
  }
  if (plan.what != register_plan::kind::run) {
    fuzz::check(!plan.message.empty(), "a failure or skip without a message");
    fuzz::check(plan.message.find_first_of("\r\n") == std::string::npos, "a message of two lines",
                plan.message);
    fuzz::check(fuzz::stranger_word(plan.message, words).empty(),
                "a message with a word of the input", plan.message);
    fuzz::check(plan.argv.empty() && plan.stdin_text.empty(), "a plan that does not run has argv");
    return;
  }
  auto token = trimmed(field_of(fields, field_token));
  auto password = field_of(fields, field_proxy_password);
  fuzz::check(!token.empty(), "a run without a token");
  auto expected_stdin = token + "\n" + (password.empty() ? "" : password + "\n");
  fuzz::check(plan.stdin_text == expected_stdin, "standard input is not the token and password");
  fuzz::check(
      !plan.argv.empty() &&
          plan.argv[0] == join_windows_path(field_of(fields, field_install_dir), "cbcs.exe"),
      "argv[0] is not cbcs.exe in INSTALLDIR");
  // Each argument is a fixed word or an option joined to a field that is no
  // secret; the secrets' options read standard input.
  std::set<std::string, std::less<>> allowed = {
      "register",           "-token=-",           "-force",
      "-proxy-type=direct", "-proxy-type=manual", "-proxy-password=-"};
  allowed.insert("--data-dir=" + field_of(fields, field_data_dir));
  // An option with an empty value is refused by cbcs: none is written.
  for (auto [option, name] :
       {std::pair{"-proxy-addr=", field_proxy_addr}, std::pair{"-proxy-port=", field_proxy_port},
        std::pair{"-proxy-user=", field_proxy_user}})
    if (!field_of(fields, name).empty()) allowed.insert(option + field_of(fields, name));
  std::size_t token_options = 0, password_options = 0, force_options = 0;
  std::set<std::string, std::less<>> options_seen;
  bool proxy_type_seen = false;
  for (std::size_t i = 1; i < plan.argv.size(); ++i) {
    const auto& arg = plan.argv[i];
    fuzz::check(allowed.count(arg) == 1, "an argument that is no option or plain field", arg);
    auto option = arg.substr(0, arg.find('='));
    fuzz::check(options_seen.insert(option).second, "an option given twice", option);
    if (option == "-proxy-type") proxy_type_seen = true;
    if (option.starts_with("-proxy-") && option != "-proxy-type")
      fuzz::check(proxy_type_seen, "a proxy option before -proxy-type", arg);
    token_options += arg == "-token=-";
    password_options += arg == "-proxy-password=-";
    force_options += arg == "-force";
  }
  fuzz::check(force_options == (trimmed(field_of(fields, field_force)) == "1" ? 1u : 0u),
              "-force not exactly when FORCE=1");
  fuzz::check(token_options == 1, "the token is not read from standard input once");
  fuzz::check(password_options == (password.empty() ? 0u : 1u),
              "the password is not read from standard input");
  auto line = windows_command_line(plan.argv);
  fuzz::check(split_command_line(line) == plan.argv, "the command line does not read back", line);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  bool identity_exists = (data[0] & 1) != 0;
  auto rest = fuzz::as_text(data + 1, size - 1);
  if ((data[0] & 2) != 0) {
    action_fields fields;
    std::vector<std::string_view> parts;
    for (std::size_t start = 0;;) {
      auto end = rest.find('\xff', start);
      parts.push_back(rest.substr(start, end == std::string_view::npos ? end : end - start));
      if (end == std::string_view::npos) break;
      start = end + 1;
    }
    for (std::size_t i = 0; i + 1 < parts.size(); i += 2)
      if (!parts[i].empty()) fields.emplace(std::string(parts[i]), std::string(parts[i + 1]));
    auto packed = pack_action_data(fields);
    auto back = unpack_action_data(packed);
    fuzz::check(back && *back == fields, "packed fields do not unpack equal");
    check_plan(fields, identity_exists);
    return 0;
  }
  auto fields = unpack_action_data(rest);
  if (!fields) return 0;
  auto again = unpack_action_data(pack_action_data(*fields));
  fuzz::check(again && *again == *fields, "unpacked fields do not pack and unpack equal");
  check_plan(*fields, identity_exists);
  // The log's two locks: escaped text is literal to MSI formatting (every
  // bracket inside a [\x] group) and reads back to the text; redaction
  // leaves no secret that has no '*' of its own.
  auto escaped = escape_msi_format(rest);
  std::string literal;
  auto bracket = [](char c) { return c == '[' || c == ']' || c == '{' || c == '}'; };
  for (std::size_t i = 0; i < escaped.size();) {
    if (!bracket(escaped[i])) {
      literal += escaped[i++];
      continue;
    }
    fuzz::check(i + 3 < escaped.size() && escaped[i] == '[' && escaped[i + 1] == '\\' &&
                    bracket(escaped[i + 2]) && escaped[i + 3] == ']',
                "a bracket outside an escape in log text");
    literal += escaped[i + 2];
    i += 4;
  }
  fuzz::check(literal == rest, "escaped log text does not read back");
  for (const auto& [name, value] : *fields)
    if (!value.empty() && value.find('*') == std::string::npos)
      fuzz::check(redact(std::string(rest), {value}).find(value) == std::string::npos,
                  "redact left the secret");
  return 0;
}
