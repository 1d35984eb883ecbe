#include "protocol/ca/common/vendor_error.hpp"

#include <simdjson.h>

#include <algorithm>

#include "crypto/per_thread.hpp"
#include "protocol/common/json_parser.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca {
namespace dom = simdjson::dom;
namespace {

bool is_code(std::string_view s, std::size_t limit) {
  return !s.empty() && s.size() <= limit &&
         std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

std::string code_of(dom::element e, std::size_t limit) {
  std::string_view s;
  if (!e.get_string().get(s)) return is_code(s, limit) ? std::string(s) : std::string();
  std::int64_t n = 0;
  if (!e.get_int64().get(n)) return std::to_string(n);
  return {};
}

}  // namespace

vendor_error read_vendor_error(std::string_view body, const vendor_error_shape& shape) {
  vendor_error out;
  if (body.empty()) return out;
  CBCS_PER_THREAD(dom::parser, parser);
  dom::element doc;
  if (reused(parser).parse(body.data(), body.size()).get(doc)) return out;
  dom::object error;
  bool found = false;
  for (auto key : shape.at) {
    dom::element e = doc;
    if (!key.empty() && (!doc.is_object() || doc[key].get(e))) continue;
    dom::array list;
    std::string_view text;
    if (!e.get_array().get(list)) {
      for (auto item : list)
        if (!item.get_object().get(error)) {
          found = true;
          break;
        }
    } else if (!e.get_object().get(error)) {
      found = true;
    } else if (!e.get_string().get(text)) {
      out.message = one_line(text, shape.message_limit);
      return out;
    }
    if (found) break;
  }
  if (!found) return out;
  for (auto key : shape.code) {
    dom::element e;
    if (!error[key].get(e) && !(out.code = code_of(e, shape.code_limit)).empty()) break;
  }
  for (auto key : shape.message) {
    std::string_view s;
    if (!error[key].get_string().get(s) && !s.empty()) {
      out.message = one_line(s, shape.message_limit);
      break;
    }
  }
  return out;
}

}  // namespace cbcs::protocol::ca
