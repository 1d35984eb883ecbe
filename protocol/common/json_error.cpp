#include "protocol/common/json_error.hpp"

#include <algorithm>

#include <simdjson.h>

namespace cbcs::protocol {
namespace {

namespace od = simdjson::ondemand;

// Visits every value so that on-demand parsing meets every syntax error.
simdjson::error_code walk(od::value v, int depth) {
  if (depth > 256) return simdjson::DEPTH_ERROR;
  od::json_type type;
  if (auto err = v.type().get(type)) return err;
  switch (type) {
    case od::json_type::object: {
      od::object obj;
      if (auto err = v.get_object().get(obj)) return err;
      for (auto field : obj) {
        std::string_view key;
        if (auto err = field.unescaped_key().get(key)) return err;
        od::value child;
        if (auto err = field.value().get(child)) return err;
        if (auto err = walk(child, depth + 1)) return err;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::array: {
      od::array arr;
      if (auto err = v.get_array().get(arr)) return err;
      for (auto element : arr) {
        od::value child;
        if (auto err = element.get(child)) return err;
        if (auto err = walk(child, depth + 1)) return err;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::string: {
      std::string_view s;
      return v.get_string().get(s);
    }
    case od::json_type::number: {
      od::number n;
      return v.get_number().get(n);
    }
    case od::json_type::boolean: {
      bool b;
      return v.get_bool().get(b);
    }
    case od::json_type::null: {
      bool is_null = false;
      if (auto err = v.is_null().get(is_null)) return err;
      return is_null ? simdjson::SUCCESS : simdjson::N_ATOM_ERROR;
    }
  }
  return simdjson::SUCCESS;
}

}  // namespace

json_problem find_json_problem(std::string_view text) {
  // The DOM parser validates everything, including what follows the root.
  simdjson::dom::parser dom;
  simdjson::padded_string padded(text);
  if (!dom.parse(padded).error()) return {};
  auto dom_error = dom.parse(padded).error();

  // The on-demand parser can say where it stopped; use it for the line.
  json_problem out{simdjson::error_message(dom_error), 0};
  od::parser parser;
  od::document doc;
  if (parser.iterate(padded).get(doc)) return out;
  auto locate = [&] {
    const char* at = nullptr;
    if (doc.current_location().get(at) == simdjson::SUCCESS && at >= padded.data() &&
        at <= padded.data() + padded.size())
      out.line = 1 + static_cast<std::size_t>(
                         std::count(static_cast<const char*>(padded.data()), at, '\n'));
  };
  od::value root;
  if (doc.get_value().get(root) != simdjson::SUCCESS) {
    locate();
    return out;
  }
  if (walk(root, 0) != simdjson::SUCCESS) {
    locate();
    return out;
  }
  // Valid as a value but trailing content: the line is the last line.
  out.line = 1 + static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  return out;
}

}  // namespace cbcs::protocol
