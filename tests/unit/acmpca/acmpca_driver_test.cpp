#include <doctest/doctest.h>

#include <simdjson.h>

#include <algorithm>
#include <cctype>

#include "crypto/base64.hpp"
#include "crypto/pem.hpp"
#include "crypto/sigv4.hpp"
#include "protocol/ca/acmpca/acmpca_api.hpp"
#include "protocol/ca/acmpca/acmpca_driver.hpp"
#include "protocol/ca/acmpca/acmpca_type.hpp"
#include "protocol/ca/job_codec.hpp"
#include "protocol/common/json_writer.hpp"
#include "test_pki.hpp"

using namespace cbcs;
namespace ca = protocol::ca;
namespace acmpca = protocol::ca::acmpca;
using namespace std::chrono_literals;

namespace {

const std::string secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const std::string ca_arn =
    "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/"
    "11111111-2222-3333-4444-555555555555";
const std::string cert_arn = ca_arn + "/certificate/0123456789abcdef0123456789abcdef";
const std::string csr_pem =
    "-----BEGIN CERTIFICATE REQUEST-----\nMIIBTEST\n-----END CERTIFICATE REQUEST-----\n";
const ca::step_context ctx{std::chrono::sys_days{std::chrono::year{2024} / 5 / 17} + 8h + 30min};

ca::driver_config config() {
  ca::driver_config c;
  c.name = "aws";
  c.settings = {
      {"accesskeyid", "AKIAIOSFODNN7EXAMPLE"}, {"region", "eu-west-1"}, {"ca_arn", ca_arn}};
  c.secrets = {{"secretaccesskey", secret}};
  return c;
}

ca::job enroll_job(std::string id = "job-1") {
  ca::job j;
  j.id = std::move(id);
  j.op = ca::operation::enroll;
  j.backend = "aws";
  j.csr_pem = csr_pem;
  j.validity_seconds = 90000;  // 25 h: rounds up to 2 days
  return j;
}

ca::http_response ok(std::string body) { return {200, {}, std::move(body)}; }

ca::http_response aws_error(int status, std::string type, std::string message,
                            std::string message_key = "message") {
  return {
      status, {}, R"({"__type":")" + type + R"(",")" + message_key + R"(":")" + message + "\"}"};
}

std::string header(const ca::http_request& r, std::string_view name) {
  ca::http_response tmp{0, r.headers, {}};
  return tmp.header(name);
}

std::string target(const ca::step& s) {
  REQUIRE(std::holds_alternative<ca::http_request>(s));
  return header(std::get<ca::http_request>(s), "X-Amz-Target");
}

// By value: callers often pass the step of a call that is a temporary.
ca::http_request req(const ca::step& s) {
  REQUIRE(std::holds_alternative<ca::http_request>(s));
  return std::get<ca::http_request>(s);
}

ca::outcome out(const ca::step& s) {
  REQUIRE(std::holds_alternative<ca::outcome>(s));
  return std::get<ca::outcome>(s);
}

// Reads one field of a request body; "" when absent.
struct body {
  explicit body(const ca::http_request& r) : text(r.body) {
    REQUIRE_FALSE(parser.parse(text).get(doc));
  }
  std::string str(std::string_view key) const {
    std::string_view v;
    return doc[key].get_string().get(v) ? std::string{} : std::string(v);
  }
  std::string text;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
};

std::string describe_answer(std::string key_algorithm, std::string status = "ACTIVE",
                            std::string arn = ca_arn, std::string cn = "Issuing CA") {
  return R"({"CertificateAuthority":{"Arn":")" + arn + R"(","Type":"SUBORDINATE","Status":")" +
         status +
         R"(","NotAfter":1893456000.5,"CertificateAuthorityConfiguration":{"KeyAlgorithm":")" +
         key_algorithm + R"(","SigningAlgorithm":"SHA256WITHECDSA","Subject":{"CommonName":")" +
         cn + R"(","Organization":"Example"}}}})";
}

std::string json_string(std::string_view s) {
  std::string out;
  protocol::append_json_string(out, s);
  return out;
}

std::string certificate_answer(const std::string& cert, const std::string& chain) {
  return R"({"Certificate":)" + json_string(cert) + R"(,"CertificateChain":)" + json_string(chain) +
         "}";
}

// Every request a flow produced, for the checks that span all of them.
struct recorder {
  std::vector<ca::http_request> sent;
  ca::step operator()(ca::job_session& s, const ca::http_response* r) {
    auto st = s.next(r, ctx);
    if (auto* q = std::get_if<ca::http_request>(&st)) sent.push_back(*q);
    return st;
  }
};

}  // namespace

