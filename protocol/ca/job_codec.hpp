#pragma once
// JSON forms of jobs and outcomes: the journal stores them, the CLI's job
// files and the SCM protocol carry them.

#include <string>
#include <string_view>

#include "protocol/ca/driver.hpp"

namespace cbcs::protocol::ca {

std::string to_json(const job& j);
std::string to_json(const outcome& o);

// Throw std::invalid_argument with a one-line reason on malformed input.
job job_from_json(std::string_view json);
outcome outcome_from_json(std::string_view json);

// Job ids: 1 to 128 printable ASCII characters without spaces.
bool is_valid_job_id(std::string_view id);

}  // namespace cbcs::protocol::ca
