#include "protocol/ca/acmpca/signed_session.hpp"

#include <stdexcept>

#include "protocol/ca/common/http_status.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::acmpca {

signed_session::signed_session(std::shared_ptr<backend_state> backend)
    : backend_(std::move(backend)) {
  if (backend_->role_keys) role_keys_.emplace(*backend_->role_keys);
}

step signed_session::begin() {
  if (!settings().problem.empty())
    return outcome::failed(error_class::invalid_request, settings().problem);
  return start();
}

step signed_session::send(call c) {
  last_ = std::move(c);
  return sign_last();
}

// The last call signed at this moment; or first (or still) the fetch of the
// instance role's keys, after which on_answer() comes back here.
step signed_session::sign_last() {
  const auto* keys = &settings().static_keys;
  if (role_keys_) {
    auto got = role_keys_->get(now());
    if (auto* first = std::get_if<step>(&got)) return std::move(*first);
    keys = std::get<const crypto::sigv4::credentials*>(got);
  }
  return signed_request(last_, settings().target, *keys, now());
}

step signed_session::again() { return sign_last(); }

step signed_session::on_answer(const http_response& answer) {
  if (role_keys_ && role_keys_->fetching()) {
    auto got = role_keys_->on_answer(answer, now());
    if (auto* failed = std::get_if<step>(&got)) return std::move(*failed);
    return signed_request(last_, settings().target,
                          *std::get<const crypto::sigv4::credentials*>(got), now());
  }
  if (!is_success(answer.status)) return on_error(answer);
  try {
    return on_result(answer);
  } catch (const std::runtime_error& e) {
    return internal(e.what());
  }
}

step signed_session::on_error(const http_response& answer) {
  if (answer.status >= 400 && answer.status < 500)
    if (auto read = on_error_code(parse_error(answer))) return std::move(*read);
  auto failure = classify_error(answer, last_.op);
  // Role keys AWS refuses (revoked sessions, a clock that jumped): fetch
  // new ones once and send the call again; static keys cannot change.
  if (failure.error == error_class::auth && role_keys_ && role_keys_->refused()) return sign_last();
  failure.message = scrub(std::move(failure.message));
  return on_failure(std::move(failure));
}

std::string signed_session::scrub(std::string message) const {
  const auto& keys = settings().static_keys;
  redact(message, keys.secret_access_key);
  if (keys.session_token) redact(message, *keys.session_token);
  if (role_keys_) return role_keys_->redacted(std::move(message));
  return message;
}

outcome signed_session::internal(const std::string& message) const {
  return outcome::failed(error_class::internal, scrub(message));
}

}  // namespace cbcs::protocol::ca::acmpca
