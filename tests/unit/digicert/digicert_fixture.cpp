#include "digicert/digicert_fixture.hpp"

#include <openssl/pem.h>

#include "crypto/certificate_authority.hpp"
#include "crypto/certificate_request.hpp"
#include "crypto/pem.hpp"
#include "protocol/ca/digicert/digicert_driver.hpp"
#include "protocol/common/json_writer.hpp"

namespace cbcs::test::digicert {

namespace ca = protocol::ca;
using namespace std::chrono_literals;

std::unique_ptr<ca::driver> make_driver(std::map<std::string, std::string, std::less<>> settings) {
  settings.emplace("endpoint", "https://dc.test");
  ca::driver_config c{
      .name = "dc", .settings = std::move(settings), .secrets = {{"apikey", api_key}}};
  return ca::digicert::make_driver(c);
}

keyed_csr make_csr(const std::string& common_name, const std::vector<std::string>& dns) {
  keyed_csr out;
  out.key = crypto::generate_key("ecdsa-p256");
  out.csr_pem = crypto::create_csr(out.key.get(), common_name, dns);
  return out;
}

namespace {

crypto::x509_ptr read_cert(const std::string& pem) {
  return std::move(crypto::parse_certificates(pem).front());
}

crypto::x509_req_ptr read_csr(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), int(pem.size()));
  crypto::x509_req_ptr req(PEM_read_bio_X509_REQ(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return req;
}

}  // namespace

test_ca::test_ca() {
  auto now = std::chrono::system_clock::now();
  auto root = crypto::create_root_ca("ecdsa-p256", "Test Root", now - 1h, 24h * 365);
  root_pem = root.cert_pem;
  root_key = crypto::parse_private_key(root.key_pem);
  intermediate_key = crypto::generate_key("ecdsa-p256");
  auto csr = crypto::create_csr(intermediate_key.get(), "web.example", {});
  auto root_cert = read_cert(root_pem);
  intermediate_pem =
      crypto::issue_certificate(root_key.get(), root_cert.get(), read_csr(csr).get(),
                                {.serial = {0x7f}, .now = now, .validity = 24h * 300});
}

std::string test_ca::leaf_for(const std::string& csr_pem, std::uint8_t serial) {
  auto issuer = read_cert(intermediate_pem);
  return crypto::issue_certificate(
      intermediate_key.get(), issuer.get(), read_csr(csr_pem).get(),
      {.serial = {0x10, serial}, .now = std::chrono::system_clock::now(), .validity = 24h * 90});
}

std::string organizations_json(const std::string& validation_status, bool two) {
  protocol::json_writer w(false);
  w.begin_object().key("organizations").begin_array();
  auto org = [&](std::int64_t id, const std::string& name) {
    w.begin_object()
        .member("id", id)
        .member("name", name)
        .member("status", "active")
        .member("is_active", true)
        .key("validations")
        .begin_array()
        .begin_object()
        .member("type", "ov")
        .member("status", validation_status)
        .member("validated_until", "2027-10-01T00:00:00+00:00")
        .end_object()
        .end_array()
        .end_object();
  };
  org(112233, "Example Inc");
  if (two) org(445566, "Example GmbH");
  w.end_array().end_object();
  return w.str();
}

std::string order_json(const std::string& id, const std::string& status, const std::string& csr,
                       const std::string& request_status, const std::string& comments) {
  protocol::json_writer w(false);
  w.begin_object().member("id", std::int64_t(std::stoll(id))).member("status", status);
  w.member("date_created", "2026-12-01T10:00:00+00:00");
  w.key("certificate")
      .begin_object()
      .member("id", std::int64_t(std::stoll(id) + 1000))
      .member("serial_number", "1001")
      .member("common_name", "web.example");
  if (!csr.empty()) w.member("csr", csr);
  w.end_object();
  if (!comments.empty()) w.member("comments", comments);
  if (!request_status.empty())
    w.key("requests")
        .begin_array()
        .begin_object()
        .member("id", std::int64_t{555})
        .member("status", request_status)
        .end_object()
        .end_array();
  w.end_object();
  return w.str();
}

std::string with_crlf(std::string pem) {
  std::string out;
  for (char c : pem) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

}  // namespace cbcs::test::digicert
