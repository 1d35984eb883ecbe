#include "protocol/scm/messages.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include "crypto/per_thread.hpp"
#include "protocol/ca/job_codec.hpp"
#include "protocol/common/json_fields.hpp"
#include "protocol/common/json_writer.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::scm {
namespace {

namespace dom = simdjson::dom;

// Peer-controlled text that ends up in our error messages and logs.
std::string sanitize(std::string_view text) {
  constexpr std::size_t limit = 64;
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < limit; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (text.size() > limit) out += "...";
  return out;
}

// A free text made one line (PROTOCOL.md, conventions): protocol::one_line,
// bounded to max_text_bytes with its "..." (idempotent, so decoded messages
// re-encode unchanged).
std::string one_line(std::string_view text) { return protocol::one_line(text, max_text_bytes); }

// A pending reason: 1 to 32 of a-z and '_', or empty (not given).
bool is_reason_word(std::string_view v) {
  if (v.size() > 32) return false;
  for (char c : v)
    if (!((c >= 'a' && c <= 'z') || c == '_')) return false;
  return true;
}

bool looks_like_pem(std::string_view text, std::string_view label) {
  auto begin = fmt::format("-----BEGIN {}-----", label);
  return text.find(begin) != std::string_view::npos;
}

// SCM's reading of a frame's fields: the shared reader (protocol/common/
// json_fields.hpp), failing with the protocol's error for that frame, plus
// the checks only frames need.
class fields : public json_fields {
 public:
  fields(dom::object obj, std::string context, std::string type = {},
         std::optional<std::uint64_t> seq = std::nullopt)
      : json_fields(obj, std::move(context)), type_(std::move(type)), seq_(seq) {}

  using json_fields::fail;

  // Free texts: one line, bounded.
  std::string text(std::string_view key) const { return one_line(str(key)); }
  std::string nonempty_text(std::string_view key) const { return one_line(nonempty_str(key)); }
  std::string opt_text(std::string_view key) const { return one_line(opt_str(key)); }

  std::string job_id(std::string_view key) const {
    auto v = str(key);
    if (!ca::is_valid_job_id(v)) fail(key, "is not a valid job id");
    return v;
  }

  std::string pem(std::string_view key, std::string_view label) const {
    auto v = str(key);
    if (!looks_like_pem(v, label)) fail(key, fmt::format("must be a PEM {}", label));
    return v;
  }

  std::uint64_t sequence(std::string_view key) const {
    return static_cast<std::uint64_t>(count(key));
  }

  const std::string& type() const { return type_; }
  std::optional<std::uint64_t> seq() const { return seq_; }

 private:
  [[noreturn]] void raise(std::string message) const override {
    throw scm_protocol_error(error_kind::malformed, std::move(message), type_, seq_);
  }

