// The gcpcas driver without a network: token, single flight, create / get /
// revoke, idempotency keys, error mapping, backend test.

#include <doctest/doctest.h>

#include <simdjson.h>

#include "crypto/certificate_authority.hpp"
#include "crypto/certificate_request.hpp"
#include "crypto/jwt.hpp"
#include "crypto/pem.hpp"
#include "driver_harness.hpp"
#include "protocol/ca/gcpcas/access_token.hpp"
#include "protocol/ca/gcpcas/gcpcas_api.hpp"
#include "protocol/ca/gcpcas/gcpcas_driver.hpp"
#include "protocol/common/json_writer.hpp"
#include "test_pki.hpp"

using namespace cbcs;
namespace ca = protocol::ca;
namespace gcpcas = protocol::ca::gcpcas;
using namespace std::chrono_literals;
using test::contains;

namespace {

const std::string base = "https://cas.test";
const std::string loc = base + "/v1/projects/p1/locations/us-east1";
const std::string token_uri = "https://oauth.test/token";
const std::string email = "cbcs@p1.iam.gserviceaccount.com";
const std::string key_id = "0123abcd0123abcd0123abcd0123abcd0123abcd";
const ca::step_context ctx{std::chrono::sys_days{std::chrono::year{2026} / 5 / 17} + 8h};

const std::string& key_pem() {
  static const std::string k = test::make_key_pem("rsa2048");
  return k;
}

std::string key_json() {
  protocol::json_writer w(false);
  w.begin_object()
      .member("type", "service_account")
      .member("project_id", "p1")
      .member("private_key_id", key_id)
      .member("private_key", key_pem())
      .member("client_email", email)
      .member("token_uri", token_uri)
      .end_object();
  return w.str();
}

ca::driver_config config(std::map<std::string, std::string, std::less<>> extra = {}) {
  ca::driver_config c;
  c.name = "gcp";
  c.settings = {{"project", "p1"}, {"location", "us-east1"}, {"endpoint", base}};
  for (auto& [k, v] : extra) c.settings[k] = v;
  c.secrets = {{"key", key_json()}};
  return c;
}

ca::job make_job(ca::operation op, std::string id = "job-1") {
  ca::job j;
  j.id = std::move(id);
  j.op = op;
  j.backend = "gcp";
  if (op == ca::operation::enroll || op == ca::operation::renew)
    j.csr_pem = test::make_csr("p256", "a.example");
  return j;
}

ca::http_response ok(std::string body) { return {200, {}, std::move(body)}; }

ca::http_response google(int code, std::string status, std::string message,
                         std::vector<ca::http_header> headers = {}) {
  return {code, std::move(headers),
          R"({"error":{"code":)" + std::to_string(code) + R"(,"message":")" + message +
              R"(","status":")" + status + R"("}})"};
}

test::exchange token_exchange(std::string token = "ya29.first", int expires = 3600) {
  return {"POST",
          token_uri,
          {"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer", "assertion="},
          {{"Content-Type", "application/x-www-form-urlencoded"}},
          ok(R"({"access_token":")" + token + R"(","expires_in":)" + std::to_string(expires) +
             R"(,"token_type":"Bearer"})")};
}

const std::string one_pool =
    R"({"caPools":[{"name":"projects/p1/locations/us-east1/caPools/pool-a","tier":"ENTERPRISE"}]})";

// A certificate answer for the CSR's key, signed by a test CA.
struct issued_fixture {
  std::string csr;
  std::string cert;
  std::string ca;
  std::string answer;
};

issued_fixture issued_for(const std::string& csr) {
  auto ca_cert = crypto::create_root_ca("ecdsa-p256", "Test Root", ctx.now - 1h, 48h);
  auto ca_key = crypto::parse_private_key(ca_cert.key_pem);
  auto ca_x509 = std::move(crypto::parse_certificates(ca_cert.cert_pem).front());
  auto req = crypto::parse_and_check_csr(csr);
  auto cert = crypto::issue_certificate(ca_key.get(), ca_x509.get(), req.get(),
                                        {{0x11, 0x22}, ctx.now, std::chrono::hours(24)});
  protocol::json_writer w(false);
  w.begin_object()
      .member("name", "projects/p1/locations/us-east1/caPools/pool-a/certificates/job-1")
      .member("pemCertificate", cert)
      .key("pemCertificateChain")
      .begin_array()
      .value(ca_cert.cert_pem)
      .end_array()
      .end_object();
  return {csr, cert, ca_cert.cert_pem, w.str()};
}

