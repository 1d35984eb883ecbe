#pragma once
// The revocation flow both Entrust dialects share: look the certificate up,
// revoke it unless it is revoked already, and never ask twice blind:
//
//   lookup -> revoked already: done | the revocation request
//   revoke -> success: done (unless the answer itself refuses, below)
//          -> its answer lost: looked up again first
//          -> refused (4xx, not auth): looked up once more (an earlier
//             revocation whose answer was lost makes Entrust refuse), then
//             the refusal
//
// Each dialect says how to look up, how to read the answer and what its
// errors mean.

#include <optional>
#include <string_view>

#include "protocol/ca/common/http_session.hpp"

namespace cbcs::protocol::ca::entrust {

class lookup_revoke_session : public http_session {
 protected:
  // A failure found before any request (a setting, the reason, the serial).
  virtual std::optional<outcome> prepare() = 0;
  virtual http_request lookup_request() = 0;
  // The answer to lookup_request(): the revocation request, or an outcome
  // (done when revoked already, a failure).
  virtual step read_lookup(const http_response& answer) = 0;
  // The outcome of an error answer to `what`.
  virtual outcome failure(const http_response& answer, std::string_view what) = 0;
  // The report once revoked; `already` when it was before this job asked.
  virtual outcome revoked(bool already) = 0;
  // A successful answer to the revocation that refuses it all the same (the
  // CA Gateway's action status REJECTED): the refusal, handled as a 4xx.
  virtual std::optional<outcome> refused_in(const http_response& answer) {
    (void)answer;
    return std::nullopt;
  }

 private:
  enum class stage : std::uint8_t { lookup, revoke };

  step begin() final;
  step again() final;
  step on_answer(const http_response& answer) final;
  step lookup();

  stage stage_ = stage::lookup;
  std::optional<outcome> refusal_;
};

}  // namespace cbcs::protocol::ca::entrust