  std::string type_;
  std::optional<std::uint64_t> seq_;
};

dom::object parse_object(dom::parser& parser, std::string_view json, const char* what) {
  dom::element root;
  // An empty view may have no data at all: simdjson would memcpy from null.
  if (auto err = parser.parse(json.empty() ? "" : json.data(), json.size()).get(root))
    throw scm_protocol_error(error_kind::malformed, fmt::format("{} is not valid JSON: {}", what,
                                                                simdjson::error_message(err)));
  dom::object obj;
  if (root.get_object().get(obj))
    throw scm_protocol_error(error_kind::malformed, fmt::format("{} is not a JSON object", what));
  return obj;
}

// --- Encoding helpers.

json_writer envelope(std::string_view type, std::uint64_t seq) {
  json_writer w(false);
  w.begin_object().member("type", type).member("seq", seq);
  return w;
}

// json_writer has no raw member: splice an already encoded JSON value into a
// closed object that has at least one member.
std::string with_raw_member(std::string object_json, std::string_view key, std::string_view raw) {
  object_json.pop_back();  // the closing brace
  object_json += ',';
  append_json_string(object_json, key);
  object_json += ':';
  object_json += raw;
  object_json += '}';
  return object_json;
}

void write_backends(json_writer& w, const std::vector<backend_info>& backends) {
  w.key("backends").begin_array();
  for (const auto& b : backends) {
    w.begin_object()
        .member("name", b.name)
        .member("type", b.type)
        .member("health", to_string(b.state));
    if (!b.message.empty()) w.member("message", b.message);
    w.end_object();
  }
  w.end_array();
}

std::vector<backend_info> read_backends(const fields& f) {
  std::vector<backend_info> out;
  std::size_t index = 0;
  for (dom::element e : f.array("backends")) {
    dom::object obj;
    auto context = fmt::format("{}: backends[{}]", f.context(), index++);
    if (e.get_object().get(obj))
      throw scm_protocol_error(error_kind::malformed, context + " must be an object", f.type(),
                               f.seq());
    fields b(obj, context, f.type(), f.seq());
    backend_info info;
    info.name = b.nonempty_str("name");
    info.type = b.nonempty_str("type");
    info.state = health_from_string(b.str("health"));
    info.message = b.opt_text("message");
    out.push_back(std::move(info));
  }
  return out;
}

// --- Decoding, one function per type.

hello_msg read_hello(const fields& f) {
  hello_msg m;
  m.seq = f.sequence("seq");
  m.connector_id = f.nonempty_str("connector_id");
  m.version = f.nonempty_str("version");
  m.protocol = f.positive("protocol");
  m.backends = read_backends(f);
  return m;
}

hello_ack_msg read_hello_ack(const fields& f) {
  hello_ack_msg m;
  m.seq = f.sequence("seq");
  m.protocol = f.positive("protocol");
  m.server_time_ms = f.count("server_time_ms");
  m.heartbeat_interval_ms = f.positive("heartbeat_interval_ms");
  return m;
}

heartbeat_msg read_heartbeat(const fields& f) {
  heartbeat_msg m;
  m.seq = f.sequence("seq");
  m.time_ms = f.count("time_ms");
  if (f.has("backends")) m.backends = read_backends(f);
  return m;
}

heartbeat_ack_msg read_heartbeat_ack(const fields& f) {
  heartbeat_ack_msg m;
  m.seq = f.sequence("seq");
  m.ack = f.sequence("ack");
  m.time_ms = f.count("time_ms");
  return m;
}

job_msg read_job(const fields& f) {
  job_msg m;
  m.seq = f.sequence("seq");
  m.lease_id = f.nonempty_str("lease_id");
  m.lease_expires_at_ms = f.count("lease_expires_at_ms");
  auto raw = simdjson::minify(f.object("job"));
  try {
    m.job = ca::job_from_json(raw);
  } catch (const std::invalid_argument& e) {
    f.fail("job", fmt::format("is not a valid job: {}", e.what()));
  }
  return m;
}

job_ack_msg read_job_ack(const fields& f) {
  job_ack_msg m;
  m.seq = f.sequence("seq");
  m.job_id = f.job_id("job_id");
  m.lease_id = f.nonempty_str("lease_id");
  m.accepted = f.boolean("accepted");
  if (!m.accepted) m.reason = f.nonempty_text("reason");
  m.message = f.opt_text("message");
  return m;
}

result_msg read_result(const fields& f) {
  result_msg m;
  m.seq = f.sequence("seq");
  m.job_id = f.job_id("job_id");
  auto raw = simdjson::minify(f.object("outcome"));
  try {
    m.outcome = ca::outcome_from_json(raw);
  } catch (const std::invalid_argument& e) {
    f.fail("outcome", fmt::format("is not a valid outcome: {}", e.what()));
  }
  if (m.outcome.what == ca::outcome::kind::pending)
    f.fail("outcome", "is pending: that travels as a \"pending\" message");
  return m;
}

result_ack_msg read_result_ack(const fields& f) {
  result_ack_msg m;
  m.seq = f.sequence("seq");
  m.job_id = f.job_id("job_id");
  return m;
}

pending_msg read_pending(const fields& f) {
  pending_msg m;
  m.seq = f.sequence("seq");
  m.job_id = f.job_id("job_id");
  m.next_poll_at_ms = f.count("next_poll_at_ms");
  m.message = f.opt_text("message");
  m.reason = f.opt_str("reason");
  if (!is_reason_word(m.reason)) f.fail("reason", "must be a word of a-z and '_'");
  return m;
}

renew_identity_msg read_renew_identity(const fields& f) {
  renew_identity_msg m;
  m.seq = f.sequence("seq");
  m.csr_pem = f.pem("csr", "CERTIFICATE REQUEST");
  return m;
}

identity_msg read_identity(const fields& f) {
  identity_msg m;
  m.seq = f.sequence("seq");
  m.certificate_pem = f.pem("certificate", "CERTIFICATE");
  m.chain_pem = f.opt_str("chain");
  return m;
}

error_msg read_error(const fields& f) {
  error_msg m;
  m.seq = f.sequence("seq");
  m.code = f.nonempty_text("code");
  m.message = f.text("message");
  if (f.has("ref_seq")) m.ref_seq = f.sequence("ref_seq");
  if (f.has("job_id")) m.job_id = f.job_id("job_id");
  return m;
}

bye_msg read_bye(const fields& f) {
  bye_msg m;
  m.seq = f.sequence("seq");
  m.reason = f.nonempty_text("reason");
  m.message = f.opt_text("message");
  if (f.has("reconnect_after_ms")) m.reconnect_after_ms = f.count("reconnect_after_ms");
  return m;
}

cancel_msg read_cancel(const fields& f) {
  cancel_msg m;
  m.seq = f.sequence("seq");
  m.job_id = f.job_id("job_id");
  m.reason = f.opt_text("reason");
  return m;
}

}  // namespace

