// Renewal of the connector's certificate, without a link: when it is due,
// one request out at a time, the answer checked against the new key and the
// connector id, a silent SCM, a refusal.

#include <doctest/doctest.h>

#include "actors/scm/identity_renewal.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/certificate_request.hpp"
#include "crypto/pem.hpp"

using namespace cbcs;
using namespace std::chrono_literals;
using sys = std::chrono::system_clock;

namespace identity_renewal_test {

struct scm_ca {
  crypto::ca_identity identity =
      crypto::create_root_ca("ecdsa-p256", "SCM test CA", sys::now(), 48h);
  crypto::pkey_ptr key = crypto::parse_private_key(identity.key_pem);
  crypto::x509_ptr cert = std::move(crypto::parse_certificates(identity.cert_pem).front());
  crypto::certificate_issuer issuer{key.get(), cert.get()};

  std::string sign(const std::string& csr_pem, std::chrono::hours lifetime = 720h) {
    auto csr = crypto::check_certificate_request(csr_pem);
    return issuer.issue(csr, {.serial = {0x01, 0x02}, .now = sys::now(), .validity = lifetime}).pem;
  }
};

}  // namespace identity_renewal_test

TEST_SUITE("identity renewal") {
  TEST_CASE("due at the renewal time, one request at a time, the answer checked and taken") {
    identity_renewal_test::scm_ca ca;
    auto first_key = crypto::generate_key("ecdsa-p256");
    config::connector_identity current{.connector_id = "conn-42"};
    current.certificate_pem = ca.sign(crypto::create_csr(first_key.get(), "conn-42", {}));
    current.key_pem = crypto::private_key_to_pem(first_key.get());
    auto validity = config::validity_of(current.certificate_pem);

    actors::identity_renewal r;
    r.use(validity);
    auto now = std::chrono::steady_clock::now();
    std::string line;
    CHECK_FALSE(r.poll(current, now, validity.not_before + 1h, 0.5, line));
    CHECK(line.empty());
    // Late in its life: a fresh key and a CSR naming the connector.
    auto request = r.poll(current, now, validity.not_after - 1h, 0.5, line);
    REQUIRE(request);
    CHECK(line == "renewing the connector certificate");
    CHECK(crypto::check_certificate_request(request->csr_pem).subject_line() == "CN=conn-42");
    CHECK(r.awaiting_answer());
    CHECK_FALSE(r.poll(current, now + 1s, validity.not_after - 1h, 0.5, line));

    protocol::scm::identity_msg answer;
    answer.certificate_pem = ca.sign(request->csr_pem);
    auto taken = r.accept(answer, current, now + 2s, 1'800'000'000);
    REQUIRE(std::holds_alternative<config::connector_identity>(taken));
    auto& next = std::get<config::connector_identity>(taken);
    CHECK(next.certificate_pem == answer.certificate_pem);
    CHECK(next.key_pem != current.key_pem);
    CHECK(next.registered_at == 1'800'000'000);
    CHECK_FALSE(r.awaiting_answer());
    // Not asked for any more.
    CHECK(std::get<std::string>(r.accept(answer, current, now, 0)).find("not asked for") !=
          std::string::npos);
  }

  TEST_CASE("a certificate for another key or another connector is refused; silence times out") {
    identity_renewal_test::scm_ca ca;
    auto key = crypto::generate_key("ecdsa-p256");
    config::connector_identity current{.connector_id = "conn-7"};
    current.certificate_pem = ca.sign(crypto::create_csr(key.get(), "conn-7", {}));
    auto validity = config::validity_of(current.certificate_pem);
    auto now = std::chrono::steady_clock::now();
    auto late = validity.not_after - 1h;

    actors::identity_renewal r;
    r.use(validity);
    std::string line;
    REQUIRE(r.poll(current, now, late, 0.5, line));
    protocol::scm::identity_msg wrong;
    auto other = crypto::generate_key("ecdsa-p256");
    wrong.certificate_pem = ca.sign(crypto::create_csr(other.get(), "conn-7", {}));
    CHECK(std::get<std::string>(r.accept(wrong, current, now, 0)) ==
          "renewed certificate refused: the certificate is not for the new key");
    // Retried only after renewal_retry (an hour).
    CHECK_FALSE(r.poll(current, now + 30min, late, 0.5, line));
    auto again = r.poll(current, now + 61min, late, 0.5, line);
    REQUIRE(again);
    // SCM says nothing: after identity_timeout the request is given up.
    line.clear();
    CHECK_FALSE(r.poll(current, now + 61min + 61s, late, 0.5, line));
    CHECK(line == "no answer to the certificate renewal; trying again in about an hour");
    CHECK_FALSE(r.awaiting_answer());
    CHECK(r.next_wake(now + 61min + 61s, late) >= now + 61min + 61s + 54min);
    // SCM refuses: about an hour too.
    r.refused(now, 0.0);
    CHECK(r.next_wake(now, late) == now + 54min);
  }
}