TEST_SUITE("acmpca_driver") {
  TEST_CASE("an IssueCertificate ARN with a control byte is refused, never journaled") {
    // Found by the fuzz smoke: the ARN is the resume token and goes into messages.
    namespace acmpca = cbcs::protocol::ca::acmpca;
    std::string arn = "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/1/certificate/2";
    CHECK(acmpca::parse_certificate_arn(R"({"CertificateArn":")" + arn + R"("})") == arn);
    CHECK_THROWS_WITH(
        acmpca::parse_certificate_arn(R"({"CertificateArn":"arn:aws:acm-pca:x\u007fy"})"),
        "IssueCertificate answer's CertificateArn is not an ARN");
    CHECK_THROWS(acmpca::parse_certificate_arn(R"({"CertificateArn":"arn:aws:acm pca"})"));
  }

  TEST_CASE("the acmpca type has a driver and the optional options") {
    const auto& t = acmpca::type();
    CHECK((t.make_driver == &acmpca::make_driver));  // parenthesized: doctest cannot print it
    auto opt = [&](std::string_view name) -> const ca::option_spec& {
      for (const auto& o : t.options)
        if (o.name == name) return o;
      FAIL("no option " << name);
      throw 0;
    };
    CHECK(opt("sessiontoken").kind == ca::option_kind::secret);
    CHECK_FALSE(opt("sessiontoken").required);
    CHECK(opt("fips").check("true").empty());
    CHECK(opt("fips").check("false").empty());
    CHECK_FALSE(opt("fips").check("yes").empty());
    CHECK(opt("ca_arn").check(ca_arn).empty());
    CHECK_FALSE(opt("ca_arn").check("11111111-2222").empty());
    // Required unless -credentials instance (the type's check_combination).
    CHECK_FALSE(opt("accesskeyid").required);
    CHECK_FALSE(opt("secretaccesskey").required);
    CHECK(opt("region").required);
  }

  TEST_CASE("enroll: Describe, Issue, Get, with the documented request shape") {
    auto leaf = test::make_self_signed("p256", "leaf.example");
    auto issuer = test::make_self_signed("p256", "Issuing CA");
    auto d = acmpca::make_driver(config());
    auto job = enroll_job();
    job.profile = "arn:aws:acm-pca:::template/EndEntityServerAuthCertificate/V1";
    auto s = d->start(job, "");

    auto st = s->next(nullptr, ctx);
    CHECK(target(st) == "ACMPrivateCA.DescribeCertificateAuthority");
    const auto& first = req(st);
    CHECK(first.method == "POST");
    CHECK(first.url == "https://acm-pca.eu-west-1.amazonaws.com/");
    CHECK(first.rate_class == "describe");
    CHECK(header(first, "Host") == "acm-pca.eu-west-1.amazonaws.com");
    CHECK(header(first, "Content-Type") == "application/x-amz-json-1.1");
    CHECK(header(first, "X-Amz-Date") == "20240517T083000Z");
    CHECK(header(first, "X-Amz-Security-Token").empty());
    CHECK(body(first).str("CertificateAuthorityArn") == ca_arn);
    CHECK(s->resume_token().empty());

    auto answer = ok(describe_answer("EC_prime256v1"));
    st = s->next(&answer, ctx);
    CHECK(target(st) == "ACMPrivateCA.IssueCertificate");
    const auto& issue = req(st);
    CHECK(issue.rate_class == "issue");
    body b(issue);
    CHECK(b.str("CertificateAuthorityArn") == ca_arn);
    CHECK(crypto::base64_decode(b.str("Csr")) == crypto::bytes(csr_pem.begin(), csr_pem.end()));
    CHECK(b.str("SigningAlgorithm") == "SHA256WITHECDSA");
    CHECK(b.str("TemplateArn") == job.profile);
    CHECK(b.str("IdempotencyToken") == acmpca::idempotency_token("job-1"));
    CHECK(b.doc["Validity"]["Type"].get_string().value() == "DAYS");
    CHECK(b.doc["Validity"]["Value"].get_int64().value() == 2);

    answer = ok(R"({"CertificateArn":")" + cert_arn + "\"}");
    st = s->next(&answer, ctx);
    CHECK(target(st) == "ACMPrivateCA.GetCertificate");
    CHECK(req(st).rate_class == "get");
    CHECK(body(req(st)).str("CertificateArn") == cert_arn);
    CHECK(body(req(st)).str("CertificateAuthorityArn") == ca_arn);
    CHECK(s->resume_token() == cert_arn);

    // moto strips the trailing newline of both PEMs; the outcome restores it.
    auto trimmed = [](std::string p) { return p.substr(0, p.size() - 1); };
    answer = ok(certificate_answer(trimmed(leaf.cert_pem), trimmed(issuer.cert_pem)));
    st = s->next(&answer, ctx);
    const auto& o = out(st);
    REQUIRE(o.what == ca::outcome::kind::issued);
    CHECK(o.certificate_pem == leaf.cert_pem);
    CHECK(o.chain_pem == issuer.cert_pem);
    auto parsed = crypto::parse_certificates(leaf.cert_pem);
    CHECK(o.serial_hex == crypto::serial_hex(parsed.front().get()));
    CHECK(o.serial_hex == "01");
    CHECK(s->resume_token() == cert_arn);
  }

  TEST_CASE("signing algorithm, validity and CA choice") {
    auto d = acmpca::make_driver(config());
    SUBCASE("an RSA CA gets SHA256WITHRSA and the default validity is 30 days") {
      auto job = enroll_job();
      job.validity_seconds = 0;
      auto s = d->start(job, "");
      s->next(nullptr, ctx);
      auto answer = ok(describe_answer("RSA_2048"));
      auto st = s->next(&answer, ctx);
      body b(req(st));
      CHECK(b.str("SigningAlgorithm") == "SHA256WITHRSA");
      CHECK(b.doc["Validity"]["Value"].get_int64().value() == 30);
      CHECK(b.str("TemplateArn").empty());
    }
    SUBCASE("exact days do not round up") {
      auto job = enroll_job();
      job.validity_seconds = 90 * 86400;
      job.params["signing_algorithm"] = "SHA384WITHECDSA";
      auto s = d->start(job, "");
      auto st = s->next(nullptr, ctx);
      CHECK(target(st) == "ACMPrivateCA.IssueCertificate");  // the override skips Describe
      body b(req(st));
      CHECK(b.str("SigningAlgorithm") == "SHA384WITHECDSA");
      CHECK(b.doc["Validity"]["Value"].get_int64().value() == 90);
    }
    SUBCASE("an unknown signing_algorithm is refused") {
      auto job = enroll_job();
      job.params["signing_algorithm"] = "MD5WITHRSA";
      auto o = out(d->start(job, "")->next(nullptr, ctx));
      CHECK(o.error == ca::error_class::invalid_request);
    }
    SUBCASE("the job's ca_arn wins over the backend's") {
      auto job = enroll_job();
      auto other = ca_arn.substr(0, ca_arn.size() - 4) + "9999";
      job.params["ca_arn"] = other;
      auto st = d->start(job, "")->next(nullptr, ctx);
      CHECK(body(req(st)).str("CertificateAuthorityArn") == other);
    }
    SUBCASE("no CA ARN anywhere is an invalid request") {
      auto c = config();
      c.settings.erase("ca_arn");
      auto o = out(acmpca::make_driver(c)->start(enroll_job(), "")->next(nullptr, ctx));
      CHECK(o.what == ca::outcome::kind::failed);
      CHECK(o.error == ca::error_class::invalid_request);
      CHECK(o.message.find("ca_arn") != std::string::npos);
    }
    SUBCASE("a CA that is not ACTIVE is rejected before issuing") {
      auto s = d->start(enroll_job(), "");
      s->next(nullptr, ctx);
      auto answer = ok(describe_answer("EC_prime256v1", "DISABLED"));
      auto o = out(s->next(&answer, ctx));
      CHECK(o.error == ca::error_class::rejected);
      CHECK(o.message.find("DISABLED") != std::string::npos);
    }
    SUBCASE("an unknown key algorithm asks for signing_algorithm") {
      auto s = d->start(enroll_job(), "");
      s->next(nullptr, ctx);
      auto answer = ok(describe_answer("FUTURE_KEY"));
      auto o = out(s->next(&answer, ctx));
      CHECK(o.error == ca::error_class::invalid_request);
      CHECK(o.message.find("signing_algorithm") != std::string::npos);
    }
    SUBCASE("a job without a CSR is refused") {
      auto job = enroll_job();
      job.csr_pem.clear();
      CHECK(out(d->start(job, "")->next(nullptr, ctx)).error == ca::error_class::invalid_request);
    }
    CHECK(acmpca::signing_algorithm_for("EC_secp384r1") == "SHA256WITHECDSA");
    CHECK(acmpca::signing_algorithm_for("RSA_4096") == "SHA256WITHRSA");
    CHECK(acmpca::signing_algorithm_for("ML_DSA_65") == "ML_DSA_65");
    CHECK(acmpca::signing_algorithm_for("SM2") == "SM3WITHSM2");
    CHECK(acmpca::signing_algorithm_for("").empty());
  }

  TEST_CASE("pending, then issued: the poll repeats GetCertificate") {
    auto leaf = test::make_self_signed("rsa2048", "leaf");
    auto s = acmpca::make_driver(config())->start(enroll_job(), "");
    s->next(nullptr, ctx);
    auto answer = ok(describe_answer("RSA_2048"));
    s->next(&answer, ctx);
    answer = ok(R"({"CertificateArn":")" + cert_arn + "\"}");
    CHECK(target(s->next(&answer, ctx)) == "ACMPrivateCA.GetCertificate");

    auto busy = aws_error(400, "RequestInProgressException", "The request is in progress");
    for (int round = 0; round < 2; ++round) {
      auto st = s->next(&busy, ctx);
      const auto& o = out(st);
      CHECK(o.what == ca::outcome::kind::pending);
      CHECK(o.poll_after == 1000ms);
      CHECK(s->resume_token() == cert_arn);
      // The actor comes back after the delay with no response.
      auto again = s->next(nullptr, ca::step_context{ctx.now + 1s});
      CHECK(target(again) == "ACMPrivateCA.GetCertificate");
      CHECK(header(req(again), "X-Amz-Date") == "20240517T083001Z");  // signed afresh
    }
    answer = ok(certificate_answer(leaf.cert_pem, ""));
    const auto& o = out(s->next(&answer, ctx));
    CHECK(o.what == ca::outcome::kind::issued);
    CHECK(o.chain_pem.empty());
  }

  TEST_CASE("a call without a response sends the last request again; a final outcome closes") {
    auto leaf = test::make_self_signed("p256", "leaf");
    auto s = acmpca::make_driver(config())->start(enroll_job(), "");
    s->next(nullptr, ctx);
    auto answer = ok(describe_answer("EC_prime256v1"));
    auto issue = req(s->next(&answer, ctx));
    // A network error or a rate-limit wait: the actor calls again without a response.
    auto later = ca::step_context{ctx.now + 2s};
    auto again = req(s->next(nullptr, later));
    CHECK(header(again, "X-Amz-Target") == "ACMPrivateCA.IssueCertificate");
    CHECK(again.body == issue.body);  // the same IdempotencyToken
    CHECK(header(again, "X-Amz-Date") == "20240517T083002Z");
    CHECK(header(again, "Authorization") != header(issue, "Authorization"));
    // Throttled: a retryable failure, and the retry repeats the call.
    auto throttled = aws_error(400, "ThrottlingException", "Rate exceeded");
    auto o = out(s->next(&throttled, ctx));
    CHECK(o.error == ca::error_class::throttled);
    CHECK(o.retryable);
    CHECK(req(s->next(nullptr, ctx)).body == issue.body);
    answer = ok(R"({"CertificateArn":")" + cert_arn + "\"}");
    CHECK(target(s->next(&answer, ctx)) == "ACMPrivateCA.GetCertificate");
    auto unavailable = ca::http_response{503, {}, "busy"};
    CHECK(out(s->next(&unavailable, ctx)).error == ca::error_class::unavailable);
    CHECK(target(s->next(nullptr, ctx)) == "ACMPrivateCA.GetCertificate");
    answer = ok(certificate_answer(leaf.cert_pem, ""));
    CHECK(out(s->next(&answer, ctx)).what == ca::outcome::kind::issued);
    // Finished: any further call is a driver-use error, not a new request.
    CHECK(out(s->next(nullptr, ctx)).error == ca::error_class::internal);

    // A final failure closes the session too.
    auto s2 = acmpca::make_driver(config())->start(enroll_job(), cert_arn);
    s2->next(nullptr, ctx);
    auto gone = aws_error(400, "ResourceNotFoundException", "no such certificate");
    CHECK(out(s2->next(&gone, ctx)).error == ca::error_class::rejected);
    CHECK(out(s2->next(nullptr, ctx)).error == ca::error_class::internal);
  }

  TEST_CASE("a resume token skips IssueCertificate") {
    auto leaf = test::make_self_signed("p256", "leaf");
    auto c = config();
    c.settings.erase("ca_arn");  // the CA ARN comes from the certificate ARN
    auto s = acmpca::make_driver(c)->start(enroll_job(), cert_arn);
    CHECK(s->resume_token() == cert_arn);
    auto st = s->next(nullptr, ctx);
    CHECK(target(st) == "ACMPrivateCA.GetCertificate");
    CHECK(body(req(st)).str("CertificateArn") == cert_arn);
    CHECK(body(req(st)).str("CertificateAuthorityArn") == ca_arn);
    auto answer = ok(certificate_answer(leaf.cert_pem, leaf.cert_pem));
    CHECK(out(s->next(&answer, ctx)).what == ca::outcome::kind::issued);

    auto bad = acmpca::make_driver(config())->start(enroll_job(), "not-an-arn");
    CHECK(out(bad->next(nullptr, ctx)).error == ca::error_class::internal);
  }

  TEST_CASE("the idempotency token derives from the job id") {
    auto a = acmpca::idempotency_token("job-1");
    CHECK(a == acmpca::idempotency_token("job-1"));
    CHECK(a != acmpca::idempotency_token("job-2"));
    CHECK(a.size() == 32);
    CHECK(std::all_of(a.begin(), a.end(), [](unsigned char c) { return std::isxdigit(c); }));
    // Two sessions of the same job send the same token.
    auto d = acmpca::make_driver(config());
    auto token_of = [&](const std::string& id) {
      auto job = enroll_job(id);
      job.params["signing_algorithm"] = "SHA256WITHRSA";
      return body(req(d->start(job, "")->next(nullptr, ctx))).str("IdempotencyToken");
    };
    CHECK(token_of("job-1") == a);
    CHECK(token_of("job-1") == token_of("job-1"));
    CHECK(token_of("job-2") != a);
  }

  TEST_CASE("revoke: reasons, serial form, hold refused, already revoked") {
    CHECK(acmpca::revocation_reason("unspecified") == "UNSPECIFIED");
    CHECK(acmpca::revocation_reason("") == "UNSPECIFIED");
    CHECK(acmpca::revocation_reason("keyCompromise") == "KEY_COMPROMISE");
    CHECK(acmpca::revocation_reason("cACompromise") == "CERTIFICATE_AUTHORITY_COMPROMISE");
    CHECK(acmpca::revocation_reason("affiliationChanged") == "AFFILIATION_CHANGED");
    CHECK(acmpca::revocation_reason("superseded") == "SUPERSEDED");
    CHECK(acmpca::revocation_reason("cessationOfOperation") == "CESSATION_OF_OPERATION");
    CHECK(acmpca::revocation_reason("privilegeWithdrawn") == "PRIVILEGE_WITHDRAWN");
    CHECK(acmpca::revocation_reason("aACompromise") == "A_A_COMPROMISE");
    CHECK_FALSE(acmpca::revocation_reason("certificateHold"));
    CHECK_FALSE(acmpca::revocation_reason("removeFromCRL"));
    CHECK_FALSE(acmpca::revocation_reason("stolen"));

    CHECK(acmpca::aws_serial("0a1b") == "0A:1B");
    CHECK(acmpca::aws_serial("00:a1:b2") == "A1:B2");
    CHECK(acmpca::aws_serial("abc") == "0A:BC");
    CHECK(acmpca::aws_serial("67:07:44:76") == "67:07:44:76");
    CHECK_FALSE(acmpca::aws_serial(""));
    CHECK_FALSE(acmpca::aws_serial("xyz"));

    auto d = acmpca::make_driver(config());
    auto revoke_job = [](std::string reason) {
      ca::job j;
      j.id = "rev-1";
      j.op = ca::operation::revoke;
      j.serial_hex = "1f03a2";
      j.reason = std::move(reason);
      return j;
    };
    SUBCASE("success") {
      auto s = d->start(revoke_job("keyCompromise"), "");
      auto st = s->next(nullptr, ctx);
      CHECK(target(st) == "ACMPrivateCA.RevokeCertificate");
      CHECK(req(st).rate_class == "revoke");
      body b(req(st));
      CHECK(b.str("CertificateAuthorityArn") == ca_arn);
      CHECK(b.str("CertificateSerial") == "1F:03:A2");
      CHECK(b.str("RevocationReason") == "KEY_COMPROMISE");
      auto answer = ok("");
      const auto& o = out(s->next(&answer, ctx));
      CHECK(o.what == ca::outcome::kind::done);
      CHECK(o.report_json.find("\"already_revoked\":false") != std::string::npos);
    }
    SUBCASE("already revoked counts as done") {
      auto s = d->start(revoke_job("superseded"), "");
      s->next(nullptr, ctx);
      auto answer = aws_error(400, "RequestAlreadyProcessedException", "already revoked");
      const auto& o = out(s->next(&answer, ctx));
      CHECK(o.what == ca::outcome::kind::done);
      CHECK(o.report_json.find("\"already_revoked\":true") != std::string::npos);
    }
    SUBCASE("in progress polls and sends RevokeCertificate again") {
      auto s = d->start(revoke_job("superseded"), "");
      s->next(nullptr, ctx);
      auto answer = aws_error(400, "RequestInProgressException", "busy");
      CHECK(out(s->next(&answer, ctx)).what == ca::outcome::kind::pending);
      CHECK(target(s->next(nullptr, ctx)) == "ACMPrivateCA.RevokeCertificate");
    }
    SUBCASE("hold and unhold are refused without a request") {
      for (auto reason : {"certificateHold", "removeFromCRL"}) {
        const auto& o = out(d->start(revoke_job(reason), "")->next(nullptr, ctx));
        CHECK(o.what == ca::outcome::kind::failed);
        CHECK(o.error == ca::error_class::invalid_request);
        CHECK_FALSE(o.retryable);
        CHECK(o.message.find("hold") != std::string::npos);
      }
      CHECK(out(d->start(revoke_job("stolen"), "")->next(nullptr, ctx)).error ==
            ca::error_class::invalid_request);
    }
    SUBCASE("a bad serial is refused") {
      auto j = revoke_job("keyCompromise");
      j.serial_hex = "not hex";
      CHECK(out(d->start(j, "")->next(nullptr, ctx)).error == ca::error_class::invalid_request);
    }
  }

  TEST_CASE("inventory follows NextToken and reports every CA") {
    auto ca_cert = test::make_self_signed("p256", "Root One");
    const std::string arn1 = ca_arn;
    const std::string arn2 = ca_arn.substr(0, ca_arn.size() - 4) + "2222";
    ca::job j;
    j.id = "inv-1";
    j.op = ca::operation::inventory;
    auto s = acmpca::make_driver(config())->start(j, "");

    auto st = s->next(nullptr, ctx);
    CHECK(target(st) == "ACMPrivateCA.ListCertificateAuthorities");
    CHECK(body(req(st)).str("NextToken").empty());
    auto answer =
        ok(R"({"CertificateAuthorities":[{"Arn":")" + arn1 + R"("}],"NextToken":"page-2"})");
    st = s->next(&answer, ctx);
    CHECK(target(st) == "ACMPrivateCA.ListCertificateAuthorities");
    CHECK(body(req(st)).str("NextToken") == "page-2");
    // moto ends the list with "NextToken": null.
    answer = ok(R"({"CertificateAuthorities":[{"Arn":")" + arn2 + R"("}],"NextToken":null})");
    st = s->next(&answer, ctx);
    CHECK(target(st) == "ACMPrivateCA.DescribeCertificateAuthority");
    CHECK(body(req(st)).str("CertificateAuthorityArn") == arn1);
    answer = ok(describe_answer("EC_prime256v1", "ACTIVE", arn1, "Root One"));
    st = s->next(&answer, ctx);
    CHECK(target(st) == "ACMPrivateCA.GetCertificateAuthorityCertificate");
    CHECK(body(req(st)).str("CertificateAuthorityArn") == arn1);
    answer = ok(R"({"Certificate":)" + json_string(ca_cert.cert_pem) + "}");
    st = s->next(&answer, ctx);
    CHECK(target(st) == "ACMPrivateCA.DescribeCertificateAuthority");
    CHECK(body(req(st)).str("CertificateAuthorityArn") == arn2);
    // A CA waiting for its certificate has none to fetch.
    answer = ok(describe_answer("RSA_2048", "PENDING_CERTIFICATE", arn2, "Sub Two"));
    const auto& o = out(s->next(&answer, ctx));
    REQUIRE(o.what == ca::outcome::kind::done);

    simdjson::dom::parser p;
    simdjson::dom::element report;
    REQUIRE_FALSE(p.parse(o.report_json).get(report));
    simdjson::dom::array cas;
    REQUIRE_FALSE(report["certificate_authorities"].get(cas));
    REQUIRE(cas.size() == 2);
    auto field = [](simdjson::dom::element e, const char* k) {
      return std::string(e[k].get_string().value());
    };
    auto first = cas.at(0).value();
    auto second = cas.at(1).value();
    CHECK(field(first, "arn") == arn1);
    CHECK(field(first, "status") == "ACTIVE");
    CHECK(field(first, "key_algorithm") == "EC_prime256v1");
    CHECK(field(first, "subject") == "CN=Root One");  // from the CA certificate
    CHECK(field(second, "arn") == arn2);
    CHECK(field(second, "status") == "PENDING_CERTIFICATE");
    CHECK(field(second, "key_algorithm") == "RSA_2048");
    CHECK(field(second, "subject") == "CN=Sub Two,O=Example");  // from the configuration
    CHECK(report["default_ca_listed"].get_bool().value());
  }

  TEST_CASE("test: an empty account is a done report; a CA in a bad state is noted, not fatal") {
    ca::job j;
    j.id = "t-1";
    j.op = ca::operation::test;
    auto d = acmpca::make_driver(config());
    {
      auto s = d->start(j, "");
      s->next(nullptr, ctx);
      auto answer = ok(R"({"CertificateAuthorities":[]})");
      const auto& o = out(s->next(&answer, ctx));
      CHECK(o.what == ca::outcome::kind::done);
      CHECK(o.report_json.find("\"default_ca_listed\":false") != std::string::npos);
    }
    {
      auto s = d->start(j, "");
      s->next(nullptr, ctx);
      auto answer = ok(R"({"CertificateAuthorities":[{"Arn":")" + ca_arn + R"("}]})");
      s->next(&answer, ctx);
      answer = ok(describe_answer("EC_prime256v1"));
      CHECK(target(s->next(&answer, ctx)) == "ACMPrivateCA.GetCertificateAuthorityCertificate");
      answer = aws_error(400, "InvalidStateException", "not in the correct state");
      const auto& o = out(s->next(&answer, ctx));
      CHECK(o.what == ca::outcome::kind::done);
      CHECK(o.report_json.find("InvalidStateException") != std::string::npos);
    }
    {
      auto s = d->start(j, "");
      auto answer = aws_error(400, "AccessDeniedException",
                              "User: arn:aws:iam::123456789012:user/cbcs is not authorized to "
                              "perform: acm-pca:ListCertificateAuthorities");
      s->next(nullptr, ctx);
      const auto& o = out(s->next(&answer, ctx));
      CHECK(o.error == ca::error_class::auth);
      CHECK(o.message.find("acm-pca:ListCertificateAuthorities") != std::string::npos);
    }
    {
      auto s = d->start(j, "");
      s->next(nullptr, ctx);
      auto answer = ok(R"({"CertificateAuthorities":[],"NextToken":"same"})");
      s->next(&answer, ctx);
      const auto& o = out(s->next(&answer, ctx));  // the same token again: no endless walk
      CHECK(o.error == ca::error_class::internal);
    }
  }

  TEST_CASE("error classification") {
    auto classify = [](const ca::http_response& r) {
      return acmpca::classify_error(r, "IssueCertificate");
    };
    SUBCASE("throttled, retryable, with Retry-After") {
      auto r = aws_error(400, "ThrottlingException", "Rate exceeded");
      r.headers.push_back({"Retry-After", "3"});
      auto o = classify(r);
      CHECK(o.error == ca::error_class::throttled);
      CHECK(o.retryable);
      CHECK(o.retry_after == 3000ms);
      CHECK(o.backend_code == "ThrottlingException");
      CHECK(classify({429, {}, ""}).error == ca::error_class::throttled);
    }
    SUBCASE("5xx is unavailable and retryable, whatever the body") {
      for (int status : {500, 502, 503}) {
        auto o = classify({status, {}, "<html>Service Unavailable</html>"});
        CHECK(o.error == ca::error_class::unavailable);
        CHECK(o.retryable);
      }
      CHECK(classify(aws_error(500, "InternalFailure", "oops")).error ==
            ca::error_class::unavailable);
      CHECK(classify(aws_error(400, "ConcurrentModificationException", "x")).retryable);
    }
    SUBCASE("auth, not retryable, with AWS's message") {
      for (auto code :
           {"UnrecognizedClientException", "InvalidSignatureException", "AccessDeniedException",
            "IncompleteSignature", "MissingAuthenticationToken", "ExpiredTokenException"}) {
        auto o = classify(aws_error(400, code,
                                    "User: u is not authorized to perform: "
                                    "acm-pca:IssueCertificate"));
        CHECK(o.error == ca::error_class::auth);
        CHECK_FALSE(o.retryable);
        CHECK(o.message.find("acm-pca:IssueCertificate") != std::string::npos);
        CHECK(o.backend_code == code);
      }
      // moto answers a bad signature with 403 and a query-protocol XML body.
      ca::http_response xml{
          403,
          {},
          "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ErrorResponse><Errors><Error>"
          "<Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does "
          "not match the signature you provided.</Message><Type>Sender</Type></Error></Errors>"
          "</ErrorResponse>"};
      auto o = classify(xml);
      CHECK(o.error == ca::error_class::auth);
      CHECK(o.backend_code == "SignatureDoesNotMatch");
      CHECK(o.message.find("signature we calculated") != std::string::npos);
      CHECK(classify({403, {}, ""}).error == ca::error_class::auth);
    }
    SUBCASE("invalid requests") {
      for (auto code :
           {"ValidationException", "InvalidArgsException", "MalformedCSRException",
            "InvalidArnException", "InvalidRequestException", "InvalidNextTokenException"}) {
        auto o = classify(aws_error(400, code, "bad"));
        CHECK(o.error == ca::error_class::invalid_request);
        CHECK_FALSE(o.retryable);
      }
    }
    SUBCASE("rejected") {
      for (auto code : {"ResourceNotFoundException", "InvalidStateException",
                        "RequestFailedException", "LimitExceededException"}) {
        auto o = classify(aws_error(400, code, "no"));
        CHECK(o.error == ca::error_class::rejected);
        CHECK_FALSE(o.retryable);
      }
    }
    SUBCASE("the code is found in every place AWS puts it") {
      auto e = acmpca::parse_error(
          aws_error(400, "com.amazonaws.acmpca#ResourceNotFoundException", "gone", "Message"));
      CHECK(e.code == "ResourceNotFoundException");
      CHECK(e.message == "gone");
      ca::http_response header_only{400,
                                    {{"x-amzn-ErrorType",
                                      "UnrecognizedClientException:http://internal.amazon.com/"
                                      "coral/com.amazon.coral.service/"}},
                                    "{}"};
      CHECK(acmpca::parse_error(header_only).code == "UnrecognizedClientException");
      CHECK(classify(header_only).error == ca::error_class::auth);
      auto both = acmpca::parse_error(
          aws_error(400, "aws.protocoltests#FooError:http://internal.amazon.com/x", "m"));
      CHECK(both.code == "FooError");
      // One line, whatever the service sent.
      auto multi = acmpca::parse_error(aws_error(400, "X", "line1\\nline2"));
      CHECK(multi.message == "line1 line2");
    }
    SUBCASE("garbage is internal") {
      CHECK(classify({400, {}, "not json at all"}).error == ca::error_class::internal);
      CHECK(classify({302, {}, ""}).error == ca::error_class::internal);
    }
  }

  TEST_CASE("an answer that is not JSON is internal") {
    auto s = acmpca::make_driver(config())->start(enroll_job(), "");
    s->next(nullptr, ctx);
    ca::http_response garbage{200, {}, "{\"CertificateAuthority\": <html>"};
    const auto& o = out(s->next(&garbage, ctx));
    CHECK(o.what == ca::outcome::kind::failed);
    CHECK(o.error == ca::error_class::internal);
    CHECK_FALSE(o.retryable);
    CHECK(o.message.find("DescribeCertificateAuthority answer is not JSON") != std::string::npos);

    auto s2 = acmpca::make_driver(config())->start(enroll_job(), cert_arn);
    s2->next(nullptr, ctx);
    auto no_cert = ok(R"({"CertificateChain":"x"})");
    CHECK(out(s2->next(&no_cert, ctx)).error == ca::error_class::internal);
    auto s3 = acmpca::make_driver(config())->start(enroll_job(), cert_arn);
    s3->next(nullptr, ctx);
    auto bad_cert =
        ok(R"({"Certificate":"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"})");
    CHECK(out(s3->next(&bad_cert, ctx)).error == ca::error_class::internal);
  }

  TEST_CASE("the secret key never leaves; the Authorization header verifies") {
    auto leaf = test::make_self_signed("p256", "leaf");
    auto c = config();
    c.secrets["sessiontoken"] = "FwoGZXIvYXdzEXAMPLETOKEN";
    auto d = acmpca::make_driver(c);
    recorder rec;

    auto s = d->start(enroll_job(), "");
    rec(*s, nullptr);
    auto answer = ok(describe_answer("EC_prime256v1"));
    rec(*s, &answer);
    answer = ok(R"({"CertificateArn":")" + cert_arn + "\"}");
    rec(*s, &answer);
    answer = ok(certificate_answer(leaf.cert_pem, leaf.cert_pem));
    rec(*s, &answer);

    ca::job rj;
    rj.id = "r";
    rj.op = ca::operation::revoke;
    rj.serial_hex = "01";
    rec(*d->start(rj, ""), nullptr);
    ca::job ij;
    ij.id = "i";
    ij.op = ca::operation::inventory;
    rec(*d->start(ij, ""), nullptr);
    REQUIRE(rec.sent.size() == 5);

    for (const auto& r : rec.sent) {
      INFO(header(r, "X-Amz-Target"));
      CHECK(r.body.find(secret) == std::string::npos);
      CHECK(r.url.find(secret) == std::string::npos);
      for (const auto& h : r.headers) CHECK(h.value.find(secret) == std::string::npos);
      CHECK(header(r, "X-Amz-Security-Token") == "FwoGZXIvYXdzEXAMPLETOKEN");

      // Recompute the signature from what goes on the wire.
      crypto::sigv4::request q;
      q.method = r.method;
      q.path = "/";
      q.body = r.body;
      for (const auto& h : r.headers)
        if (h.name == "Host" || h.name == "Content-Type" || h.name == "X-Amz-Target")
          q.headers.emplace_back(h.name, h.value);
      REQUIRE(q.headers.size() == 3);
      crypto::sigv4::credentials creds{"AKIAIOSFODNN7EXAMPLE", secret,
                                       std::string("FwoGZXIvYXdzEXAMPLETOKEN")};
      auto sig = crypto::sigv4::sign(
          q, creds, {.region = "eu-west-1", .service = "acm-pca", .timestamp = ctx.now});
      CHECK(header(r, "Authorization") == sig.authorization);
      CHECK(sig.signed_headers == "content-type;host;x-amz-date;x-amz-security-token;x-amz-target");
      CHECK(header(r, "Authorization")
                .starts_with("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240517/eu-west-1/"
                             "acm-pca/aws4_request, "));
    }

    // An error message that echoes a credential is scrubbed.
    auto s2 = d->start(enroll_job(), cert_arn);
    s2->next(nullptr, ctx);
    auto echo =
        aws_error(400, "ValidationException", "bad token FwoGZXIvYXdzEXAMPLETOKEN and " + secret);
    const auto& o = out(s2->next(&echo, ctx));
    CHECK(o.message.find(secret) == std::string::npos);
    CHECK(o.message.find("FwoGZXIvYXdzEXAMPLETOKEN") == std::string::npos);
    CHECK(o.message.find("[redacted]") != std::string::npos);
  }

  // The reproducers in tests/fuzz/acmpca/corpus/acmpca_driver/ that fuzzing found.
  TEST_CASE("whatever bytes the service sends, messages and codes stay clean") {
    // The journal writes every outcome as JSON and must read it back.
    auto survives_journal = [](const ca::outcome& o) {
      auto json = ca::to_json(o);
      CHECK(simdjson::validate_utf8(json));
      CHECK_NOTHROW((void)ca::outcome_from_json(json));
      CHECK(simdjson::validate_utf8(o.message));
      for (unsigned char c : o.message) CHECK((c >= 0x20 && c != 0x7f));
    };
    auto classify = [](const ca::http_response& r) {
      return acmpca::classify_error(r, "IssueCertificate");
    };
    SUBCASE("a long message is cut on a character boundary (json_message_cut_in_utf8)") {
      auto o = classify(aws_error(400, "ValidationException", std::string(511, 'a') + "\xC3\xA9"));
      CHECK(o.message.find(std::string(509, 'a') + "...") != std::string::npos);
      survives_journal(o);
      // A cut that falls after a whole character keeps it.
      // (The "..." counts in the 512 bytes: protocol::one_line.)
      auto e = acmpca::parse_error(aws_error(400, "X",
                                             std::string(507, 'a') + "\xC3\xA9"
                                                                     "bcdef"));
      CHECK(e.message == std::string(507, 'a') + "\xC3\xA9...");
    }
    SUBCASE("an XML message that is not UTF-8 (xml_message_not_utf8)") {
      ca::http_response xml{400,
                            {},
                            "<Error><Code>ValidationException</Code><Message>bad \xC3( "
                            "\xED\xA0\x80 byte</Message></Error>"};
      auto e = acmpca::parse_error(xml);
      CHECK(e.message == "bad \xEF\xBF\xBD( \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD byte");
      survives_journal(classify(xml));
    }
    SUBCASE("C1 controls and Unicode line separators are line breaks too") {
      auto e = acmpca::parse_error(aws_error(400, "X",
                                             "a\xC2\x85"
                                             "b\xE2\x80\xA8"
                                             "c\xE2\x80\xA9"
                                             "d\x7f"
                                             "e"));
      CHECK(e.message == "a b c d e");
    }
    SUBCASE("a code that is not an identifier is no code (code_not_one_line)") {
      ca::http_response xml{400, {}, "<Error><Code>Bad\nCode</Code></Error>"};
      auto o = classify(xml);
      CHECK(o.backend_code.empty());
      CHECK(o.error == ca::error_class::internal);
      survives_journal(o);
      ca::http_response typed{400, {{"x-amzn-ErrorType", "Evil\r\nX-Injected: yes"}}, "{}"};
      CHECK(acmpca::parse_error(typed).code.empty());
      CHECK(acmpca::parse_error(aws_error(400,
                                          "Caf\xC3\xA9"
                                          "Exception",
                                          "m"))
                .code.empty());
      CHECK(acmpca::parse_error(aws_error(400, "a b", "m")).code.empty());
      // A bad __type falls back to the header.
      auto fallback = aws_error(400, "Bad\\tCode", "m");
      fallback.headers.push_back({"x-amzn-ErrorType", "AccessDeniedException"});
      CHECK(acmpca::parse_error(fallback).code == "AccessDeniedException");
      // Identifiers are bounded.
      auto e = acmpca::parse_error(aws_error(400, std::string(300, 'X'), "m"));
      CHECK(e.code == std::string(128, 'X'));
      CHECK(acmpca::parse_error(aws_error(400, "Foo.Bar-baz_1", "m")).code == "Foo.Bar-baz_1");
    }
    SUBCASE("Retry-After is clamped to an hour (retry_after_overflow)") {
      auto wait = [&](std::string value) {
        ca::http_response r{503, {{"Retry-After", std::move(value)}}, ""};
        return classify(r).retry_after;
      };
      CHECK(wait("120") == 120s);
      CHECK(wait("3600") == 3600s);
      CHECK(wait("3601") == 3600s);
      CHECK(wait("99999999999999999") == 3600s);
      CHECK(wait("999999999999999999999999999999") == 3600s);
      CHECK(wait("0") == 0ms);
      CHECK(wait("-5") == 0ms);
      CHECK(wait("+5") == 0ms);
      CHECK(wait("5s") == 0ms);
      CHECK(wait("Wed, 21 Oct 2015 07:28:00 GMT") == 0ms);
    }
    SUBCASE(
        "DescribeCertificateAuthority echoes are scrubbed (describe_status_echoes_session_token)") {
      const std::string token = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN";
      auto c = config();
      c.secrets["sessiontoken"] = token;
      auto d = acmpca::make_driver(c);
      auto s = d->start(enroll_job(), "");
      s->next(nullptr, ctx);
      auto status = ok(R"({"CertificateAuthority":{"Status":")" + token + "\"}}");
      auto o = out(s->next(&status, ctx));
      CHECK(o.error == ca::error_class::rejected);
      CHECK(o.message.find(token) == std::string::npos);
      CHECK(o.message.find("is [redacted], not ACTIVE") != std::string::npos);

      auto s2 = d->start(enroll_job(), "");
      s2->next(nullptr, ctx);
      auto key = ok(describe_answer(secret));
      auto o2 = out(s2->next(&key, ctx));
      CHECK(o2.error == ca::error_class::invalid_request);
      CHECK(o2.message.find(secret) == std::string::npos);
      CHECK(o2.message.find("'[redacted]'") != std::string::npos);
    }
  }

  TEST_CASE("endpoints and configuration problems") {
    auto c = config();
    CHECK(acmpca::endpoint_url(c) == "https://acm-pca.eu-west-1.amazonaws.com/");
    c.settings["fips"] = "true";
    CHECK(acmpca::endpoint_url(c) == "https://acm-pca-fips.eu-west-1.amazonaws.com/");
    c.settings["fips"] = "false";
    c.settings["region"] = "cn-north-1";
    CHECK(acmpca::endpoint_url(c) == "https://acm-pca.cn-north-1.amazonaws.com.cn/");

    // A simulator on loopback (moto_server).
    c = config();
    c.settings["endpoint"] = "http://127.0.0.1:5000/";
    auto st = acmpca::make_driver(c)->start(enroll_job(), cert_arn)->next(nullptr, ctx);
    CHECK(req(st).url == "http://127.0.0.1:5000/");
    CHECK(header(req(st), "Host") == "127.0.0.1:5000");
    c.settings["endpoint"] = "https://pca.example.internal:443";
    st = acmpca::make_driver(c)->start(enroll_job(), cert_arn)->next(nullptr, ctx);
    CHECK(req(st).url == "https://pca.example.internal:443/");
    CHECK(header(req(st), "Host") == "pca.example.internal");

    c = config();
    c.secrets.clear();
    c.settings.erase("region");
    const auto& o = out(acmpca::make_driver(c)->start(enroll_job(), "")->next(nullptr, ctx));
    CHECK(o.error == ca::error_class::invalid_request);
    CHECK(o.message.find("secretaccesskey") != std::string::npos);
    CHECK(o.message.find("region") != std::string::npos);
  }
}