ca::outcome cancelled_outcome(std::string_view reason) {
  auto message = reason.empty() ? std::string("cancelled by SCM")
                                : fmt::format("cancelled by SCM: {}", reason);
  auto o = ca::outcome::failed(ca::error_class::rejected, std::move(message));
  o.retryable = false;
  return o;
}

const char* to_string(error_kind k) {
  switch (k) {
    case error_kind::malformed:
      return "malformed";
    case error_kind::too_large:
      return "too_large";
    case error_kind::unsupported_type:
      return "unsupported_type";
  }
  return "malformed";
}

const char* to_string(health h) {
  switch (h) {
    case health::healthy:
      return "healthy";
    case health::degraded:
      return "degraded";
    case health::unhealthy:
      return "unhealthy";
    case health::unknown:
      return "unknown";
  }
  return "unknown";
}

health health_from_string(std::string_view text) {
  for (auto h : {health::healthy, health::degraded, health::unhealthy})
    if (text == to_string(h)) return h;
  return health::unknown;
}

// --- encode

std::string encode(const hello_msg& m) {
  auto w = envelope(m.type, m.seq);
  w.member("connector_id", m.connector_id)
      .member("version", m.version)
      .member("protocol", m.protocol);
  write_backends(w, m.backends);
  w.end_object();
  return w.str();
}

std::string encode(const hello_ack_msg& m) {
  auto w = envelope(m.type, m.seq);
  w.member("protocol", m.protocol)
      .member("server_time_ms", m.server_time_ms)
      .member("heartbeat_interval_ms", m.heartbeat_interval_ms)
      .end_object();
  return w.str();
}

std::string encode(const heartbeat_msg& m) {
  auto w = envelope(m.type, m.seq);
  w.member("time_ms", m.time_ms);
  if (m.backends) write_backends(w, *m.backends);
  w.end_object();
  return w.str();
}

std::string encode(const heartbeat_ack_msg& m) {
  auto w = envelope(m.type, m.seq);
  w.member("ack", m.ack).member("time_ms", m.time_ms).end_object();
  return w.str();
}

std::string encode(const job_msg& m) {
  auto w = envelope(m.type, m.seq);
  w.member("lease_id", m.lease_id)
      .member("lease_expires_at_ms", m.lease_expires_at_ms)
      .end_object();
  return with_raw_member(w.str(), "job", ca::to_json(m.job));
}

