#pragma once
// What every CA Service session does the same way: the settings and the
// job's profile checked first; each call sent with the backend's access token
// (held, awaited, fetched, or fetched once more after a 401: credential_use);
// the pool found when neither the job nor the backend names one (the
// location's only pool); success answers handed to the session, error answers
// classified, every message redacted of the token.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/ca/common/http_session.hpp"
#include "protocol/ca/gcpcas/gcpcas_backend.hpp"

namespace cbcs::protocol::ca::gcpcas {

class ca_service_session : public http_session {
 protected:
  ca_service_session(std::shared_ptr<backend_state> backend, const job& j);

  // The first step, once the settings and the job's profile are fine.
  virtual step start() = 0;
  // The success answer to the session's last call.
  virtual step on_reply(std::string_view body) = 0;
  // An error answer the session reads itself (ALREADY_EXISTS to a create);
  // nullopt: the job fails as classify_error says.
  virtual std::optional<step> on_refusal(const http_response& answer, const google_error& error);
  // What the last call does, for messages: "create a certificate in pool P".
  virtual std::string what() const = 0;
  // The location's pools are listed (find_pools): by default the only one
  // becomes the job's pool, learnt for the backend, and with_pool goes on.
  virtual step pools_listed();

  step send(api_call call);
  // `then` once the pool is known: the job's or the backend's, else the
  // location's only one.
  step with_pool(std::function<step()> then);
  // Every page of the location's pools into pools_, then pools_listed().
  step find_pools();

  // One line without the token.
  std::string scrub(std::string message) const;
  outcome internal(std::string message) const;

  std::shared_ptr<backend_state> backend_;
  const ca_service_settings& settings_;
  job job_;
  profile_choice profile_;
  std::string pool_;              // the job's, else the backend's; else learnt
  std::vector<pool_info> pools_;  // as find_pools listed them

 private:
  step begin() final;
  step again() final;
  step on_answer(const http_response& answer) final;

  step on_error(const http_response& answer);
  step on_pools(std::string_view body);
  step with_token(credential_use<std::string>::result got);

  credential_use<std::string> token_;
  api_call last_;
  bool listing_pools_ = false;
  std::string page_token_;
  int pages_ = 0;
  std::function<step()> after_pool_;
};

}  // namespace cbcs::protocol::ca::gcpcas
