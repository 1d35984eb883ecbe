#include "protocol/ca/entrust/lookup_revoke_session.hpp"

#include "protocol/ca/common/http_status.hpp"

namespace cbcs::protocol::ca::entrust {

step lookup_revoke_session::begin() {
  if (auto bad = prepare()) return *bad;
  return lookup();
}

step lookup_revoke_session::again() {
  // A revocation whose answer was lost: see whether it was made first.
  if (stage_ == stage::revoke) return lookup();
  return http_session::again();
}

step lookup_revoke_session::lookup() {
  stage_ = stage::lookup;
  return lookup_request();
}

step lookup_revoke_session::on_answer(const http_response& answer) {
  if (stage_ == stage::lookup) {
    auto next = read_lookup(answer);
    if (!std::holds_alternative<http_request>(next)) return next;
    if (refusal_) return *refusal_;
    stage_ = stage::revoke;
    return next;
  }
  std::optional<outcome> refused;
  if (is_success(answer.status)) {
    refused = refused_in(answer);
    if (!refused) return revoked(false);
  }
  auto failed = refused ? *refused : failure(answer, "revoking the certificate");
  bool is_refusal = refused || (!failed.retryable && answer.status >= 400 && answer.status < 500 &&
                                answer.status != 401 && answer.status != 403);
  if (is_refusal && !refusal_) {
    refusal_ = failed;
    return lookup();
  }
  return failed;
}

}  // namespace cbcs::protocol::ca::entrust
