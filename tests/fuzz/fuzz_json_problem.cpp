// protocol::find_json_problem: runs on every damaged JSON file to say where it
// broke. Never crashes; the message is empty exactly when simdjson's DOM
// parser accepts the text, and a line it names exists in the text.

#include <algorithm>

#include <simdjson.h>

#include "fuzz_check.hpp"
#include "protocol/common/json_error.hpp"

using namespace cbcs;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = fuzz::as_text(data, size);
  simdjson::dom::parser parser;
  bool valid = !parser.parse(simdjson::padded_string(text)).error();
  auto problem = protocol::find_json_problem(text);
  fuzz::check(problem.message.empty() == valid,
              valid ? "valid JSON reported as a problem" : "invalid JSON reported as valid",
              problem.message);
  if (valid) {
    fuzz::check(problem.line == 0, "valid JSON has a problem line");
  } else {
    auto lines = 1 + static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
    fuzz::check(problem.line <= lines, "the problem line is past the end of the text");
  }
  return 0;
}
