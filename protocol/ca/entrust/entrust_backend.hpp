#pragma once
// What an Entrust backend's sessions share: its settings (for the dialect
// it speaks, ECS or the CA Gateway) and the ECS client learnt once.

#include <chrono>
#include <cstdint>
#include <string>

#include "protocol/ca/common/pending_order.hpp"
#include "protocol/ca/driver.hpp"
#include "protocol/ca/entrust/entrust_api.hpp"

namespace cbcs::protocol::ca::entrust {

inline constexpr std::string_view gateway_base_url = "https://cagw.pkiaas.entrust.com/cagw";

// Named for the service: the actors have a backend_settings of their own.
struct entrust_settings {
  std::string name;
  bool gateway = false;  // -api cagw
  std::string base_url;
  // ECS
  std::string username;
  std::string api_key;
  std::string cert_type = "STANDARD_SSL";
  std::int64_t client_id = 0;  // 0: the account's only approved client
  bool renew_by_reissue = false;
  bool map_reasons = false;  // -revokereason map
  // tracking.requesterName/Email/Phone of every order (name: -username by default)
  std::string requester_name;
  std::string requester_email;
  std::string requester_phone;
  // CA Gateway
  std::string ca_id;
  std::string profile_id;
  pending_policy pending;
  std::string client_cert_pem;  // the sealed -cert, for backend test's expiry check
  // A setting that makes every job fail (invalid_request), naming it.
  std::string problem;

  static entrust_settings from(const driver_config& config);
};

struct backend_state {
  explicit backend_state(entrust_settings s) : settings(std::move(s)) {}

  entrust_settings settings;
  // The approved client found by GET /clients; the sessions all run on the
  // backend's one actor (driver.hpp), so a plain value.
  std::int64_t learnt_client_id = 0;
};

// An ECS call of the backend: its base URL and Basic credentials.
inline http_request ecs_call(const entrust_settings& s, std::string method, std::string_view path,
                             std::string body = {}) {
  return ecs_request(std::move(method), s.base_url + std::string(path), s.username, s.api_key,
                     std::move(body));
}
// The failed outcome of an ECS error answer, the credentials masked.
inline outcome ecs_failure(const entrust_settings& s, const http_response& answer,
                           std::string_view what, std::chrono::system_clock::time_point now) {
  return error_outcome(answer, what, s.username, s.api_key, now);
}

}  // namespace cbcs::protocol::ca::entrust
