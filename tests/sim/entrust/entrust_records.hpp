#pragma once
// The records behind the simulated Entrust (entrust_sim.hpp): one ECS order
// per trackingId, one CA Gateway certificate per serial number.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tests/sim/entrust/entrust_sim.hpp"

namespace cbcs::sim::entrust {

struct entrust_sim::order {
  std::int64_t tracking_id = 0;
  // ACTIVE, PENDING, DECLINED, REVOKED, REISSUED, RENEWED, SUSPENDED, ... [A]
  std::string status;
  std::string kind = "new";    // new, renewal, reissue (admin listing only)
  std::int64_t previous = 0;   // the order renewed or reissued
  std::string csr, cert_type, eku, signing_alg, org;
  std::vector<std::string> ou, sans;
  std::string tracking_info, requester_name, requester_email, requester_phone;
  std::chrono::seconds validity{0};
  // certExpiryDate: the expiry itself, whenever the order issues.
  std::optional<clock::time_point> expiry_date;
  clock::time_point created, issued, expires;
  std::string pem, serial, dn;  // empty until issued
  std::string decline_reason, crl_reason, revocation_comment;
  clock::time_point revoked_at;
};

struct entrust_sim::gateway_certificate {
  std::string enrollment_id;
  std::string ca_id, profile_id;
  std::string serial;  // upper-case hex, no leading zeros
  std::string subject;
  std::string pem;
  std::string status = "normal";  // normal, held, revoked [REF §3]
  std::string reason, comment;
  clock::time_point issued, expires, revoked_at;
};

}  // namespace cbcs::sim::entrust
