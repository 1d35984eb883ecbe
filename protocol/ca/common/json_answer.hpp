#pragma once
// A CA's JSON answer read as a whole object, for the drivers' wire files:
// every failure throws std::runtime_error "the <what> cannot be read: <why>",
// which a session turns into an `internal` outcome.

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/common/json_fields.hpp"

namespace cbcs::protocol::ca {

[[noreturn]] void unreadable(std::string_view what, std::string_view why);

// The fields of `body`, which must be a JSON object; they live as long as
// `parser`.
json_fields answer_fields(simdjson::dom::parser& parser, std::string_view body,
                          std::string_view what);

// The fields of `body`, which must be an object with the array `key` (a
// list answer: its items, and perhaps a summary beside them).
json_fields list_answer(simdjson::dom::parser& parser, std::string_view body, std::string_view what,
                        std::string_view key);

// Each object of the array field `key`, skipping anything else in it.
template <class F>
void for_each_object(const json_fields& fields, std::string_view key, std::string_view what,
                     F&& each) {
  auto list = fields.maybe_array(key);
  if (!list) return;
  for (auto e : *list)
    if (e.is_object()) each(json_fields(e, std::string(what)));
}

// An answer that is an object with the array `key` of items: each object
// in it read by `read` (returning std::optional<T>: nullopt skips it).
// Throws as above, and when the array is missing.
template <class T, class F>
std::vector<T> read_object_list(std::string_view body, std::string_view what, std::string_view key,
                                F&& read) {
  simdjson::dom::parser parser;
  auto root = list_answer(parser, body, what, key);
  std::vector<T> out;
  for_each_object(root, key, what, [&](const json_fields& item) {
    if (std::optional<T> value = read(item)) out.push_back(std::move(*value));
  });
  return out;
}

}  // namespace cbcs::protocol::ca
