#pragma once
// Where in a JSON text the parse failed, for error messages that name a line.

#include <cstddef>
#include <string>
#include <string_view>

namespace cbcs::protocol {

struct json_problem {
  std::string message;   // simdjson's reason, e.g. "TAPE_ERROR: ..."
  std::size_t line = 0;  // 1-based; 0 when the parser cannot say
};

// Parses text fully; returns an empty message when it is valid JSON.
json_problem find_json_problem(std::string_view text);

}  // namespace cbcs::protocol
