#include "protocol/ca/job_codec.hpp"

#include <algorithm>
#include <stdexcept>

#include <simdjson.h>

#include "crypto/per_thread.hpp"
#include "protocol/common/json_parser.hpp"
#include "protocol/common/json_writer.hpp"

namespace cbcs::protocol::ca {
namespace {

namespace dom = simdjson::dom;

const char* kind_name(outcome::kind k) {
  switch (k) {
    case outcome::kind::issued:
      return "issued";
    case outcome::kind::pending:
      return "pending";
    case outcome::kind::failed:
      return "failed";
    case outcome::kind::done:
      return "done";
  }
  return "failed";
}

dom::object parse_object(dom::parser& parser, std::string_view json, const char* what) {
  dom::element root;
  if (auto err = parser.parse(json.data(), json.size()).get(root))
    throw std::invalid_argument(std::string(what) +
                                " is not valid JSON: " + simdjson::error_message(err));
  dom::object obj;
  if (root.get_object().get(obj))
    throw std::invalid_argument(std::string(what) + " is not an object");
  return obj;
}

std::string get_string(dom::object obj, std::string_view key, bool required = false) {
  std::string_view v;
  auto field = obj[key];
  if (field.error() == simdjson::NO_SUCH_FIELD) {
    if (required) throw std::invalid_argument("field \"" + std::string(key) + "\" is missing");
    return {};
  }
  if (field.get_string().get(v))
    throw std::invalid_argument("field \"" + std::string(key) + "\" must be a string");
  return std::string(v);
}

std::int64_t get_int(dom::object obj, std::string_view key) {
  auto field = obj[key];
  if (field.error() == simdjson::NO_SUCH_FIELD) return 0;
  std::int64_t v = 0;
  if (field.get_int64().get(v))
    throw std::invalid_argument("field \"" + std::string(key) + "\" must be an integer");
  return v;
}

}  // namespace

bool is_valid_job_id(std::string_view id) {
  return !id.empty() && id.size() <= 128 &&
         std::all_of(id.begin(), id.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; });
}

std::string to_json(const job& j) {
  json_writer w(false);
  w.begin_object()
      .member("id", j.id)
      .member("operation", to_string(j.op))
      .member("backend", j.backend);
  if (!j.csr_pem.empty()) w.member("csr", j.csr_pem);
  if (!j.cert_pem.empty()) w.member("certificate", j.cert_pem);
  if (!j.serial_hex.empty()) w.member("serial", j.serial_hex);
  if (!j.reason.empty()) w.member("reason", j.reason);
  if (j.validity_seconds) w.member("validity_seconds", j.validity_seconds);
  if (!j.profile.empty()) w.member("profile", j.profile);
  if (!j.params.empty()) {
    w.key("params").begin_object();
    for (const auto& [k, v] : j.params) w.member(k, v);
    w.end_object();
  }
  w.end_object();
  return w.str();
}

job job_from_json(std::string_view json) {
  CBCS_PER_THREAD(dom::parser, parser);
  auto obj = parse_object(reused(parser), json, "job");
  job j;
  j.id = get_string(obj, "id", true);
  if (!is_valid_job_id(j.id)) throw std::invalid_argument("field \"id\" is not a valid job id");
  auto op = get_string(obj, "operation", true);
  if (!from_string(op, j.op)) throw std::invalid_argument("field \"operation\" is unknown");
  j.backend = get_string(obj, "backend", true);
  j.csr_pem = get_string(obj, "csr");
  j.cert_pem = get_string(obj, "certificate");
  j.serial_hex = get_string(obj, "serial");
  j.reason = get_string(obj, "reason");
  j.validity_seconds = get_int(obj, "validity_seconds");
  if (j.validity_seconds < 0) throw std::invalid_argument("field \"validity_seconds\" is negative");
  j.profile = get_string(obj, "profile");
  dom::object params;
  if (auto f = obj["params"]; f.error() != simdjson::NO_SUCH_FIELD) {
    if (f.get_object().get(params))
      throw std::invalid_argument("field \"params\" must be an object");
    for (auto [k, v] : params) {
      std::string_view s;
      if (v.get_string().get(s)) throw std::invalid_argument("params must hold strings");
      j.params.emplace(std::string(k), std::string(s));
    }
  }
  return j;
}

std::string to_json(const outcome& o) {
  json_writer w(false);
  w.begin_object().member("outcome", kind_name(o.what));
  switch (o.what) {
    case outcome::kind::issued:
      w.member("certificate", o.certificate_pem)
          .member("chain", o.chain_pem)
          .member("serial", o.serial_hex);
      break;
    case outcome::kind::pending:
      w.member("poll_after_ms", static_cast<std::int64_t>(o.poll_after.count()));
      if (!o.pending_reason.empty()) w.member("pending_reason", o.pending_reason);
      break;
    case outcome::kind::failed:
      w.member("error", to_string(o.error)).member("retryable", o.retryable);
      if (!o.backend_code.empty()) w.member("backend_code", o.backend_code);
      break;
    case outcome::kind::done:
      break;
  }
  if (!o.message.empty()) w.member("message", o.message);
  if (o.what == outcome::kind::done) w.member("report", o.report_json);
  w.end_object();
  return w.str();
}

outcome outcome_from_json(std::string_view json) {
  CBCS_PER_THREAD(dom::parser, parser);
  auto obj = parse_object(reused(parser), json, "outcome");
  auto kind = get_string(obj, "outcome", true);
  outcome o;
  if (kind == "issued") {
    o = outcome::issued(get_string(obj, "certificate"), get_string(obj, "chain"),
                        get_string(obj, "serial"));
  } else if (kind == "pending") {
    o = outcome::pending(std::chrono::milliseconds(get_int(obj, "poll_after_ms")));
    o.pending_reason = get_string(obj, "pending_reason");
  } else if (kind == "failed") {
    auto name = get_string(obj, "error");
    error_class c = error_class::internal;
    for (auto candidate :
         {error_class::network, error_class::tls, error_class::auth, error_class::throttled,
          error_class::invalid_request, error_class::rejected, error_class::unavailable,
          error_class::internal, error_class::not_implemented})
      if (name == to_string(candidate)) c = candidate;
    o = outcome::failed(c, {}, get_string(obj, "backend_code"));
    bool retryable = false;
    if (!obj["retryable"].get_bool().get(retryable)) o.retryable = retryable;
  } else if (kind == "done") {
    o = outcome::done(get_string(obj, "report"));
  } else {
    throw std::invalid_argument("field \"outcome\" is unknown");
  }
  o.message = get_string(obj, "message");
  return o;
}

}  // namespace cbcs::protocol::ca
