#pragma once
// A CA's JSON answer read as a whole object, for the drivers' wire files:
// every failure throws std::runtime_error "the <what> cannot be read: <why>",
// which a session turns into an `internal` outcome.

#include <simdjson.h>

#include <string>
#include <string_view>

#include "protocol/common/json_fields.hpp"

namespace cbcs::protocol::ca {

[[noreturn]] void unreadable(std::string_view what, std::string_view why);

// The fields of `body`, which must be a JSON object; they live as long as
// `parser`.
json_fields answer_fields(simdjson::dom::parser& parser, std::string_view body,
                          std::string_view what);

// Each object of the array field `key`, skipping anything else in it.
template <class F>
void for_each_object(const json_fields& fields, std::string_view key, std::string_view what,
                     F&& each) {
  auto list = fields.maybe_array(key);
  if (!list) return;
  for (auto e : *list)
    if (e.is_object()) each(json_fields(e, std::string(what)));
}

}  // namespace cbcs::protocol::ca
