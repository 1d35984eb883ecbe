// Entrust CA Gateway flows on the driver harness (-api cagw): mutual TLS
// only, enrollments never placed twice blind, RevokeAction, the CA and its
// profiles for `backend test`. Also the type's option rules.

#include <doctest/doctest.h>

#include "crypto/base64.hpp"
#include "crypto/pem.hpp"
#include "entrust/entrust_fixture.hpp"
#include "protocol/ca/entrust/ca_gateway_api.hpp"
#include "protocol/ca/registry.hpp"
#include "protocol/common/json_writer.hpp"
#include "test_pki.hpp"

using namespace cbcs;
namespace ca = protocol::ca;
namespace en = protocol::ca::entrust;
namespace gfx = test::entrust;
using namespace std::chrono_literals;

namespace gateway_driver_test {

const auto t0 = std::chrono::sys_days{std::chrono::year{2026} / 12 / 2} + 12h;
const ca::step_context ctx{t0};
const std::string enrollments = "/v1/certificate-authorities/CA1/enrollments";

std::string enrollment_json(const std::string& body, const std::string& serial = "1001") {
  protocol::json_writer w(false);
  w.begin_object().member("message", "ok").key("enrollment").begin_object();
  w.member("id", "e-1").member("serialNumber", serial).member("status", "ACCEPTED");
  if (!body.empty()) w.member("body", body);
  w.end_object().end_object();
  return w.str();
}

std::string error_json(const std::string& code, const std::string& message) {
  return R"({"type":"ErrorResponse","error":{"code":")" + code + R"(","message":")" + message +
         R"("}})";
}

bool has_header(const ca::http_request& r, std::string_view name) {
  for (const auto& h : r.headers)
    if (h.name == name) return true;
  return false;
}

ca::job revoke(std::string reason) {
  return {.id = "rv-2",
          .op = ca::operation::revoke,
          .backend = "gw",
          .serial_hex = "0A1B",
          .reason = std::move(reason)};
}

}  // namespace gateway_driver_test

namespace g = gateway_driver_test;

