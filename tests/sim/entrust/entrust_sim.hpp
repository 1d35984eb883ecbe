#pragma once
// The simulated Entrust: both of its APIs on one TLS port that demands a
// client certificate, without the network (entrust_main.cpp puts it on
// sim_server). Written from the public documentation and Entrust's public
// clients, not from our driver; each rule cites its source:
//  [REF] ../shared/reference/ca-apis.md (the steering repository beside this one) §3 and field-lessons.md (Entrust)
//  [KF]  Keyfactor/entrust-ecs-caplugin, API/*.cs (models carrying the field
//        texts of Entrust's OpenAPI spec)
//  [A]   Entrust's ansible module ecs_certificate (community.crypto < 3.0.0)
//  [G]   EntrustCorporation/entrust, Entrust's Go ECS client (apimodel.go)
//  [VP]  EntrustCorporation/cagw-vault-plugin (op_sign.go, error_response.go)
//  [PU]  EntrustCorporation/pki-utilities cagw-shell-util/main.sh (Entrust's
//        own curl calls of the CA Gateway)
//  [AN]  EntrustCorporation/entrust-ansible-collection, Entrust's ansible
//        module cagw_certificate (plugins/modules/cagw_certificate.py)
//  [KC]  Keyfactor/entrust-cagateway-cagateway (src/EntrustCAProxy, its
//        test resources)
//
// ECS (Entrust Certificate Services v2) under /enterprise/v2: HTTP Basic
// username:apikey; orders issued at once (201), queued for approval (202)
// or declined by the approver, renewals, reissues, revocations, the list
// with filters. CA Gateway under /cagw/v1: CAs, profiles, enrollments,
// certificates by serial, revoke/hold actions. One issuing CA (a root and
// an intermediate made at start) signs for both. One thread.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "crypto/openssl_types.hpp"
#include "tests/sim/common/sim_routes.hpp"

namespace cbcs::sim::entrust {

// What POST /certificates does with an order that is not validateOnly
// (admin PUT /admin/approval): issue at once (201), queue it for an
// approver (202, PENDING), or queue it and have the approver decline it
// (202, then DECLINED).
enum class approval_mode { issue, queue, decline };

class entrust_sim {
 public:
  using clock = std::chrono::system_clock;
  entrust_sim(std::string username, std::string api_key);
  ~entrust_sim();

  // ECS, the path from /enterprise/v2 on (its {name} params in r).
  sim_response ecs(sim_request& r, const std::string& operation);
  // CA Gateway, the path from /cagw on.
  sim_response cagw(sim_request& r, const std::string& operation);
  // Every API answer passes here: POST /admin/truncate cuts the next ones'
  // bodies short (well-formed HTTP, the JSON cut in half).
  sim_response finish(bool cagw_api, sim_response out);
  // The simulator's own admin routes (/admin/...).
  sim_response admin(sim_request& r, const std::string& operation);
  void reset();

  // Entrust's error shapes.
  static sim_response ecs_error(int status, std::string_view message);
  static sim_response cagw_error(int status, std::string_view code, std::string_view message);

  std::string root_pem() const { return root_pem_; }

  // The records (entrust_records.hpp).
  struct order;
  struct gateway_certificate;

 private:

  clock::time_point now() const { return clock::now() + offset_; }
  bool authorized(const sim_request& r) const;
  bool throttled(bool cagw_api, sim_response& out);
  sim_response place(sim_request& r);
  sim_response submit(std::unique_ptr<order> o, bool queue_asked);
  sim_response renew_or_reissue(sim_request& r, order& old, bool renewal);
  sim_response revoke(sim_request& r, order& o);
  sim_response patch(sim_request& r, order& o);
  sim_response list(sim_request& r);
  sim_response enroll(sim_request& r);
  sim_response gateway_action(sim_request& r, gateway_certificate& c);
  void issue(order& o, std::chrono::seconds validity);
  order* find(const std::string& tracking_id);
  gateway_certificate* find_gateway(const std::string& serial);
  std::string order_json(const order& o, bool full) const;
  std::string gateway_json(const gateway_certificate& c) const;
  std::string admin_orders(const sim_request& r) const;
  std::string stats_json() const;

  std::string username_, api_key_;
  approval_mode mode_ = approval_mode::issue;
  std::chrono::seconds offset_{0};  // admin clock
  std::map<std::int64_t, std::unique_ptr<order>> orders_;
  std::map<std::string, std::unique_ptr<gateway_certificate>> gateway_;  // by serial, upper hex
  std::int64_t next_tracking_ = 3000001;
  std::int64_t next_enrollment_ = 1;
  // Throttling set by the admin: the next N requests of an API answer 429.
  int throttle_ecs_ = 0, throttle_cagw_ = 0;
  std::string retry_after_ = "1";
  int truncate_ecs_ = 0, truncate_cagw_ = 0;
  std::map<std::string, std::int64_t> counters_;
  // PKI
  crypto::pkey_ptr root_key_, intermediate_key_;
  crypto::x509_ptr intermediate_;
  std::string root_pem_, intermediate_pem_;
};

// Upper-case hex without leading zeros, ECS's serialNumber form [REF §3].
std::string ecs_serial(std::string_view hex);

}  // namespace cbcs::sim::entrust
