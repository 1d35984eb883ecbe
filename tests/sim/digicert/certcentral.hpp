#pragma once
// The simulated CertCentral (Services API v2), without the network: each
// request in, its answer out, following DigiCert's public documentation
// (not the driver): organizations, orders that issue at once, wait for an
// approver or for validation, or are rejected; requests to approve or
// reject; reissue, renewal orders, revocation of a certificate or an
// order, cancel; downloads; the per-key rate limits with 429. Real
// certificates from a root and an intermediate made at start. One thread.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "crypto/openssl_types.hpp"

namespace cbcs::sim::digicert {

struct answer {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// What happens to an order of one organization and product.
enum class order_policy { issue, approve, validate, reject };

class certcentral {
 public:
  using clock = std::chrono::system_clock;
  explicit certcentral(std::string api_key);
  ~certcentral();

  // The API: `target` is the path with its query, from /services/v2 on.
  answer handle(const std::string& method, const std::string& target, const std::string& api_key,
                const std::string& body, clock::time_point now);

  // The admin API (plain HTTP, tests only): /admin/...
  answer admin(const std::string& method, const std::string& target, const std::string& body,
               clock::time_point now);

  std::string root_pem() const { return root_pem_; }

 private:
  struct certificate;
  struct order;
  struct request;
  struct organization;

  answer place(const std::string& product, const std::string& body, clock::time_point now);
  answer reissue(order& o, const std::string& body, clock::time_point now);
  answer revoke(order& o, certificate* c, const std::string& body, clock::time_point now);
  answer set_request(request& r, const std::string& body, bool by_api, clock::time_point now);
  answer order_list(const std::string& query);
  answer order_info(const order& o);
  answer cancel(order& o, const std::string& body);
  bool rate_limited(clock::time_point now, answer& out);
  void approve(request& r, clock::time_point now);
  void issue(order& o, const std::string& csr, clock::time_point now);
  order* find_order(const std::string& id_or_serial);
  void index_certificate(order& o, const certificate& c);
  std::string order_json(const order& o) const;
  std::string chain_json(const order& o) const;
  std::string bundle(const order& o, bool root) const;
  order_policy policy_for(std::int64_t org, const std::string& product) const;
  bool approver() const;

  std::string api_key_;
  std::vector<std::string> roles_{"Administrator"};
  std::map<std::int64_t, std::unique_ptr<organization>> organizations_;
  std::map<std::int64_t, std::unique_ptr<order>> orders_;
  // Lookups by certificate id, serial and common name, so that a simulator
  // holding 100,000 orders (the soak) answers each in constant time.
  std::unordered_map<std::int64_t, order*> order_of_certificate_;
  std::unordered_map<std::string, order*> order_of_serial_;
  std::unordered_map<std::string, std::set<std::int64_t>> orders_of_common_name_;
  std::map<std::int64_t, std::unique_ptr<request>> requests_;
  std::map<std::string, order_policy> policies_;  // "org/product" or "*/product" or "org/*"
  std::int64_t next_order_ = 10001, next_request_ = 501, next_certificate_ = 90001;
  std::uint32_t next_serial_ = 0x1000;
  // Rate limits: requests in each window, per key (one key here).
  struct window {
    int limit;
    std::chrono::milliseconds length;
  };
  std::vector<window> windows_{{100, std::chrono::seconds(5)}, {1000, std::chrono::minutes(3)}};
  std::deque<clock::time_point> recent_;
  bool retry_after_ = true;
  int throttled_ = 0;
  // PKI
  crypto::pkey_ptr root_key_, intermediate_key_;
  crypto::x509_ptr intermediate_;
  std::string root_pem_, intermediate_pem_;
};

}  // namespace cbcs::sim::digicert
