#pragma once
// The verdict lines of a `backend test` report, one shape for every type:
// what was checked, ok / warn / fail, and what was found. They go into the
// report as its "checks" array, which the CLI prints as a table and SCM
// reads; the outcome's message says them in one line.

#include <string>
#include <vector>

#include "protocol/common/json_writer.hpp"

namespace cbcs::protocol::ca {

struct report_check {
  std::string check;    // "API key", "organization", "pool ca-pool-1"
  std::string verdict;  // ok, warn, fail
  std::string detail;   // one line, never a secret
};

class report_checks {
 public:
  void ok(std::string check, std::string detail) { add(std::move(check), "ok", std::move(detail)); }
  void warn(std::string check, std::string detail) {
    add(std::move(check), "warn", std::move(detail));
  }
  void fail(std::string check, std::string detail) {
    add(std::move(check), "fail", std::move(detail));
  }
  void add(std::string check, std::string verdict, std::string detail);

  bool failed() const;
  // The "checks" member of the report object being written.
  void write(json_writer& w) const;
  // "check: verdict: detail; ..." for the outcome's message.
  std::string words() const;

 private:
  std::vector<report_check> lines_;
};

}  // namespace cbcs::protocol::ca
