// The AD CS driver over CES on the driver harness: what it sends (a SOAP
// envelope with the UsernameToken, a CMS on behalf carrying requestername)
// and every disposition and fault it reads: issued, taken under submission
// then issued, the CA's refusal by HRESULT, a security fault, a 5xx without
// SOAP, a lost answer (never sent again), and what it refuses before any
// request.

#include <doctest/doctest.h>

#include <fmt/format.h>

#include "crypto/base64.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/certificate_request.hpp"
#include "crypto/cms_request.hpp"
#include "crypto/pem.hpp"
#include "driver_harness.hpp"
#include "protocol/ca/msca/msca_driver.hpp"
#include "test_pki.hpp"

using namespace cbcs;
namespace ca = protocol::ca;
using namespace std::chrono_literals;

namespace msca_driver_test {

const auto t0 = std::chrono::sys_days{std::chrono::year{2026} / 12 / 7} + 12h;
const ca::step_context ctx{t0};
const std::string ces = "https://ca01.corp.example/Corp%20CA_CES_UsernamePassword/service.svc/CES";

struct pki {
  crypto::ca_identity root =
      crypto::create_root_ca("ecdsa-p256", "Corp CA", std::chrono::system_clock::now() - 1h, 24h * 365);
  crypto::ca_identity agent =
      crypto::create_root_ca("ecdsa-p256", "agent host", std::chrono::system_clock::now() - 1h, 24h * 365);
  std::string csr = test::make_csr("p256", "web.example", "web.example");
};

pki& keys() {
  static pki p;
  return p;
}

std::unique_ptr<ca::driver> driver(bool with_agent = true, std::string auth = "username") {
  ca::driver_config c{.name = "ad"};
  c.settings = {{"server", "ca01.corp.example"},
                {"ca", "Corp CA"},
                {"auth", auth},
                {"transport", "ces"},
                {"username", "CORP\\svc"},
                {"template", "WebServer"},
                {"requester", "CORP\\jdoe"}};
  c.secrets = {{"password", "pa ss-word"}};
  if (with_agent) {
    c.secrets.emplace("agentcert", keys().agent.cert_pem);
    c.secrets.emplace("agentkey", keys().agent.key_pem);
  }
  return ca::msca::make_driver(c);
}

std::string b64(std::string_view der) {
  return crypto::base64_encode(
      crypto::byte_view(reinterpret_cast<const std::uint8_t*>(der.data()), der.size()));
}

std::string der_of(const std::string& pem) {
  auto der = crypto::pem_block_der(pem, "CERTIFICATE");
  return std::string(der->begin(), der->end());
}

// A certs-only SignedData with the CA's certificate: the chain part of the answer.
std::string chain_cms() { return test::certs_only_cms(keys().root.cert_pem); }

std::string envelope(const std::string& body) {
  return "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
         "xmlns:a=\"http://www.w3.org/2005/08/addressing\"><s:Header><a:Action "
         "s:mustUnderstand=\"1\">http://schemas.microsoft.com/windows/pki/2009/01/enrollment/"
         "RSTRC/wstep</a:Action></s:Header><s:Body>" +
         body + "</s:Body></s:Envelope>";
}

const std::string secext =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";

ca::http_response answer(const std::string& disposition, const std::string& id,
                         const std::string& leaf_pem) {
  auto requested = leaf_pem.empty()
                       ? fmt::format("<SecurityTokenReference xmlns=\"{}\"><Reference URI=\"{}\"/>"
                                     "</SecurityTokenReference>",
                                     secext, id)
                       : fmt::format("<BinarySecurityToken ValueType=\"http://docs.oasis-open.org/"
                                     "wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3\" "
                                     "xmlns=\"{}\">{}&#xD;</BinarySecurityToken>",
                                     secext, b64(der_of(leaf_pem)));
  auto body = fmt::format(
      "<RequestSecurityTokenResponseCollection "
      "xmlns=\"http://docs.oasis-open.org/ws-sx/ws-trust/200512\"><RequestSecurityTokenResponse>"
      "<TokenType>http://docs.oasis-open.org/wss/2004/01/"
      "oasis-200401-wss-x509-token-profile-1.0#X509v3</TokenType><DispositionMessage "
      "xmlns=\"http://schemas.microsoft.com/windows/pki/2009/01/enrollment\">{}</"
      "DispositionMessage><BinarySecurityToken ValueType=\"http://docs.oasis-open.org/wss/2004/"
      "01/oasis-200401-wss-x509-token-profile-1.0#PKCS7\" xmlns=\"{}\">{}</BinarySecurityToken>"
      "<RequestedSecurityToken>{}</RequestedSecurityToken><RequestID "
      "xmlns=\"http://schemas.microsoft.com/windows/pki/2009/01/enrollment\">{}</RequestID>"
      "</RequestSecurityTokenResponse></RequestSecurityTokenResponseCollection>",
      disposition, secext, b64(chain_cms()), requested, id);
  return {200, {{"Content-Type", "application/soap+xml; charset=utf-8"}}, envelope(body)};
}

ca::http_response fault(const std::string& subcode, const std::string& detail_code,
                        const std::string& reason) {
  std::string sub =
      subcode.empty() ? ""
                      : fmt::format("<s:Subcode><s:Value xmlns:a=\"{}\">a:{}</s:Value></s:Subcode>",
                                    secext, subcode);
  std::string detail =
      detail_code.empty()
          ? ""
          : "<s:Detail><CertificateEnrollmentWSDetail "
            "xmlns=\"http://schemas.microsoft.com/windows/pki/2009/01/enrollment\"><ErrorCode>" +
                detail_code + "</ErrorCode><InvalidRequest>false</InvalidRequest><RequestID>57" +
                "</RequestID></CertificateEnrollmentWSDetail></s:Detail>";
  auto body = "<s:Fault><s:Code><s:Value>s:Receiver</s:Value>" + sub +
              "</s:Code><s:Reason><s:Text xml:lang=\"en-US\">" + reason +
              "</s:Text></s:Reason>" + detail + "</s:Fault>";
  return {500, {{"Content-Type", "application/soap+xml; charset=utf-8"}}, envelope(body)};
}

std::string issued_leaf() {
  auto root_key = crypto::parse_private_key(keys().root.key_pem);
  auto root = std::move(crypto::parse_certificates(keys().root.cert_pem).front());
  auto req = crypto::parse_and_check_csr(keys().csr);
  return crypto::issue_certificate(root_key.get(), root.get(), req.get(),
                                   {{0x12, 0x34}, std::chrono::system_clock::now(), 24h * 30});
}

ca::job enroll(std::string profile = {}) {
  return {.id = "job-1",
          .op = ca::operation::enroll,
          .backend = "ad",
          .csr_pem = keys().csr,
          .profile = std::move(profile)};
}

}  // namespace msca_driver_test

