#pragma once
// An Entrust account for the driver tests: drivers for both dialects and
// the answers ECS and the CA Gateway give, as their public clients read
// them. Keys and certificates come from the DigiCert fixture's test CA (a
// leaf signed by an intermediate with the leaf's CN).

#include <memory>
#include <string>
#include <vector>

#include "digicert/digicert_fixture.hpp"
#include "driver_harness.hpp"
#include "protocol/ca/driver.hpp"

namespace cbcs::test::entrust {

using digicert::make_csr;
using digicert::test_ca;

inline const std::string ecs_base = "https://ecs.test/enterprise/v2";
inline const std::string gateway_base = "https://cagw.test/cagw";
inline const std::string username = "apiuser";
inline const std::string api_key = "ENTRUSTKEY-0123456789abcdefXYZW";

using settings_map = std::map<std::string, std::string, std::less<>>;
std::unique_ptr<protocol::ca::driver> make_ecs_driver(settings_map settings = {});
std::unique_ptr<protocol::ca::driver> make_gateway_driver(settings_map settings = {});

// "Basic base64(apiuser:key)".
std::string basic_auth();

protocol::ca::http_response ok(std::string body, int status = 200);
// ECS: a GET or a call with a body, Basic auth checked.
exchange ecs_get(const std::string& path, protocol::ca::http_response answer);
exchange ecs_send(const std::string& method, const std::string& path,
                  std::vector<std::string> body_has, protocol::ca::http_response answer);
exchange gateway_call(const std::string& method, const std::string& path,
                      std::vector<std::string> body_has, protocol::ca::http_response answer);

// GET /clients with one client 7 in `status`, or two approved ones.
std::string clients_json(const std::string& status = "APPROVED", bool two = false);

struct certificate_fields {
  std::int64_t tracking_id = 0;
  std::string status;
  std::string end_entity_cert;
  std::vector<std::string> chain;
  std::string csr;
  std::string tracking_info;
  std::string issued = "2026-12-02T11:59:00Z";
  std::string dn = "CN=web.example";
  std::string serial = "1001";
};
std::string certificate_json(const certificate_fields& c);
// {summary{total}, certificates[...]}.
std::string list_json(const std::vector<certificate_fields>& items);

protocol::ca::job enroll(const std::string& id, const std::string& csr);

}  // namespace cbcs::test::entrust
