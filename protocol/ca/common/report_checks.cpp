#include "protocol/ca/common/report_checks.hpp"

#include <fmt/format.h>

#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca {

// A check's detail quotes the CA (a CA's key algorithm, subject, status):
// one line each, so the outcome's message is one line whatever the CA sent.
void report_checks::add(std::string check, std::string verdict, std::string detail) {
  lines_.push_back({one_line(check, 256), std::move(verdict), one_line(detail, 2048)});
}

bool report_checks::failed() const {
  for (const auto& l : lines_)
    if (l.verdict == "fail") return true;
  return false;
}

void report_checks::write(json_writer& w) const {
  w.key("checks").begin_array();
  for (const auto& l : lines_)
    w.begin_object()
        .member("check", l.check)
        .member("verdict", l.verdict)
        .member("detail", l.detail)
        .end_object();
  w.end_array();
}

std::string report_checks::words() const {
  std::string out;
  for (const auto& l : lines_)
    out += fmt::format("{}{}: {}: {}", out.empty() ? "" : "; ", l.check, l.verdict, l.detail);
  return out;
}

}  // namespace cbcs::protocol::ca
