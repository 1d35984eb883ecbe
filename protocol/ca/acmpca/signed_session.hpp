#pragma once
// What every AWS Private CA session does around its own calls: sign each
// with the backend's keys (static, or the instance role's, fetched first
// when there are none: credential_source.hpp), send the last call again
// signed anew when it got no answer (every call here is safe to repeat), and
// after AWS refused role keys fetch new ones once and send it again. Every
// message leaves without the keys' secrets.

#include <memory>
#include <optional>
#include <string>

#include "protocol/ca/acmpca/acmpca_backend.hpp"
#include "protocol/ca/common/http_session.hpp"

namespace cbcs::protocol::ca::acmpca {

class signed_session : public http_session {
 protected:
  explicit signed_session(std::shared_ptr<backend_state> backend);

  // The first step once the settings are known to be good.
  virtual step start() = 0;
  // A 2xx answer to the last call. A reader's std::runtime_error is an
  // internal failure.
  virtual step on_result(const http_response& answer) = 0;
  // A 4xx answer with AWS's error code that the operation reads itself
  // (RequestInProgressException, ...); nullopt: the failure it classifies as.
  virtual std::optional<step> on_error_code(const aws_error& e) {
    (void)e;
    return std::nullopt;
  }
  // The outcome of a call that failed; by default that outcome.
  virtual step on_failure(outcome failure) { return failure; }

  step send(call c);

  const private_ca_settings& settings() const { return backend_->settings; }
  const call& last_call() const { return last_; }
  // The message without any secret of the keys; a service could echo them.
  std::string scrub(std::string message) const;
  outcome internal(const std::string& message) const;

 private:
  step begin() final;
  step again() final;
  step on_answer(const http_response& answer) final;
  step sign_last();
  step on_error(const http_response& answer);

  std::shared_ptr<backend_state> backend_;
  std::optional<credential_use<crypto::sigv4::credentials>> role_keys_;  // none: static keys
  call last_;
};

}  // namespace cbcs::protocol::ca::acmpca
