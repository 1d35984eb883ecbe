#include "cli/docs/readme_docs.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "protocol/ca/registry.hpp"

namespace cbcs::cli::docs {
namespace {

namespace ca = protocol::ca;

// A table cell: a '|' would end it, a line break would end the row.
std::string cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += ' ';
    else
      out += c;
  }
  return out;
}

std::string option_list(std::span<const ca::option_spec> options) {
  std::string out;
  for (const auto& o : options) {
    if (o.generated) continue;
    out += fmt::format("{}`-{} {}`{}: {}", out.empty() ? "" : "; ", o.name, cell(o.value_name),
                       o.required ? " (required)" : "", cell(o.help));
  }
  return out.empty() ? "—" : out;
}

std::string sealed_list(const ca::backend_type& type) {
  std::string out;
  for (const auto& o : type.options) {
    if (!ca::is_sealed(o.kind)) continue;
    auto made = type.generated_by.empty() ? std::string(" (made at `backend add`)")
                                          : fmt::format(" (made by `{}`)", type.generated_by);
    out += fmt::format("{}`-{}`{}", out.empty() ? "" : ", ", o.name, o.generated ? made : "");
  }
  return out.empty() ? "—" : out;
}

}  // namespace

std::string section_begin(std::string_view name) {
  return fmt::format("<!-- generated: {} (`{}` writes it; do not edit) -->", name, readme_command);
}

std::string section_end(std::string_view name) {
  return fmt::format("<!-- end of generated: {} -->", name);
}

std::string backend_types_table(std::span<const ca::backend_type* const> types) {
  std::string out =
      "| type | CA | its options | sealed in the vault | default `-ratelimit` | default "
      "`-maxinflight` | reaches a CA over the network |\n"
      "|---|---|---|---|---|---|---|\n";
  for (const auto* t : types) {
    auto limits = ca::format_rate_limits(t->policy.limits);
    out += fmt::format("| `{}` | {}{} | {} | {} | `{}`{} | {} | {} |\n", t->name, cell(t->title),
                       t->make_driver ? "" : " (its driver is not written yet: its jobs fail)",
                       option_list(t->options), sealed_list(*t), limits,
                       t->policy.limits_for ? ", its options may change it" : "",
                       ca::max_in_flight_of(*t), t->policy.remote ? "yes" : "no");
  }
  auto common = ca::common_options();
  out += fmt::format("| every type | | {} | — | | | |\n", option_list(common));
  std::string with_identity;
  for (const auto* t : types)
    if (!t->policy.client_identity.empty())
      with_identity += fmt::format("{}`{}`", with_identity.empty() ? "" : ", ", t->name);
  if (!with_identity.empty())
    out += fmt::format(
        "| every type with a client certificate ({}) | | {}; read at `backend add` and `set`, "
        "never kept | — | | | |\n",
        with_identity, option_list(ca::identity_input_options()));
  std::string remote_only;
  for (const auto& o : common)
    if (o.remote_only)
      remote_only += fmt::format("{}`-{}`", remote_only.empty() ? "" : ", ", o.name);
  out += fmt::format("\n{} only for a type that reaches a CA over the network.\n", remote_only);
  return out;
}

std::string with_section(std::string_view text, std::string_view name, std::string_view content) {
  auto begin = section_begin(name), end = section_end(name);
  auto b = text.find(begin);
  auto e = text.find(end);
  if (b == std::string_view::npos || e == std::string_view::npos || e < b ||
      text.find(begin, b + 1) != std::string_view::npos)
    throw std::runtime_error(
        fmt::format("the README has no section between \"{}\" and \"{}\"", begin, end));
  std::string out(text.substr(0, b));
  out += begin;
  out += '\n';
  out += content;
  out += text.substr(e);
  return out;
}

std::string generated_readme(std::string_view readme) {
  return with_section(readme, "backend types", backend_types_table(ca::backend_types()));
}

}  // namespace cbcs::cli::docs