std::string encode(const job_ack_msg& m) {
  auto w = envelope(m.type, m.seq);
  w.member("job_id", m.job_id).member("lease_id", m.lease_id).member("accepted", m.accepted);
  if (!m.accepted) w.member("reason", m.reason);
  if (!m.message.empty()) w.member("message", m.message);
  w.end_object();
  return w.str();
}

std::string encode(const result_msg& m) {
  auto w = envelope(m.type, m.seq);
  w.member("job_id", m.job_id).end_object();
  return with_raw_member(w.str(), "outcome", ca::to_json(m.outcome));
}

std::string encode(const result_ack_msg& m) {
  auto w = envelope(m.type, m.seq);
  w.member("job_id", m.job_id).end_object();
  return w.str();
}

std::string encode(const pending_msg& m) {
  auto w = envelope(m.type, m.seq);
  w.member("job_id", m.job_id).member("next_poll_at_ms", m.next_poll_at_ms);
  if (!m.message.empty()) w.member("message", m.message);
  if (!m.reason.empty()) w.member("reason", m.reason);
  w.end_object();
  return w.str();
}

std::string encode(const renew_identity_msg& m) {
  auto w = envelope(m.type, m.seq);
  w.member("csr", m.csr_pem).end_object();
  return w.str();
}

std::string encode(const identity_msg& m) {
  auto w = envelope(m.type, m.seq);
  w.member("certificate", m.certificate_pem);
  if (!m.chain_pem.empty()) w.member("chain", m.chain_pem);
  w.end_object();
  return w.str();
}

std::string encode(const error_msg& m) {
  auto w = envelope(m.type, m.seq);
  w.member("code", m.code).member("message", m.message);
  if (m.ref_seq) w.member("ref_seq", *m.ref_seq);
  if (!m.job_id.empty()) w.member("job_id", m.job_id);
  w.end_object();
  return w.str();
}

std::string encode(const bye_msg& m) {
  auto w = envelope(m.type, m.seq);
  w.member("reason", m.reason);
  if (!m.message.empty()) w.member("message", m.message);
  if (m.reconnect_after_ms > 0) w.member("reconnect_after_ms", m.reconnect_after_ms);
  w.end_object();
  return w.str();
}

std::string encode(const cancel_msg& m) {
  auto w = envelope(m.type, m.seq);
  w.member("job_id", m.job_id);
  if (!m.reason.empty()) w.member("reason", m.reason);
  w.end_object();
  return w.str();
}

std::string encode(const message& m) {
  return std::visit([](const auto& msg) { return encode(msg); }, m);
}

std::string_view type_of(const message& m) {
  return std::visit([](const auto& msg) { return std::string_view(msg.type); }, m);
}

std::uint64_t seq_of(const message& m) {
  return std::visit([](const auto& msg) { return msg.seq; }, m);
}

// --- decode

message decode(std::string_view frame) {
  if (frame.size() > max_frame_bytes)
    throw scm_protocol_error(error_kind::too_large,
                             fmt::format("frame of {} bytes is over the limit of {} bytes",
                                         frame.size(), max_frame_bytes));
  // One parser per thread: its buffers are reused from frame to frame.
  CBCS_PER_THREAD(dom::parser, parser);
  auto obj = parse_object(parser, frame, "frame");

  auto type_field = obj["type"];
  if (type_field.error() == simdjson::NO_SUCH_FIELD)
    throw scm_protocol_error(error_kind::malformed, "frame has no field \"type\"");
  std::string_view type_text;
  if (type_field.get_string().get(type_text))
    throw scm_protocol_error(error_kind::malformed, "frame: field \"type\" must be a string");
  auto type = sanitize(type_text);

  // Read seq leniently first, so that every later error can name it.
  std::optional<std::uint64_t> seq;
  std::int64_t raw_seq = 0;
  if (!obj["seq"].get_int64().get(raw_seq) && raw_seq >= 0 && raw_seq <= max_json_integer)
    seq = static_cast<std::uint64_t>(raw_seq);

  fields f(obj, type, type, seq);
  if (type_text == hello_msg::type) return read_hello(f);
  if (type_text == hello_ack_msg::type) return read_hello_ack(f);
  if (type_text == heartbeat_msg::type) return read_heartbeat(f);
  if (type_text == heartbeat_ack_msg::type) return read_heartbeat_ack(f);
  if (type_text == job_msg::type) return read_job(f);
  if (type_text == job_ack_msg::type) return read_job_ack(f);
  if (type_text == result_msg::type) return read_result(f);
  if (type_text == result_ack_msg::type) return read_result_ack(f);
  if (type_text == pending_msg::type) return read_pending(f);
  if (type_text == renew_identity_msg::type) return read_renew_identity(f);
  if (type_text == identity_msg::type) return read_identity(f);
  if (type_text == error_msg::type) return read_error(f);
  if (type_text == bye_msg::type) return read_bye(f);
  if (type_text == cancel_msg::type) return read_cancel(f);
  throw scm_protocol_error(error_kind::unsupported_type,
                           fmt::format("unsupported message type \"{}\"", type), type, seq);
}

