#pragma once
// Reads the fields of one JSON object (a parsed simdjson DOM) and names the
// object and the field in every error, never the value: one reader for SCM's
// frames and the CAs' answers.
//
// Strict readers (str, integer, object, ...) fail on a missing or mistyped
// field; maybe_* readers are for answers read leniently and give nullopt.
// A failure throws json_field_error, or what a subclass's fail() throws.

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cbcs::protocol {

// 2^53 - 1: the largest integer every JSON peer reads exactly.
inline constexpr std::int64_t max_exact_json_integer = (std::int64_t{1} << 53) - 1;

class json_field_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class json_fields {
 public:
  // `context` names the object in messages ("GetCertificate answer").
  json_fields(simdjson::dom::object obj, std::string context)
      : obj_(obj), context_(std::move(context)) {}
  // Not an object: every field is absent.
  json_fields(simdjson::dom::element e, std::string context);
  virtual ~json_fields() = default;

  // Throws for the whole object, or for one field of it.
  [[noreturn]] void fail(std::string_view key, std::string_view problem) const;
  [[noreturn]] void fail(std::string_view problem) const;

  // Absent and null both count as "not there".
  bool has(std::string_view key) const;

  std::string str(std::string_view key) const;
  std::string nonempty_str(std::string_view key) const;
  std::string opt_str(std::string_view key) const;  // "" when not there
  std::int64_t integer(std::string_view key) const;
  std::int64_t count(std::string_view key) const;  // 0 .. 2^53-1
  std::int64_t positive(std::string_view key) const;
  bool boolean(std::string_view key) const;
  simdjson::dom::element object(std::string_view key) const;
  simdjson::dom::array array(std::string_view key) const;

  // Lenient: nullopt when not there or not of that type.
  std::optional<std::string> maybe_str(std::string_view key) const;
  std::optional<simdjson::dom::element> maybe_object(std::string_view key) const;
  std::optional<double> maybe_number(std::string_view key) const;
  std::optional<std::int64_t> maybe_integer(std::string_view key) const;
  std::optional<bool> maybe_bool(std::string_view key) const;
  std::optional<simdjson::dom::array> maybe_array(std::string_view key) const;
  // A string made one safe line of at most `max_bytes` (text.hpp one_line);
  // "" when not there or not a string.
  std::string line(std::string_view key, std::size_t max_bytes = 512) const;
  // An id some services write as a number and others as a string of digits
  // (DigiCert): its digits, at most 32; "" when not there or not that.
  std::string id(std::string_view key) const;

  const std::string& context() const { return context_; }

 protected:
  // The one place a failure is thrown: SCM's reader throws its protocol error.
  [[noreturn]] virtual void raise(std::string message) const;

 private:
  simdjson::dom::object obj_;
  bool empty_ = false;
  std::string context_;
};

}  // namespace cbcs::protocol