namespace md = msca_driver_test;

TEST_SUITE("msca driver") {
  TEST_CASE("issued: a CMS on behalf with requestername, the leaf and the CMC's chain") {
    auto d = md::driver();
    auto s = d->start(md::enroll(), "");
    auto leaf = md::issued_leaf();
    test::exchange ex[] = {{.method = "POST",
                            .url = md::ces,
                            .body_has = {"<wsse:Username>CORP\\svc</wsse:Username>", "pa ss-word",
                                         "enrollment#PKCS7", "CertificateTemplate", "WebServer"},
                            .headers = {{"Content-Type", "application/soap+xml; charset=utf-8"}},
                            .answer = md::answer("Issued", "56", leaf)}};
    auto r = test::drive(*s, ex, md::ctx);
    REQUIRE(r.outcome.what == ca::outcome::kind::issued);
    CHECK(r.outcome.certificate_pem == leaf);
    CHECK(test::contains(r.outcome.chain_pem, "BEGIN CERTIFICATE"));
    CHECK(r.outcome.serial_hex == "1234");
    CHECK(r.sent[0].placement);
    // The request in the body is the agent's CMS, naming the requester.
    auto body = r.sent[0].body;
    auto at = body.find("enrollment#PKCS7");
    auto start = body.find('>', at) + 1;
    auto token = crypto::base64_decode(body.substr(start, body.find('<', start) - start));
    REQUIRE(token);
    auto pairs = crypto::signed_name_value_pairs(*token);
    REQUIRE(pairs.size() == 1);
    CHECK(pairs[0].name == "requestername");
    CHECK(pairs[0].value == "CORP\\jdoe");
  }

  TEST_CASE("taken under submission: pending with its RequestID, asked again, then issued") {
    auto d = md::driver();
    auto s = d->start(md::enroll(), "");
    test::exchange ex[] = {
        {.method = "POST", .url = md::ces, .answer = md::answer("Taken Under Submission", "57", "")},
        {.method = "POST",
         .url = md::ces,
         .body_has = {"QueryTokenStatus", "<RequestID", ">57<"},
         .answer = md::answer("Issued", "57", md::issued_leaf())}};
    auto r = test::drive(*s, ex, md::ctx);
    CHECK(r.outcome.what == ca::outcome::kind::issued);
    REQUIRE_FALSE(r.interim.empty());
    CHECK(r.interim[0].what == ca::outcome::kind::pending);
    CHECK(r.interim[0].pending_reason == "needs_approval");
    CHECK(test::contains(r.interim[0].message, "request 57 is taken under submission"));
    CHECK_FALSE(r.sent[1].placement);
  }

  TEST_CASE("the CA's refusal names the HRESULT; a security fault is auth; no SOAP and 5xx is retried") {
    {
      auto s = md::driver()->start(md::enroll(), "");
      test::exchange ex[] = {{.method = "POST",
                              .url = md::ces,
                              .answer = md::fault("", "-2146875374", "Denied by Policy Module")}};
      auto r = test::drive(*s, ex, md::ctx);
      CHECK(r.outcome.error == ca::error_class::rejected);
      CHECK(test::contains(r.outcome.message, "request 57"));
      CHECK(test::contains(r.outcome.message, "CERTSRV_E_SUBJECT_EMAIL_REQUIRED (0x80094812)"));
      CHECK(r.outcome.backend_code == "0x80094812");
      CHECK_FALSE(r.outcome.retryable);
    }
    {
      auto s = md::driver()->start(md::enroll(), "");
      test::exchange ex[] = {{.method = "POST",
                              .url = md::ces,
                              .answer = md::fault("InvalidSecurity", "", "security")}};
      auto r = test::drive(*s, ex, md::ctx);
      CHECK(r.outcome.error == ca::error_class::auth);
      CHECK(test::contains(r.outcome.message, "cbcs backend set -name ad"));
      CHECK_FALSE(test::contains(r.outcome.message, "pa ss-word"));
    }
    {
      // A gateway's 503 page: the CA made nothing; placed again.
      auto s = md::driver()->start(md::enroll(), "");
      test::exchange ex[] = {
          {.method = "POST", .url = md::ces, .answer = {503, {{"Content-Type", "text/html"}}, "<html>busy</html>"}},
          {.method = "POST", .url = md::ces, .answer = md::answer("Issued", "58", md::issued_leaf())}};
      auto r = test::drive(*s, ex, md::ctx);
      CHECK(r.outcome.what == ca::outcome::kind::issued);
    }
  }

  TEST_CASE("a lost answer is never sent again: the job fails naming where to look") {
    auto s = md::driver()->start(md::enroll(), "");
    test::exchange ex[] = {{.method = "POST", .url = md::ces, .no_answer = true}};
    auto r = test::drive(*s, ex, md::ctx);
    CHECK(r.outcome.what == ca::outcome::kind::failed);
    CHECK(test::contains(r.outcome.message, "certsrv.msc"));
    CHECK(test::contains(r.outcome.message, "ca01.corp.example"));
    CHECK(r.sent.size() == 1);
  }

  TEST_CASE("refused before any request: no agent, kerberos, revoke over CES") {
    {
      auto s = md::driver(false)->start(md::enroll(), "");
      auto r = test::drive(*s, {}, md::ctx);
      CHECK(r.outcome.error == ca::error_class::invalid_request);
      CHECK(test::contains(r.outcome.message, "cbcs backend msca enroll-agent-cert -name ad"));
    }
    {
      auto d = md::driver(true, "kerberos");
      auto* checked = dynamic_cast<ca::checks_settings*>(d.get());
      REQUIRE(checked);
      CHECK(test::contains(checked->settings_problem(), "-auth kerberos"));
      auto r = test::drive(*d->start(md::enroll(), ""), {}, md::ctx);
      CHECK(r.outcome.error == ca::error_class::invalid_request);
    }
    {
      auto s = md::driver()->start({.id = "rv", .op = ca::operation::revoke, .backend = "ad",
                                    .serial_hex = "0a", .reason = "keyCompromise"},
                                   "");
      auto r = test::drive(*s, {}, md::ctx);
      CHECK(r.outcome.error == ca::error_class::not_implemented);
      CHECK(test::contains(r.outcome.message, "cannot revoke"));
      CHECK(test::contains(r.outcome.message, "-transport dcom"));
    }
  }
}
