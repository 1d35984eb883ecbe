#include "entrust/entrust_fixture.hpp"

#include "crypto/base64.hpp"
#include "protocol/ca/entrust/entrust_driver.hpp"
#include "protocol/common/json_writer.hpp"

namespace cbcs::test::entrust {

namespace ca = protocol::ca;

std::unique_ptr<ca::driver> make_ecs_driver(settings_map settings) {
  settings.emplace("endpoint", ecs_base);
  settings.emplace("username", username);
  settings.emplace("requesteremail", "pki@web.example");
  settings.emplace("requesterphone", "+1 555 0100");
  return ca::entrust::make_driver(
      {.name = "en", .settings = std::move(settings), .secrets = {{"apikey", api_key}}});
}

std::unique_ptr<ca::driver> make_gateway_driver(settings_map settings) {
  settings.emplace("endpoint", gateway_base);
  settings.emplace("api", "cagw");
  settings.emplace("caid", "CA1");
  settings.emplace("profile", "prof-tls");
  return ca::entrust::make_driver({.name = "gw", .settings = std::move(settings)});
}

std::string basic_auth() {
  return "Basic " + crypto::base64_encode(crypto::as_bytes(username + ":" + api_key));
}

ca::http_response ok(std::string body, int status) { return {status, {}, std::move(body)}; }

exchange ecs_get(const std::string& path, ca::http_response answer) {
  return {.method = "GET",
          .url = ecs_base + path,
          .headers = {{"Authorization", basic_auth()}},
          .answer = std::move(answer)};
}

exchange ecs_send(const std::string& method, const std::string& path,
                  std::vector<std::string> body_has, ca::http_response answer) {
  return {.method = method,
          .url = ecs_base + path,
          .body_has = std::move(body_has),
          .headers = {{"Authorization", basic_auth()}, {"Content-Type", "application/json"}},
          .answer = std::move(answer)};
}

exchange gateway_call(const std::string& method, const std::string& path,
                      std::vector<std::string> body_has, ca::http_response answer) {
  return {.method = method,
          .url = gateway_base + path,
          .body_has = std::move(body_has),
          .answer = std::move(answer)};
}

std::string clients_json(const std::string& status, bool two) {
  protocol::json_writer w(false);
  w.begin_object().key("clients").begin_array();
  w.begin_object()
      .member("clientId", std::int64_t{7})
      .member("clientName", "Example Inc")
      .member("verificationStatus", status)
      .end_object();
  if (two)
    w.begin_object()
        .member("clientId", std::int64_t{8})
        .member("clientName", "Example GmbH")
        .member("verificationStatus", "APPROVED")
        .end_object();
  w.end_array().end_object();
  return w.str();
}

namespace {

void write_certificate(protocol::json_writer& w, const certificate_fields& c) {
  w.begin_object().member("trackingId", c.tracking_id);
  if (!c.status.empty()) w.member("status", c.status);
  if (!c.end_entity_cert.empty()) w.member("endEntityCert", c.end_entity_cert);
  if (!c.chain.empty()) {
    w.key("chainCerts").begin_array();
    for (const auto& p : c.chain) w.value(p);
    w.end_array();
  }
  if (!c.csr.empty()) w.member("csr", c.csr);
  if (!c.tracking_info.empty())
    w.key("tracking").begin_object().member("trackingInfo", c.tracking_info).end_object();
  if (!c.issued.empty()) w.member("issueDateTime", c.issued);
  if (!c.dn.empty()) w.member("dn", c.dn);
  w.member("serialNumber", c.serial);
  w.end_object();
}

}  // namespace

std::string certificate_json(const certificate_fields& c) {
  protocol::json_writer w(false);
  write_certificate(w, c);
  return w.str();
}

std::string list_json(const std::vector<certificate_fields>& items) {
  protocol::json_writer w(false);
  w.begin_object().key("summary").begin_object();
  w.member("offset", std::int64_t{0}).member("limit", std::int64_t{200});
  w.member("total", std::int64_t(items.size())).end_object();
  w.key("certificates").begin_array();
  for (const auto& c : items) write_certificate(w, c);
  w.end_array().end_object();
  return w.str();
}

ca::job enroll(const std::string& id, const std::string& csr) {
  return {.id = id, .op = ca::operation::enroll, .backend = "en", .csr_pem = csr};
}

}  // namespace cbcs::test::entrust
