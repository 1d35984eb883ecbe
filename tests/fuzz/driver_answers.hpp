#pragma once
// What the driver fuzz targets share: the input's answers (a status byte and
// a body each, separated by 0xff, a byte JSON text never holds) and the
// properties of every outcome a driver returns.

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "fuzz_check.hpp"
#include "protocol/ca/driver.hpp"
#include "protocol/ca/job_codec.hpp"

namespace cbcs::fuzz {

struct scripted_answer {
  std::uint8_t status_byte = 0;
  std::string_view body;
};

inline std::vector<scripted_answer> split_answers(std::string_view rest) {
  std::vector<scripted_answer> out;
  while (true) {
    auto cut = rest.find('\xff');
    auto part = rest.substr(0, cut);
    scripted_answer a;
    if (!part.empty()) {
      a.status_byte = static_cast<std::uint8_t>(part.front());
      a.body = part.substr(1);
    }
    out.push_back(a);
    if (cut == std::string_view::npos) break;
    rest.remove_prefix(cut + 1);
  }
  return out;
}

// One line of UTF-8 without any of `secrets`; an identifier as the code;
// and the journal reads it back (it stores every outcome as JSON).
inline void check_driver_outcome(const protocol::ca::outcome& o,
                                 std::initializer_list<std::string_view> secrets) {
  for (auto s : secrets)
    check(o.message.find(s) == std::string::npos, "an outcome message carries a credential",
          o.message);
  for (unsigned char c : o.message)
    check(c >= 0x20 && c != 0x7f, "an outcome message is not one line", o.message);
  // Checked here, not only through the journal, which repairs bad UTF-8.
  check(simdjson::validate_utf8(o.message), "an outcome message is not UTF-8", o.message);
  check(o.backend_code.size() <= 128 &&
            std::all_of(o.backend_code.begin(), o.backend_code.end(),
                        [](char c) {
                          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                                 c == '.' || c == '-';
                        }),
        "a backend code is not an identifier", o.backend_code);
  auto json = protocol::ca::to_json(o);
  try {
    (void)protocol::ca::outcome_from_json(json);
  } catch (const std::exception& e) {
    fail("the journal could not read this outcome back", std::string(e.what()) + " in " + json);
  }
}

}  // namespace cbcs::fuzz