std::string header_of(const ca::http_request& r, std::string_view name) {
  return ca::http_response{0, r.headers, {}}.header(name);
}

}  // namespace

TEST_SUITE("gcpcas") {
  TEST_CASE("certificateId comes from the job id: allowed characters, at most 63, stable") {
    CHECK(gcpcas::certificate_id("job-1_A") == "job-1_A");
    auto odd = gcpcas::certificate_id("scm/job.42 x");
    CHECK(odd.starts_with("scm-job-42-x-"));
    CHECK(odd.size() == 13 + 16);
    CHECK(odd == gcpcas::certificate_id("scm/job.42 x"));
    CHECK(odd != gcpcas::certificate_id("scm-job-42-x"));  // the hash keeps them apart
    auto long_id = gcpcas::certificate_id(std::string(100, 'a'));
    CHECK(long_id.size() <= 63);
    CHECK(long_id != gcpcas::certificate_id(std::string(99, 'a')));
    for (char c : long_id + odd)
      CHECK((std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'));
    CHECK(gcpcas::label_value("Job.1") != "Job.1");
    CHECK(gcpcas::label_value("job-1") == "job-1");
  }

  TEST_CASE("requestId is UUIDv5 of the job id") {
    // RFC 9562's namespace DNS and Python's uuid5(NAMESPACE_DNS, "python.org").
    CHECK(gcpcas::uuid_v5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org") ==
          "886313e1-3b8a-5372-9b90-0c9aee199e5d");
    // uuid5(uuid5(NAMESPACE_URL, "https://cbcs.invalid/gcpcas/requestId"), "job-1")
    CHECK(gcpcas::request_id("job-1") == "2540027b-d7cb-516c-87f1-b62dba23acfd");
  }

  TEST_CASE("revocation reasons map by code, not by enum number") {
    CHECK(gcpcas::revocation_reason("").word == "REVOCATION_REASON_UNSPECIFIED");
    CHECK(gcpcas::revocation_reason("keyCompromise").word == "KEY_COMPROMISE");
    CHECK(gcpcas::revocation_reason("certificateHold").word == "CERTIFICATE_HOLD");
    CHECK(gcpcas::revocation_reason("privilegeWithdrawn").word == "PRIVILEGE_WITHDRAWN");
    CHECK(gcpcas::revocation_reason("aACompromise").word == "ATTRIBUTE_AUTHORITY_COMPROMISE");
    auto refused = gcpcas::revocation_reason("removeFromCRL");
    CHECK(refused.word.empty());
    CHECK(contains(refused.error, "removeFromCRL"));
    CHECK_FALSE(gcpcas::revocation_reason("bogus").error.empty());
  }

  TEST_CASE("the token request: an RS256 JWT of the key, iat a little in the past") {
    auto account = gcpcas::parse_service_account(key_json());
    auto key = crypto::parse_private_key(account.private_key_pem);
    auto r = gcpcas::token_request(account, key.get(), ctx.now);
    CHECK(r.url == token_uri);
    CHECK(r.side_call);
    auto at = r.body.find("assertion=");
    REQUIRE(at != std::string::npos);
    auto jwt = crypto::split_jwt(r.body.substr(at + 10));
    REQUIRE(jwt);
    CHECK(crypto::verify_rs256(key.get(), jwt->signing_input, jwt->signature));
    simdjson::dom::parser p1, p2;
    auto header = p1.parse(jwt->header_json).get_object().value();
    auto claims = p2.parse(jwt->claims_json).get_object().value();
    CHECK(std::string_view(header["alg"].get_string().value()) == "RS256");
    CHECK(std::string_view(header["kid"].get_string().value()) == key_id);
    CHECK(std::string_view(claims["iss"].get_string().value()) == email);
    CHECK(std::string_view(claims["aud"].get_string().value()) == token_uri);
    CHECK(std::string_view(claims["scope"].get_string().value()) == gcpcas::cloud_platform_scope);
    auto now = std::chrono::duration_cast<std::chrono::seconds>(ctx.now.time_since_epoch()).count();
    auto iat = claims["iat"].get_int64().value();
    CHECK(iat == now - 60);
    CHECK(claims["exp"].get_int64().value() == iat + 3600);
    // Another key does not verify it.
    auto other = crypto::parse_private_key(test::make_key_pem("rsa2048"));
    CHECK_FALSE(crypto::verify_rs256(other.get(), jwt->signing_input, jwt->signature));
  }

  TEST_CASE("enroll: the only pool, then create with certificateId, requestId, lifetime, label") {
    auto driver = gcpcas::make_driver(config({{"template", "tls"}}));
    auto j = make_job(ca::operation::enroll);
    j.validity_seconds = 86400;
    auto fx = issued_for(j.csr_pem);
    auto session = driver->start(j, {});
    std::vector<test::exchange> script{
        token_exchange(),
        {"GET", loc + "/caPools", {}, {{"Authorization", "Bearer ya29.first"}}, ok(one_pool)},
        {"POST",
         loc + "/caPools/pool-a/certificates?certificateId=job-1&requestId=" +
             gcpcas::request_id("job-1"),
         {"\"lifetime\":\"86400s\"", "\"cbcs-job\":\"job-1\"",
          "\"certificateTemplate\":\"projects/p1/locations/us-east1/certificateTemplates/tls\"",
          "BEGIN CERTIFICATE REQUEST"},
         {{"Content-Type", "application/json"}},
         ok(fx.answer)}};
    auto result = test::drive(*session, script, ctx);
    REQUIRE(result.outcome.what == ca::outcome::kind::issued);
    CHECK(result.outcome.certificate_pem == fx.cert);
    CHECK(result.outcome.chain_pem == fx.ca);
    CHECK(result.outcome.serial_hex == "1122");

    // The pool and the token are remembered for the next job.
    auto j2 = make_job(ca::operation::enroll, "job-2");
    auto s2 = driver->start(j2, {});
    std::vector<test::exchange> again{{"POST",
                                       loc + "/caPools/pool-a/certificates?certificateId=job-2*",
                                       {},
                                       {},
                                       ok(issued_for(j2.csr_pem).answer)}};
    CHECK(test::drive(*s2, again, ctx).outcome.what == ca::outcome::kind::issued);
  }

  TEST_CASE("several pools and none given: a clear error naming them; the profile may choose") {
    auto driver = gcpcas::make_driver(config());
    auto session = driver->start(make_job(ca::operation::enroll), {});
    std::vector<test::exchange> script{
        token_exchange(),
        {"GET",
         loc + "/caPools",
         {},
         {},
         ok(R"({"caPools":[{"name":"projects/p1/locations/us-east1/caPools/red"},)"
            R"({"name":"projects/p1/locations/us-east1/caPools/blue"}]})")}};
    auto r = test::drive(*session, script, ctx);
    CHECK(r.outcome.error == ca::error_class::invalid_request);
    CHECK(contains(r.outcome.message, "red, blue"));
    CHECK(contains(r.outcome.message, "-pool"));

    auto j = make_job(ca::operation::enroll);
    j.profile = "pool:blue,template:t1";
    auto s2 = driver->start(j, {});
    std::vector<test::exchange> chosen{{"POST",
                                        loc + "/caPools/blue/certificates?*",
                                        {"certificateTemplates/t1"},
                                        {},
                                        ok(issued_for(j.csr_pem).answer)}};
    CHECK(test::drive(*s2, chosen, ctx).outcome.what == ca::outcome::kind::issued);

    auto bad = make_job(ca::operation::enroll);
    bad.profile = "pool:a/b";
    auto s3 = driver->start(bad, {});
    CHECK(test::drive(*s3, {}, ctx).outcome.error == ca::error_class::invalid_request);
  }

  TEST_CASE("ALREADY_EXISTS: the existing certificate is fetched, and returned only for our key") {
    auto driver = gcpcas::make_driver(config({{"pool", "pool-a"}}));
    auto j = make_job(ca::operation::enroll);
    auto fx = issued_for(j.csr_pem);
    auto session = driver->start(j, {});
    std::vector<test::exchange> script{
        token_exchange(),
        {"POST",
         loc + "/caPools/pool-a/certificates?*",
         {},
         {},
         google(409, "ALREADY_EXISTS", "Resource 'x' already exists")},
        {"GET", loc + "/caPools/pool-a/certificates/job-1", {}, {}, ok(fx.answer)}};
    auto r = test::drive(*session, script, ctx);
    REQUIRE(r.outcome.what == ca::outcome::kind::issued);
    CHECK(r.outcome.certificate_pem == fx.cert);

    auto other = make_job(ca::operation::enroll);  // same id, another key
    auto s2 = driver->start(other, {});
    std::vector<test::exchange> mismatch{
        {"POST",
         loc + "/caPools/pool-a/certificates?*",
         {},
         {},
         google(409, "ALREADY_EXISTS", "exists")},
        {"GET", loc + "/caPools/pool-a/certificates/job-1", {}, {}, ok(fx.answer)}};
    auto m = test::drive(*s2, mismatch, ctx);
    CHECK(m.outcome.error == ca::error_class::rejected);
    CHECK(contains(m.outcome.message, "another key"));
  }

  TEST_CASE("ALREADY_EXISTS: a revoked or expired certificate is never returned as issued") {
    auto driver = gcpcas::make_driver(config({{"pool", "pool-a"}}));
    auto j = make_job(ca::operation::enroll);
    auto fx = issued_for(j.csr_pem);
    auto revoked = fx.answer;
    revoked.insert(revoked.size() - 1,
                   R"(,"revocationDetails":{"revocationState":"KEY_COMPROMISE",)"
                   R"("revocationTime":"2026-05-17T07:00:00Z"})");
    auto session = driver->start(j, {});
    std::vector<test::exchange> script{
        token_exchange(),
        {"POST",
         loc + "/caPools/pool-a/certificates?*",
         {},
         {},
         google(409, "ALREADY_EXISTS", "x")},
        {"GET", loc + "/caPools/pool-a/certificates/job-1", {}, {}, ok(revoked)}};
    auto r = test::drive(*session, script, ctx);
    CHECK(r.outcome.what == ca::outcome::kind::failed);
    CHECK(r.outcome.error == ca::error_class::rejected);
    CHECK(contains(r.outcome.message, "revoked"));

    auto fresh = gcpcas::make_driver(config({{"pool", "pool-a"}}));
    auto s2 = fresh->start(j, {});
    std::vector<test::exchange> expired{
        token_exchange(),
        {"POST",
         loc + "/caPools/pool-a/certificates?*",
         {},
         {},
         google(409, "ALREADY_EXISTS", "x")},
        {"GET", loc + "/caPools/pool-a/certificates/job-1", {}, {}, ok(fx.answer)}};
    auto later = ca::step_context{ctx.now + std::chrono::hours(25)};
    auto e = test::drive(*s2, expired, later);
    CHECK(e.outcome.error == ca::error_class::rejected);
    CHECK(contains(e.outcome.message, "expired"));
  }

  TEST_CASE("an empty chain is fine") {
    auto driver = gcpcas::make_driver(config({{"pool", "pool-a"}}));
    auto j = make_job(ca::operation::enroll);
    auto fx = issued_for(j.csr_pem);
    protocol::json_writer w(false);
    w.begin_object()
        .member("pemCertificate", fx.cert)
        .key("pemCertificateChain")
        .begin_array()
        .end_array()
        .end_object();
    auto session = driver->start(j, {});
    std::vector<test::exchange> script{
        token_exchange(), {"POST", loc + "/caPools/pool-a/certificates?*", {}, {}, ok(w.str())}};
    auto r = test::drive(*session, script, ctx);
    REQUIRE(r.outcome.what == ca::outcome::kind::issued);
    CHECK(r.outcome.chain_pem.empty());
  }

  TEST_CASE("errors: quota and unavailable are retried, permission denied names the permission") {
    auto driver = gcpcas::make_driver(config({{"pool", "pool-a"}}));
    auto j = make_job(ca::operation::enroll);
    auto session = driver->start(j, {});
    std::vector<test::exchange> script{
        token_exchange(),
        {"POST",
         loc + "/caPools/pool-a/certificates?*",
         {},
         {},
         google(429, "RESOURCE_EXHAUSTED", "Quota exceeded", {{"Retry-After", "2"}})},
        {"POST",
         loc + "/caPools/pool-a/certificates?*",
         {},
         {},
         google(503, "UNAVAILABLE", "try later")},
        {"POST",
         loc + "/caPools/pool-a/certificates?*",
         {},
         {},
         google(403, "PERMISSION_DENIED",
                "Permission 'privateca.certificates.create' denied on resource "
                "'//privateca.googleapis.com/projects/p1/locations/us-east1/caPools/pool-a' (or it "
                "may not exist).")}};
    auto r = test::drive(*session, script, ctx);
    REQUIRE(r.interim.size() == 2);
    CHECK(r.interim[0].error == ca::error_class::throttled);
    CHECK(r.interim[0].retryable);
    CHECK(r.interim[0].retry_after == 2s);
    CHECK(r.interim[0].backend_code == "RESOURCE_EXHAUSTED");
    // Without Retry-After a quota refusal waits a second (the quotas are per second).
    auto plain =
        gcpcas::classify_error(google(429, "RESOURCE_EXHAUSTED", "Quota exceeded"), "x", ctx.now);
    CHECK(plain.retry_after == 1s);
    CHECK(r.interim[1].error == ca::error_class::unavailable);
    CHECK(r.outcome.error == ca::error_class::auth);
    CHECK_FALSE(r.outcome.retryable);
    CHECK(contains(r.outcome.message, "lacks privateca.certificates.create"));
    // The retries asked with the same keys: nothing new is created.
    CHECK(r.sent[1].url == r.sent[2].url);
    CHECK(gcpcas::permission_in("Permission 'privateca.caPools.list' denied") ==
          "privateca.caPools.list");
    CHECK(gcpcas::permission_in("no permission here").empty());
  }

  TEST_CASE(
      "invalid_grant: an auth failure naming the key id and the email, not retried in a loop") {
    auto driver = gcpcas::make_driver(config({{"pool", "pool-a"}}));
    auto session = driver->start(make_job(ca::operation::enroll), {});
    std::vector<test::exchange> script{
        {"POST",
         token_uri,
         {},
         {},
         {400, {}, R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})"}}};
    auto r = test::drive(*session, script, ctx);
    CHECK(r.outcome.error == ca::error_class::auth);
    CHECK_FALSE(r.outcome.retryable);
    CHECK(contains(r.outcome.message, key_id));
    CHECK(contains(r.outcome.message, email));
    CHECK(contains(r.outcome.message, "Invalid JWT Signature."));
    CHECK_FALSE(contains(r.outcome.message, "PRIVATE KEY"));
    // The next job within a minute fails at once, without asking again.
    auto s2 = driver->start(make_job(ca::operation::enroll, "job-2"), {});
    auto r2 = test::drive(*s2, {}, ctx);
    CHECK(r2.outcome.error == ca::error_class::auth);
    CHECK(r2.sent.empty());
    // After that, one asks again.
    auto j3 = make_job(ca::operation::enroll, "job-3");
    auto s3 = driver->start(j3, {});
    std::vector<test::exchange> later{token_exchange(),
                                      {"POST",
                                       loc + "/caPools/pool-a/certificates?*",
                                       {},
                                       {},
                                       ok(issued_for(j3.csr_pem).answer)}};
    CHECK(test::drive(*s3, later, {ctx.now + 61s}).outcome.what == ca::outcome::kind::issued);
  }

  TEST_CASE("single flight: 1,000 sessions starting together make one token request") {
    auto driver = gcpcas::make_driver(config({{"pool", "pool-a"}}));
    std::vector<std::unique_ptr<ca::job_session>> sessions;
    int token_requests = 0, awaits = 0;
    std::vector<ca::step> first;
    for (int i = 0; i < 1000; ++i) {
      sessions.push_back(
          driver->start(make_job(ca::operation::enroll, "j" + std::to_string(i)), {}));
      first.push_back(sessions.back()->next(nullptr, ctx));
      if (auto* r = std::get_if<ca::http_request>(&first.back()); r && r->url == token_uri)
        ++token_requests;
      if (std::holds_alternative<ca::await_fetch>(first.back())) ++awaits;
    }
    CHECK(token_requests == 1);
    CHECK(awaits == 999);
    auto answer = ok(R"({"access_token":"ya29.shared","expires_in":3600})");
    auto after = sessions[0]->next(&answer, ctx);
    REQUIRE(std::holds_alternative<ca::http_request>(after));
    CHECK(header_of(std::get<ca::http_request>(after), "Authorization") == "Bearer ya29.shared");
    for (int i = 1; i < 1000; ++i) {
      auto s = sessions[i]->next(nullptr, ctx);
      REQUIRE(std::holds_alternative<ca::http_request>(s));
      CHECK(std::get<ca::http_request>(s).url.starts_with(loc + "/caPools/pool-a/certificates?"));
    }
  }

  TEST_CASE("a token is refreshed ahead of its expiry, and once when Google refuses it") {
    auto driver = gcpcas::make_driver(config({{"pool", "pool-a"}}));
    auto j = make_job(ca::operation::enroll);
    auto s1 = driver->start(j, {});
    std::vector<test::exchange> first{
        token_exchange("ya29.first"),
        {"POST", loc + "/caPools/pool-a/certificates?*", {}, {}, ok(issued_for(j.csr_pem).answer)}};
    CHECK(test::drive(*s1, first, ctx).outcome.what == ca::outcome::kind::issued);
    // 50 minutes later: past the refresh point (15 minutes before expiry).
    auto j2 = make_job(ca::operation::enroll, "job-2");
    auto s2 = driver->start(j2, {});
    std::vector<test::exchange> later{token_exchange("ya29.second"),
                                      {"POST",
                                       loc + "/caPools/pool-a/certificates?*",
                                       {},
                                       {{"Authorization", "Bearer ya29.second"}},
                                       ok(issued_for(j2.csr_pem).answer)}};
    CHECK(test::drive(*s2, later, {ctx.now + 50min}).outcome.what == ca::outcome::kind::issued);
    // Refused early (401): one new token, then the call again; twice is an auth failure.
    auto j3 = make_job(ca::operation::enroll, "job-3");
    auto s3 = driver->start(j3, {});
    std::vector<test::exchange> refused{
        {"POST",
         loc + "/caPools/pool-a/certificates?*",
         {},
         {{"Authorization", "Bearer ya29.second"}},
         google(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")},
        token_exchange("ya29.third"),
        {"POST",
         loc + "/caPools/pool-a/certificates?*",
         {},
         {{"Authorization", "Bearer ya29.third"}},
         google(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")}};
    auto r3 = test::drive(*s3, refused, {ctx.now + 51min});
    CHECK(r3.outcome.error == ca::error_class::auth);
    CHECK_FALSE(contains(r3.outcome.message, "ya29"));
  }

  TEST_CASE(
      "revoke: tier learnt from the pool, the certificate found by serial, reason and requestId") {
    auto driver = gcpcas::make_driver(config({{"pool", "pool-a"}}));
    auto j = make_job(ca::operation::revoke, "rev-1");
    j.serial_hex = "0A:1B";
    j.reason = "privilegeWithdrawn";
    auto session = driver->start(j, {});
    auto name = std::string("projects/p1/locations/us-east1/caPools/pool-a/certificates/job-1");
    std::vector<test::exchange> script{
        token_exchange(),
        {"GET", loc + "/caPools/pool-a", {}, {}, ok(R"({"name":"x","tier":"ENTERPRISE"})")},
        {"GET",
         loc + "/caPools/pool-a/"
               "certificates?filter=certificate_description.subject_description.hex_serial_number%"
               "3D%22a1b%22%20OR%20certificate_description.subject_description.hex_serial_number%"
               "3D%220a1b%22",
         {},
         {},
         ok(R"({"certificates":[{"name":")" + name + R"("}]})")},
        {"POST",
         base + "/v1/" + name + ":revoke",
         {"\"reason\":\"PRIVILEGE_WITHDRAWN\"",
          "\"requestId\":\"" + gcpcas::request_id("rev-1") + "\""},
         {},
         ok("{}")}};
    auto r = test::drive(*session, script, ctx);
    REQUIRE(r.outcome.what == ca::outcome::kind::done);
    CHECK(contains(r.outcome.report_json, name));

    // Already revoked (a retry past the requestId window): done, and said so.
    auto j2 = make_job(ca::operation::revoke, "rev-2");
    j2.params["certificate_id"] = "job-1";
    auto s2 = driver->start(j2, {});
    std::vector<test::exchange> again{
        {"POST",
         base + "/v1/" + name + ":revoke",
         {},
         {},
         google(400, "FAILED_PRECONDITION", "Certificate is already revoked")}};
    auto r2 = test::drive(*s2, again, ctx);
    REQUIRE(r2.outcome.what == ca::outcome::kind::done);
    CHECK(contains(r2.outcome.report_json, "\"already_revoked\":true"));

    auto j3 = make_job(ca::operation::revoke, "rev-3");
    j3.serial_hex = "0a";
    j3.reason = "removeFromCRL";
    CHECK(test::drive(*driver->start(j3, {}), {}, ctx).outcome.error ==
          ca::error_class::invalid_request);
  }

  TEST_CASE("DevOps pools keep no certificates: revoke says so") {
    auto driver = gcpcas::make_driver(config({{"pool", "fast"}, {"tier", "devops"}}));
    auto j = make_job(ca::operation::revoke);
    j.serial_hex = "0a";
    auto r = test::drive(*driver->start(j, {}), {}, ctx);
    CHECK(r.outcome.error == ca::error_class::not_implemented);
    CHECK(contains(r.outcome.message, "DevOps"));
  }

  TEST_CASE("backend test: pools and CAs with state and tier; missing permissions named") {
    auto driver = gcpcas::make_driver(config({{"pool", "pool-a"}}));
    auto session = driver->start(make_job(ca::operation::test), {});
    std::vector<test::exchange> script{
        token_exchange(),
        {"GET", loc + "/caPools", {}, {}, ok(one_pool)},
        {"GET",
         loc + "/caPools/pool-a/certificateAuthorities",
         {},
         {},
         ok(R"({"certificateAuthorities":[{"name":"projects/p1/locations/us-east1/caPools/pool-a/certificateAuthorities/ca-1","state":"ENABLED","tier":"ENTERPRISE"}]})")},
        {"POST",
         loc + "/caPools/pool-a:testIamPermissions",
         {"privateca.caPools.get", "privateca.certificateTemplates.use",
          "privateca.certificates.update"},
         {},
         ok(R"({"permissions":["privateca.caPools.get","privateca.caPools.list","privateca.certificateAuthorities.get",)"
            R"("privateca.certificateAuthorities.list","privateca.certificates.create","privateca.certificates.get",)"
            R"("privateca.certificateTemplates.get","privateca.certificateTemplates.list","privateca.certificateTemplates.use"]})")}};
    auto r = test::drive(*session, script, ctx);
    CHECK(r.outcome.error == ca::error_class::auth);
    CHECK(contains(r.outcome.message, "privateca.certificates.update"));
    CHECK_FALSE(contains(r.outcome.message, "privateca.certificates.create"));

    auto s2 = driver->start(make_job(ca::operation::inventory), {});
    std::vector<test::exchange> inventory{
        {"GET", loc + "/caPools", {}, {}, ok(one_pool)},
        {"GET",
         loc + "/caPools/pool-a/certificateAuthorities",
         {},
         {},
         ok(R"({"certificateAuthorities":[{"name":"x/certificateAuthorities/ca-1","state":"ENABLED"}]})")}};
    auto inv = test::drive(*s2, inventory, ctx);
    REQUIRE(inv.outcome.what == ca::outcome::kind::done);
    CHECK(contains(inv.outcome.report_json,
                   R"("name":"ca-1","state":"ENABLED","tier":"ENTERPRISE")"));
  }

  TEST_CASE("a misconfigured backend and unreadable answers fail clearly") {
    auto c = config();
    c.secrets["key"] = "{}";
    auto r =
        test::drive(*gcpcas::make_driver(c)->start(make_job(ca::operation::enroll), {}), {}, ctx);
    CHECK(r.outcome.error == ca::error_class::invalid_request);
    CHECK(contains(r.outcome.message, "service-account key"));

    auto driver = gcpcas::make_driver(config({{"pool", "pool-a"}}));
    std::vector<test::exchange> garbage{
        token_exchange(),
        {"POST", loc + "/caPools/pool-a/certificates?*", {}, {}, ok("}{ not json")}};
    auto g = test::drive(*driver->start(make_job(ca::operation::enroll), {}), garbage, ctx);
    CHECK(g.outcome.error == ca::error_class::internal);
    auto e =
        gcpcas::parse_error(R"({"error":{"code":"x","status":"bad status!","message":"a\nb"}})");
    CHECK(e.code == 0);
    CHECK(e.status.empty());
    CHECK(e.message == "a b");
  }
}