// --- Registration

int http_status_of(std::string_view code) {
  if (code == registration_code::malformed_request || code == registration_code::csr_rejected)
    return 400;
  if (code == registration_code::token_unknown || code == registration_code::token_expired)
    return 401;
  if (code == registration_code::token_used) return 409;
  return 500;
}

std::string encode(const registration_request& r) {
  json_writer w(false);
  w.begin_object()
      .member("token", r.token)
      .member("csr", r.csr_pem)
      .member("hostname", r.hostname)
      .member("os", r.os)
      .member("os_version", r.os_version)
      .member("version", r.version)
      .end_object();
  return w.str();
}

std::string encode(const registration_response& r) {
  json_writer w(false);
  w.begin_object().member("connector_id", r.connector_id).member("certificate", r.certificate_pem);
  if (!r.chain_pem.empty()) w.member("chain", r.chain_pem);
  w.member("scm_ca", r.scm_ca_pem).member("session_url", r.session_url);
  if (!r.group.empty()) w.member("group", r.group);
  w.end_object();
  return w.str();
}

std::string encode(const registration_error& e) {
  json_writer w(false);
  w.begin_object().member("error", e.code).member("message", e.message).end_object();
  return w.str();
}

registration_request decode_registration_request(std::string_view body) {
  if (body.size() > max_frame_bytes)
    throw scm_protocol_error(error_kind::too_large, "registration request is over 1 MiB");
  dom::parser parser;
  fields f(parse_object(parser, body, "registration request"), "registration request");
  registration_request r;
  // The token's own checks live in installation_token.hpp; here only its shape.
  r.token = f.nonempty_str("token");
  r.csr_pem = f.pem("csr", "CERTIFICATE REQUEST");
  r.hostname = f.nonempty_str("hostname");
  r.os = f.nonempty_str("os");
  r.os_version = f.str("os_version");
  r.version = f.nonempty_str("version");
  return r;
}

registration_response decode_registration_response(std::string_view body) {
  if (body.size() > max_frame_bytes)
    throw scm_protocol_error(error_kind::too_large, "registration response is over 1 MiB");
  dom::parser parser;
  fields f(parse_object(parser, body, "registration response"), "registration response");
  registration_response r;
  r.connector_id = f.nonempty_str("connector_id");
  r.certificate_pem = f.pem("certificate", "CERTIFICATE");
  r.chain_pem = f.opt_str("chain");
  r.scm_ca_pem = f.pem("scm_ca", "CERTIFICATE");
  r.session_url = f.str("session_url");
  if (r.session_url.rfind("wss://", 0) != 0 || r.session_url.size() <= 6)
    f.fail("session_url", "must be a wss:// URL");
  r.group = f.opt_str("group");
  return r;
}

registration_error decode_registration_error(std::string_view body) {
  if (body.size() > max_frame_bytes)
    throw scm_protocol_error(error_kind::too_large, "registration error is over 1 MiB");
  dom::parser parser;
  fields f(parse_object(parser, body, "registration error"), "registration error");
  registration_error e;
  e.code = sanitize(f.nonempty_str("error"));
  // `cbcs register` prints it in its one-line error.
  e.message = f.text("message");
  return e;
}

}  // namespace cbcs::protocol::scm