TEST_SUITE("entrust cagw") {
  TEST_CASE(
      "enroll: profile, PEM, the CSR's names, the validity and the job's tag; no credentials") {
    gfx::test_ca pki;
    auto csr = gfx::make_csr("web.example", {"web.example", "api.web.example"});
    auto leaf = pki.leaf_for(csr.csr_pem, 1);
    auto d = gfx::make_gateway_driver();
    auto j = gfx::enroll("job-20", csr.csr_pem);
    j.validity_seconds = 86400 * 30;
    auto s = d->start(j, "");
    const test::exchange script[] = {
        gfx::gateway_call(
            "POST", g::enrollments,
            {R"("profileId":"prof-tls")", R"("requiredFormat":{"format":"PEM"})",
             R"({"type":"dNSName","value":"api.web.example"})", R"("validityPeriod":"PT2592000S")",
             R"("properties":{"cbcs-job":"cbcs job job-20"})", "BEGIN CERTIFICATE REQUEST"},
            gfx::ok(g::enrollment_json(leaf + pki.intermediate_pem))),
    };
    auto r = test::drive(*s, script, g::ctx);
    REQUIRE(r.outcome.what == ca::outcome::kind::issued);
    CHECK(r.outcome.certificate_pem == leaf);
    CHECK(r.outcome.chain_pem == pki.intermediate_pem);
    CHECK_FALSE(g::has_header(r.sent[0], "Authorization"));
    CHECK(r.sent[0].placement);
  }

  TEST_CASE("a body in base64 DER (format X509) is read too; a job's profile overrides") {
    gfx::test_ca pki;
    auto csr = gfx::make_csr("web.example");
    auto leaf = pki.leaf_for(csr.csr_pem, 2);
    auto der = crypto::pem_block_der(leaf, "CERTIFICATE");
    REQUIRE(der);
    auto d = gfx::make_gateway_driver();
    auto j = gfx::enroll("job-21", csr.csr_pem);
    j.profile = "prof-other";
    auto s = d->start(j, "");
    const test::exchange script[] = {
        gfx::gateway_call("POST", g::enrollments, {R"("profileId":"prof-other")"},
                         gfx::ok(g::enrollment_json(crypto::base64_encode(*der)))),
    };
    auto r = test::drive(*s, script, g::ctx);
    REQUIRE(r.outcome.what == ca::outcome::kind::issued);
    CHECK(r.outcome.certificate_pem == leaf);
  }

  TEST_CASE("polled: certificateData is the certificate; expired or suspended is of no use") {
    gfx::test_ca pki;
    auto csr = gfx::make_csr("web.example");
    auto der = crypto::pem_block_der(pki.leaf_for(csr.csr_pem, 4), "CERTIFICATE");
    REQUIRE(der);
    const std::string cert_path = "/v1/certificate-authorities/CA1/certificates/7f02";
    auto d = gfx::make_gateway_driver();
    auto s = d->start(gfx::enroll("job-23", csr.csr_pem), "");
    const test::exchange script[] = {
        gfx::gateway_call("POST", g::enrollments, {}, gfx::ok(g::enrollment_json("", "7f02"))),
        gfx::gateway_call("GET", cert_path, {},
                         gfx::ok(R"({"type":"CertificateResponse","certificate":{)"
                                R"("serialNumber":"7f02","status":"normal","certificateData":")" +
                                crypto::base64_encode(*der) + R"("}})")),
    };
    auto r = test::drive(*s, script, g::ctx);
    CHECK(r.outcome.what == ca::outcome::kind::issued);

    for (std::string status : {"EXPIRED", "suspended"}) {
      auto s2 = d->start(gfx::enroll("job-24", csr.csr_pem), "");
      const test::exchange gone[] = {
          gfx::gateway_call("POST", g::enrollments, {}, gfx::ok(g::enrollment_json("", "7f02"))),
          gfx::gateway_call("GET", cert_path, {},
                           gfx::ok(R"({"certificate":{"status":")" + status + R"("}})")),
      };
      r = test::drive(*s2, gone, g::ctx);
      CHECK_MESSAGE(r.outcome.error == ca::error_class::rejected, status);
    }
  }

  TEST_CASE("no body yet: the certificate is polled by its serial") {
    gfx::test_ca pki;
    auto csr = gfx::make_csr("web.example");
    auto d = gfx::make_gateway_driver();
    auto s = d->start(gfx::enroll("job-22", csr.csr_pem), "");
    const test::exchange script[] = {
        gfx::gateway_call("POST", g::enrollments, {}, gfx::ok(g::enrollment_json("", "7f01"))),
        gfx::gateway_call("GET", "/v1/certificate-authorities/CA1/certificates/7f01", {},
                         gfx::ok(R"({"certificate":{"serialNumber":"7f01","status":"pending"}})")),
        gfx::gateway_call(
            "GET", "/v1/certificate-authorities/CA1/certificates/7f01", {},
            gfx::ok(R"({"certificate":{"serialNumber":"7f01","status":"normal","body":")" +
                   [&] {
                     std::string pem = pki.leaf_for(csr.csr_pem, 3), out;
                     for (char c : pem) out += c == '\n' ? std::string("\\n") : std::string(1, c);
                     return out;
                   }() +
                   R"("}})")),
    };
    auto r = test::drive(*s, script, g::ctx);
    REQUIRE(r.outcome.what == ca::outcome::kind::issued);
    REQUIRE(r.interim.size() == 2);
    CHECK(r.interim[0].pending_reason == "processing");
    CHECK(s->resume_token().ends_with(":7f01"));
  }

  TEST_CASE(
      "a lost enrollment answer is never enrolled again: the job fails naming where to look") {
    auto d = gfx::make_gateway_driver();
    auto s = d->start(gfx::enroll("job-23", gfx::make_csr("web.example").csr_pem), "");
    const test::exchange script[] = {
        {.method = "POST", .url = gfx::gateway_base + g::enrollments, .no_answer = true},
    };
    auto r = test::drive(*s, script, g::ctx);
    CHECK(r.outcome.error == ca::error_class::internal);
    CHECK(r.outcome.backend_code == "placement_in_doubt");
    CHECK(test::contains(r.outcome.message, "CA CA1"));
    CHECK(test::contains(r.outcome.message, "cbcs job job-23"));
    CHECK(r.sent.size() == 1);

    // Resumed in doubt (a restart): the same, without a request.
    auto s2 = d->start(gfx::enroll("job-23", gfx::make_csr("web.example").csr_pem),
                       "placing:1796212700000:1796212742000");
    r = test::drive(*s2, {}, g::ctx);
    CHECK(r.outcome.backend_code == "placement_in_doubt");
    CHECK(r.sent.empty());
  }

  TEST_CASE(
      "ErrorResponse: 400 final with its message, TooManyRequests retried, 5xx placed again") {
    auto csr = gfx::make_csr("web.example");
    auto d = gfx::make_gateway_driver();
    auto s = d->start(gfx::enroll("job-24", csr.csr_pem), "");
    const test::exchange bad[] = {gfx::gateway_call(
        "POST", g::enrollments, {},
        {400, {}, g::error_json("InvalidRequest", "profile prof-tls does not allow this")})};
    auto r = test::drive(*s, bad, g::ctx);
    CHECK(r.outcome.error == ca::error_class::invalid_request);
    CHECK(r.outcome.backend_code == "InvalidRequest");
    CHECK(test::contains(r.outcome.message, "does not allow this"));

    gfx::test_ca pki;
    auto s2 = d->start(gfx::enroll("job-25", csr.csr_pem), "");
    const test::exchange busy[] = {
        gfx::gateway_call("POST", g::enrollments, {},
                         {429, {{"Retry-After", "4"}}, g::error_json("TooManyRequests", "slow")}),
        gfx::gateway_call("POST", g::enrollments, {}, {503, {}, "down"}),
        gfx::gateway_call("POST", g::enrollments, {},
                         gfx::ok(g::enrollment_json(pki.leaf_for(csr.csr_pem, 4)))),
    };
    r = test::drive(*s2, busy, g::ctx);
    REQUIRE(r.outcome.what == ca::outcome::kind::issued);
    REQUIRE(r.interim.size() == 2);
    CHECK(r.interim[0].error == ca::error_class::throttled);
    CHECK(r.interim[0].retry_after == 4s);
    CHECK(r.interim[1].error == ca::error_class::unavailable);
    CHECK(en::parse_gateway_error("garbage").message.empty());
    // Found by the fuzzer: a code that is no identifier is dropped.
    CHECK(en::parse_gateway_error(g::error_json("TooM!wyRequests", "x")).code.empty());
    CHECK(en::parse_error(R"({"errors":[{"code":"a b","message":"x"}]})").code.empty());
  }

  TEST_CASE("revoke: its state first, then a RevokeAction with the reason; revoked already done") {
    auto d = gfx::make_gateway_driver();
    auto s = d->start(g::revoke("superseded"), "");
    // The serial as Entrust's ansible cagw_certificate sends it: "{0:X}".
    const std::string path = "/v1/certificate-authorities/CA1/certificates/A1B";
    const test::exchange script[] = {
        gfx::gateway_call("GET", path, {}, gfx::ok(R"({"certificate":{"status":"normal"}})")),
        gfx::gateway_call("POST", path + "/actions",
                         {R"({"action":{"type":"RevokeAction")", R"("reason":"superseded")",
                          "cbcs job rv-2"},
                         gfx::ok(R"({"type":"ActionResponse","action":{"status":"COMPLETED"}})")),
    };
    auto r = test::drive(*s, script, g::ctx);
    REQUIRE(r.outcome.what == ca::outcome::kind::done);

    auto s2 = d->start(g::revoke("keyCompromise"), "");
    const test::exchange already[] = {
        gfx::gateway_call("GET", path, {}, gfx::ok(R"({"certificate":{"status":"revoked"}})"))};
    r = test::drive(*s2, already, g::ctx);
    CHECK(test::contains(r.outcome.report_json, "\"already\": true"));

    auto s3 = d->start(g::revoke("keyCompromise"), "");
    const test::exchange lost[] = {
        gfx::gateway_call("GET", path, {}, gfx::ok(R"({"certificate":{"status":"normal"}})")),
        {.method = "POST", .url = gfx::gateway_base + path + "/actions", .no_answer = true},
        gfx::gateway_call("GET", path, {}, gfx::ok(R"({"certificate":{"status":"revoked"}})")),
    };
    r = test::drive(*s3, lost, g::ctx);
    CHECK(r.outcome.what == ca::outcome::kind::done);

    auto s4 = d->start(g::revoke("certificateHold"), "");
    r = test::drive(*s4, {}, g::ctx);
    CHECK(r.outcome.error == ca::error_class::invalid_request);
    CHECK(r.sent.empty());

    auto s5 = d->start(g::revoke("keyCompromise"), "");
    const test::exchange missing[] = {
        gfx::gateway_call("GET", path, {}, {404, {}, g::error_json("NotFound", "no such")})};
    r = test::drive(*s5, missing, g::ctx);
    CHECK(r.outcome.error == ca::error_class::invalid_request);
    CHECK(test::contains(r.outcome.message, "A1B"));
  }

  TEST_CASE("revoke: an action REJECTED in a 200 is a refusal; a certificate without status") {
    auto d = gfx::make_gateway_driver();
    const std::string path = "/v1/certificate-authorities/CA1/certificates/A1B";
    const std::string rejected = R"({"type":"ActionResponse","action":{"status":"REJECTED"}})";
    auto s = d->start(g::revoke("keyCompromise"), "");
    const test::exchange script[] = {
        gfx::gateway_call("GET", path, {}, gfx::ok(R"({"certificate":{"status":"normal"}})")),
        gfx::gateway_call("POST", path + "/actions", {}, gfx::ok(rejected)),
        // Looked up once more: revoked by an earlier ask after all would be done.
        gfx::gateway_call("GET", path, {}, gfx::ok(R"({"certificate":{"status":"normal"}})")),
    };
    auto r = test::drive(*s, script, g::ctx);
    CHECK(r.outcome.error == ca::error_class::rejected);
    CHECK(r.outcome.backend_code == "REJECTED");
    CHECK(test::contains(r.outcome.message, "A1B"));

    // ECS behind the gateway answers without a status (cagw_certificate.py):
    // not revoked as far as we know, so asked; ACCEPTED is done.
    s = d->start(g::revoke("keyCompromise"), "");
    const test::exchange no_status[] = {
        gfx::gateway_call("GET", path, {}, gfx::ok(R"({"certificate":{"serialNumber":"a1b"}})")),
        gfx::gateway_call("POST", path + "/actions", {},
                         gfx::ok(R"({"action":{"status":"ACCEPTED"}})", 202)),
    };
    r = test::drive(*s, no_status, g::ctx);
    CHECK(r.outcome.what == ca::outcome::kind::done);
  }

  TEST_CASE("the gateway's words: serials, certificateData, the statuses of no use") {
    CHECK(en::gateway_serial("00:0a:1b") == "A1B");
    CHECK(en::gateway_serial("5b9ba13d") == "5B9BA13D");
    CHECK_FALSE(en::gateway_serial("xyz"));
    gfx::test_ca pki;
    auto csr = gfx::make_csr("web.example");
    auto pem = pki.leaf_for(csr.csr_pem, 3);
    auto der = crypto::pem_block_der(pem, "CERTIFICATE");
    REQUIRE(der);
    auto c = en::parse_gateway_certificate(
        R"({"type":"CertificateResponse","certificate":{"status":"Revoked","serialNumber":"5912bd91",)"
        R"("certificateData":")" +
        crypto::base64_encode(*der) + R"("}})");
    CHECK(c.status == "revoked");
    CHECK(c.certificate_pem.find("BEGIN CERTIFICATE") != std::string::npos);
    CHECK(en::parse_gateway_certificate(R"({"certificate":{}})").status.empty());
    CHECK_THROWS(en::parse_gateway_certificate(R"({"certificate":{"certificateData":"%%"}})"));
    for (auto s : {"revoked", "held", "expired", "suspended"})
      CHECK_MESSAGE(en::gateway_status_unusable(s), s);
    for (auto s : {"normal", "accepted", ""}) CHECK_FALSE_MESSAGE(en::gateway_status_unusable(s), s);
    CHECK(en::revoke_action_body("keyCompromise", "c") ==
          R"({"action":{"type":"RevokeAction","reason":"keyCompromise","comment":"c"}})");
    CHECK(en::parse_action_status(R"({"action":{"status":"rejected"}})") == "REJECTED");
    CHECK(en::parse_action_status("{}").empty());
  }

  TEST_CASE("test: the CA and its profiles; a missing CA or profile is named") {
    auto d = gfx::make_gateway_driver();
    auto s = d->start({.id = "t-5", .op = ca::operation::test, .backend = "gw"}, "");
    const test::exchange script[] = {
        gfx::gateway_call("GET", "/v1/certificate-authorities", {},
                         gfx::ok(R"({"caList":[{"id":"CA1","name":"Issuing CA"}]})")),
        gfx::gateway_call("GET", "/v1/certificate-authorities/CA1/profiles", {},
                         gfx::ok(R"({"type":"ProfilesResponse","profiles":[{"id":"prof-tls",)"
                                R"("name":"TLS server"}]})")),
    };
    auto r = test::drive(*s, script, g::ctx);
    REQUIRE(r.outcome.what == ca::outcome::kind::done);
    CHECK(test::contains(r.outcome.report_json, "TLS server"));

    auto s2 = d->start({.id = "t-6", .op = ca::operation::test, .backend = "gw"}, "");
    const test::exchange other[] = {
        gfx::gateway_call("GET", "/v1/certificate-authorities", {},
                         gfx::ok(R"({"caList":[{"id":"CA9","name":"Other"}]})")),
    };
    r = test::drive(*s2, other, g::ctx);
    CHECK(r.outcome.error == ca::error_class::invalid_request);
    CHECK(test::contains(r.outcome.message, "no certificate authority CA1"));
    CHECK(test::contains(r.outcome.report_json, "CA9"));

    auto s3 = d->start({.id = "t-7", .op = ca::operation::test, .backend = "gw"}, "");
    const test::exchange denied[] = {gfx::gateway_call("GET", "/v1/certificate-authorities", {},
                                                      {403, {}, g::error_json("Forbidden", "no")})};
    r = test::drive(*s3, denied, g::ctx);
    CHECK(r.outcome.error == ca::error_class::auth);
    CHECK(test::contains(r.outcome.message, "client certificate"));
  }

  TEST_CASE("no profile anywhere fails before any request") {
    auto d = gfx::make_gateway_driver({{"profile", ""}});
    auto s = d->start(gfx::enroll("job-26", gfx::make_csr("web.example").csr_pem), "");
    auto r = test::drive(*s, {}, g::ctx);
    CHECK(r.outcome.error == ca::error_class::invalid_request);
    CHECK(test::contains(r.outcome.message, "-profile"));
  }
}

