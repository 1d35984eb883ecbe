#include "protocol/common/json_fields.hpp"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "protocol/common/text.hpp"

namespace cbcs::protocol {

namespace dom = simdjson::dom;

json_fields::json_fields(dom::element e, std::string context) : context_(std::move(context)) {
  if (e.get_object().get(obj_)) empty_ = true;
}

void json_fields::raise(std::string message) const { throw json_field_error(std::move(message)); }

void json_fields::fail(std::string_view key, std::string_view problem) const {
  raise(fmt::format("{}: field \"{}\" {}", context_, key, problem));
  std::abort();  // raise() throws; the compiler cannot know it of a virtual
}

void json_fields::fail(std::string_view problem) const {
  raise(fmt::format("{}: {}", context_, problem));
  std::abort();
}

bool json_fields::has(std::string_view key) const {
  if (empty_) return false;
  auto f = obj_[key];
  return f.error() != simdjson::NO_SUCH_FIELD && !f.is_null();
}

std::string json_fields::str(std::string_view key) const {
  if (empty_ || obj_[key].error() == simdjson::NO_SUCH_FIELD) fail(key, "is missing");
  std::string_view v;
  if (obj_[key].get_string().get(v)) fail(key, "must be a string");
  return std::string(v);
}

std::string json_fields::nonempty_str(std::string_view key) const {
  auto v = str(key);
  if (v.empty()) fail(key, "must not be empty");
  return v;
}

std::string json_fields::opt_str(std::string_view key) const {
  return has(key) ? str(key) : std::string();
}

std::int64_t json_fields::integer(std::string_view key) const {
  if (empty_ || obj_[key].error() == simdjson::NO_SUCH_FIELD) fail(key, "is missing");
  std::int64_t v = 0;
  if (obj_[key].get_int64().get(v)) fail(key, "must be an integer");
  return v;
}

std::int64_t json_fields::count(std::string_view key) const {
  auto v = integer(key);
  if (v < 0) fail(key, "must not be negative");
  if (v > max_exact_json_integer) fail(key, "is too large");
  return v;
}

std::int64_t json_fields::positive(std::string_view key) const {
  auto v = count(key);
  if (v == 0) fail(key, "must be positive");
  return v;
}

bool json_fields::boolean(std::string_view key) const {
  if (empty_ || obj_[key].error() == simdjson::NO_SUCH_FIELD) fail(key, "is missing");
  bool v = false;
  if (obj_[key].get_bool().get(v)) fail(key, "must be true or false");
  return v;
}

dom::element json_fields::object(std::string_view key) const {
  if (empty_ || obj_[key].error() == simdjson::NO_SUCH_FIELD) fail(key, "is missing");
  dom::element e;
  if (obj_[key].get(e) || !e.is_object()) fail(key, "must be an object");
  return e;
}

dom::array json_fields::array(std::string_view key) const {
  if (empty_ || obj_[key].error() == simdjson::NO_SUCH_FIELD) fail(key, "is missing");
  dom::array a;
  if (obj_[key].get_array().get(a)) fail(key, "must be an array");
  return a;
}

std::optional<std::string> json_fields::maybe_str(std::string_view key) const {
  if (empty_) return std::nullopt;
  std::string_view v;
  if (obj_[key].get_string().get(v)) return std::nullopt;
  return std::string(v);
}

std::optional<dom::element> json_fields::maybe_object(std::string_view key) const {
  if (empty_) return std::nullopt;
  dom::element e;
  if (obj_[key].get(e) || !e.is_object()) return std::nullopt;
  return e;
}

std::optional<double> json_fields::maybe_number(std::string_view key) const {
  if (empty_) return std::nullopt;
  double v = 0;
  if (obj_[key].get(v)) return std::nullopt;
  return v;
}

std::optional<std::int64_t> json_fields::maybe_integer(std::string_view key) const {
  if (empty_) return std::nullopt;
  std::int64_t v = 0;
  if (obj_[key].get_int64().get(v)) return std::nullopt;
  return v;
}

std::optional<bool> json_fields::maybe_bool(std::string_view key) const {
  if (empty_) return std::nullopt;
  bool v = false;
  if (obj_[key].get_bool().get(v)) return std::nullopt;
  return v;
}

std::optional<dom::array> json_fields::maybe_array(std::string_view key) const {
  if (empty_) return std::nullopt;
  dom::array a;
  if (obj_[key].get_array().get(a)) return std::nullopt;
  return a;
}

std::string json_fields::line(std::string_view key, std::size_t max_bytes) const {
  auto v = maybe_str(key);
  return v ? one_line(*v, max_bytes) : std::string();
}

std::string json_fields::id(std::string_view key) const {
  if (empty_) return {};
  dom::element e;
  if (obj_[key].get(e)) return {};
  std::uint64_t u = 0;
  if (!e.get_uint64().get(u)) return std::to_string(u);
  std::string_view s;
  if (!e.get_string().get(s) && !s.empty() && s.size() <= 32 &&
      std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::string(s);
  return {};
}

}  // namespace cbcs::protocol
