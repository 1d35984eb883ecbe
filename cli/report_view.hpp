#pragma once
// A finished job's report (backend test, revoke) for a person: the verdict
// table every type's test writes ("checks": check, verdict, detail), else
// the report's plain fields one per line. `--json` prints the report itself.

#include <string>

#include "protocol/ca/driver.hpp"

namespace cbcs::cli {

// "" when the report is empty or not JSON (the caller prints it as it is).
std::string human_report(const protocol::ca::job& job, const protocol::ca::outcome& o);

// The verdict lines in one short line (cbcs doctor): "3 checks ok (API key,
// organization, permissions)", else the lines that are not ok; "" without any.
std::string checks_in_short(const protocol::ca::outcome& o);

}  // namespace cbcs::cli