TEST_SUITE("entrust type") {
  TEST_CASE("-api decides what goes together; defaults and the CA Gateway's rate limit") {
    auto* type = ca::find_backend_type("entrust");
    REQUIRE(type);
    auto combination = [&](ca::option_values v) { return type->check_combination(v); };
    CHECK(combination({{"username", "u"}, {"apikey", "k"}}).empty());
    CHECK(combination({{"username", "u"}, {"apikey", "k"}, {"cert", "c"}, {"key", "k"}}).empty());
    CHECK(test::contains(combination({{"username", "u"}}), "-apikey"));
    CHECK(test::contains(combination({{"username", "u"}, {"apikey", "k"}, {"cert", "c"}}),
                         "go together"));
    CHECK(test::contains(combination({{"username", "u"}, {"apikey", "k"}, {"caid", "x"}}),
                         "-api cagw"));
    CHECK(combination({{"api", "cagw"}, {"caid", "x"}, {"cert", "c"}, {"key", "k"}}).empty());
    CHECK(test::contains(
        combination({{"api", "cagw"}, {"caid", "x"}, {"cert", "c"}, {"key", "k"}, {"apikey", "s"}}),
        "does not go with -api cagw"));
    CHECK(test::contains(combination({{"api", "cagw"}, {"cert", "c"}, {"key", "k"}}), "-caid"));
    bool has_limits_for = type->policy.limits_for != nullptr;
    REQUIRE(has_limits_for);
    CHECK(ca::format_rate_limits(type->policy.limits_for({{"api", "cagw"}})) == "default=100/10s");
    CHECK(type->policy.limits_for({}).empty());
  }
}
