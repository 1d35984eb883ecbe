#pragma once
// The state of the simulated Google Cloud CA Service (privateca v1, REST) and
// its OAuth token endpoint, as Google's public REST reference describes them:
// one project and location, CA pools (Enterprise or DevOps) with CAs that
// issue real certificates, certificate templates, requestId de-duplication,
// IAM permissions held by the one service account, a create quota.
// Routes: tests/sim/README.md.

#include <chrono>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "crypto/openssl_types.hpp"
#include "tests/sim/common/sim_server.hpp"

namespace cbcs::sim::gcpcas {

struct gcpcas_options {
  std::string project = "test-project";
  std::string location = "us-east1";
  std::int64_t token_lifetime_s = 3600;
};

class gcpcas_sim {
 public:
  gcpcas_sim(const std::string& state_dir, gcpcas_options options, sim_pki& pki);
  ~gcpcas_sim();

  // Routes on the server; writes the key file once the port is known.
  void install(sim_server& server);
  void on_listening(std::uint16_t port);
  const std::string& key_file() const { return key_file_; }
  void reset();

 private:
  struct ca_record {
    std::string id;
    std::string state = "ENABLED";
    crypto::pkey_ptr key;
    crypto::x509_ptr cert;
    std::string cert_pem;
    std::deque<std::chrono::steady_clock::time_point> creates;  // the last second's
  };
  struct pool_record {
    std::string id;
    std::string tier = "ENTERPRISE";
    std::vector<ca_record> cas;
    std::size_t next_ca = 0;
  };
  struct certificate_record {
    std::string name;
    std::string json_base;   // every field but revocationDetails, without the closing brace
    std::string serial_hex;  // hexSerialNumber: lower case, no leading zero digit
    std::string revocation;  // "" or the revocationDetails JSON
  };

  sim_response create(sim_request& r);
  sim_response get_certificate(sim_request& r);
  sim_response list_certificates(sim_request& r);
  sim_response revoke(sim_request& r);
  sim_response list_pools(sim_request& r);
  sim_response get_pool(sim_request& r);
  sim_response list_cas(sim_request& r);
  sim_response test_permissions(sim_request& r);
  sim_response list_templates(sim_request& r);
  sim_response token(sim_request& r);
  sim_response admin_pools(sim_request& r);
  sim_response admin_permissions(sim_request& r);
  sim_response admin_stats(sim_request& r);

  // "" when the request may go on; else the 401/403 answer's message.
  std::optional<sim_response> check_auth(const sim_request& r, std::string_view permission,
                                         const std::string& resource);
  std::optional<sim_response> check_parent(const sim_request& r);
  pool_record* find_pool(std::string_view id);
  std::string pool_name(const pool_record& p) const;
  std::string pool_json(const pool_record& p) const;
  std::string ca_json(const pool_record& p, const ca_record& ca) const;
  std::string certificate_json(const certificate_record& c) const;
  void add_pool(std::string id, std::string tier, std::vector<std::string> cas);
  sim_response error(int code, std::string_view status, std::string_view message) const;

  std::string state_dir_;
  gcpcas_options options_;
  sim_pki& pki_;
  std::string key_file_;
  std::string token_url_;
  std::string client_email_;
  std::string key_id_;
  crypto::pkey_ptr account_key_;
  bool key_disabled_ = false;

  std::vector<pool_record> pools_;
  std::set<std::string> templates_;
  std::set<std::string> held_;  // IAM permissions of the service account
  std::map<std::string, certificate_record> certificates_;               // by name
  std::map<std::string, std::string> request_ids_;                       // requestId -> answer JSON
  std::map<std::string, std::chrono::steady_clock::time_point> tokens_;  // access token -> expiry
  std::deque<std::vector<std::uint8_t>> next_serials_;  // PUT /serials: the next certificates'
  std::int64_t creates_per_second_ = 0;                 // 0: no quota
  std::int64_t token_requests_ = 0;
  std::int64_t token_refusals_ = 0;
  std::int64_t self_signed_jwts_ = 0;
  std::int64_t created_ = 0;
  std::int64_t deduplicated_ = 0;
  std::int64_t quota_refusals_ = 0;
};

int run(int argc, char** argv);

}  // namespace cbcs::sim::gcpcas
