#include "protocol/ca/common/json_answer.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace cbcs::protocol::ca {

void unreadable(std::string_view what, std::string_view why) {
  throw std::runtime_error(fmt::format("the {} cannot be read: {}", what, why));
}

json_fields answer_fields(simdjson::dom::parser& parser, std::string_view body,
                          std::string_view what) {
  simdjson::dom::element doc;
  if (auto error = parser.parse(body.data(), body.size()).get(doc))
    unreadable(what, simdjson::error_message(error));
  if (!doc.is_object()) unreadable(what, "it is not a JSON object");
  return json_fields(doc, std::string(what));
}

json_fields list_answer(simdjson::dom::parser& parser, std::string_view body, std::string_view what,
                        std::string_view key) {
  auto root = answer_fields(parser, body, what);
  if (!root.maybe_array(key)) unreadable(what, fmt::format("it has no \"{}\" array", key));
  return root;
}

}  // namespace cbcs::protocol::ca
