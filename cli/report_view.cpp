#include "cli/report_view.hpp"

#include <fmt/format.h>
#include <simdjson.h>

namespace cbcs::cli {
namespace {

namespace dom = simdjson::dom;

// A scalar as a person reads it; nullopt for arrays and objects.
std::optional<std::string> scalar_text(dom::element e) {
  switch (e.type()) {
    case dom::element_type::STRING:
      return std::string(std::string_view(e));
    case dom::element_type::INT64:
      return std::to_string(std::int64_t(e));
    case dom::element_type::UINT64:
      return std::to_string(std::uint64_t(e));
    case dom::element_type::DOUBLE:
      return fmt::format("{}", double(e));
    case dom::element_type::BOOL:
      return bool(e) ? "yes" : "no";
    default:
      return std::nullopt;
  }
}

std::string words_of(std::string_view key) {
  std::string out(key);
  for (auto& c : out)
    if (c == '_') c = ' ';
  return out;
}

}  // namespace

std::string human_report(const protocol::ca::job& job, const protocol::ca::outcome& o) {
  if (o.report_json.empty()) return {};
  dom::parser parser;
  dom::object report;
  if (parser.parse(o.report_json).get_object().get(report)) return {};
  bool failed = o.what == protocol::ca::outcome::kind::failed;
  std::string out;
  dom::array checks;
  if (!report["checks"].get_array().get(checks)) {
    std::size_t width = 0, fails = 0, warns = 0;
    for (auto c : checks) {
      std::string_view name, verdict;
      if (!c["check"].get_string().get(name)) width = std::max(width, name.size());
      if (!c["verdict"].get_string().get(verdict)) {
        fails += verdict == "fail";
        warns += verdict == "warn";
      }
    }
    for (auto c : checks) {
      std::string_view name, verdict, detail;
      if (c["check"].get_string().get(name)) name = "?";
      if (c["verdict"].get_string().get(verdict)) verdict = "?";
      if (c["detail"].get_string().get(detail)) detail = "";
      out += fmt::format("  {:<5} {:<{}}  {}\n", verdict, name, width, detail);
    }
    out += fmt::format("verdict: backend {} {}\n", job.backend,
                       failed || fails
                           ? fmt::format("fails {} check(s)", std::max<std::size_t>(fails, 1))
                       : warns ? fmt::format("works, with {} warning(s)", warns)
                               : std::string("works"));
    return out;
  }
  // Any other report (a revocation's): its plain fields.
  std::size_t width = 0;
  for (auto field : report)
    if (scalar_text(field.value)) width = std::max(width, field.key.size());
  out += fmt::format("{} {} at backend {} (job {})\n", protocol::ca::to_string(job.op),
                     failed ? "failed" : "done", job.backend, job.id);
  for (auto field : report)
    if (auto text = scalar_text(field.value))
      out += fmt::format("  {:<{}}  {}\n", words_of(field.key), width, *text);
  return out;
}

std::string checks_in_short(const protocol::ca::outcome& o) {
  dom::parser parser;
  dom::array checks;
  if (o.report_json.empty() || parser.parse(o.report_json)["checks"].get_array().get(checks))
    return {};
  std::string ok_names, not_ok;
  std::size_t ok = 0;
  for (auto c : checks) {
    std::string_view name, verdict, detail;
    if (c["check"].get_string().get(name) || c["verdict"].get_string().get(verdict)) continue;
    if (c["detail"].get_string().get(detail)) detail = "";
    if (verdict == "ok") {
      ++ok;
      ok_names += fmt::format("{}{}", ok_names.empty() ? "" : ", ", name);
    } else {
      not_ok += fmt::format("{}{} {}: {}", not_ok.empty() ? "" : "; ", name, verdict, detail);
    }
  }
  if (!not_ok.empty()) return not_ok;
  return fmt::format("{} check(s) ok ({})", ok, ok_names);
}

}  // namespace cbcs::cli
