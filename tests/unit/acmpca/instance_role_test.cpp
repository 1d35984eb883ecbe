#include <doctest/doctest.h>

#include <simdjson.h>

#include "crypto/sigv4.hpp"
#include "protocol/ca/acmpca/acmpca_driver.hpp"
#include "protocol/ca/acmpca/instance_role.hpp"

using namespace cbcs;
namespace ca = protocol::ca;
namespace acmpca = protocol::ca::acmpca;
using namespace std::chrono_literals;

// Named: in a unity build, the helpers of acmpca_driver_test share the scope.
namespace instance_role_test {

const std::string ca_arn =
    "arn:aws:acm-pca:eu-west-1:123456789012:certificate-authority/"
    "11111111-2222-3333-4444-555555555555";
const std::string cert_arn = ca_arn + "/certificate/0123456789abcdef0123456789abcdef";
const std::string imds = "http://127.0.0.1:8111";
const std::string role_secret = "pRoLeSeCrEtKeYEXAMPLE/bPxRfiCYEXAMPLEKEY";
const std::string role_token = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN+/=";
const std::string metadata_token = "AQAEAMetadataTokenEXAMPLE==";
const auto t0 = std::chrono::sys_days{std::chrono::year{2026} / 11 / 27} + 12h;

ca::driver_config config() {
  ca::driver_config c;
  c.name = "aws";
  c.settings = {{"credentials", "instance"},
                {"imds_endpoint", imds + "/"},
                {"region", "eu-west-1"},
                {"ca_arn", ca_arn}};
  return c;
}

ca::job enroll_job(std::string id = "job-1") {
  ca::job j;
  j.id = std::move(id);
  j.op = ca::operation::enroll;
  j.backend = "aws";
  j.csr_pem = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n";
  j.params["signing_algorithm"] = "SHA256WITHECDSA";  // straight to IssueCertificate
  return j;
}

std::string iso(std::chrono::system_clock::time_point t) {
  auto days = std::chrono::floor<std::chrono::days>(t);
  std::chrono::year_month_day ymd{days};
  std::chrono::hh_mm_ss hms{std::chrono::floor<std::chrono::seconds>(t - days)};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long>(hms.seconds().count()));
  return buf;
}

std::string keys_json(std::chrono::system_clock::time_point expires,
                      std::string key_id = "ASIAIOSFODNN7EXAMPLE") {
  return R"({"Code":"Success","LastUpdated":"2026-11-27T11:00:00Z","Type":"AWS-HMAC",)"
         R"("AccessKeyId":")" +
         key_id + R"(","SecretAccessKey":")" + role_secret + R"(","Token":")" + role_token +
         R"(","Expiration":")" + iso(expires) + "\"}";
}

ca::http_response answer(int status, std::string body = {}) {
  return {status, {}, std::move(body)};
}

std::string header(const ca::http_request& r, std::string_view name) {
  return ca::http_response{0, r.headers, {}}.header(name);
}

ca::http_request req(const ca::step& s) {
  REQUIRE(std::holds_alternative<ca::http_request>(s));
  return std::get<ca::http_request>(s);
}

ca::outcome out(const ca::step& s) {
  REQUIRE(std::holds_alternative<ca::outcome>(s));
  return std::get<ca::outcome>(s);
}

ca::step at(ca::job_session& s, const ca::http_response* r,
            std::chrono::system_clock::time_point t) {
  return s.next(r, ca::step_context{t});
}

void check_token_request(const ca::http_request& r) {
  CHECK(r.method == "PUT");
  CHECK(r.url == imds + "/latest/api/token");
  CHECK(header(r, "X-aws-ec2-metadata-token-ttl-seconds") == "21600");
  CHECK(r.rate_class == "metadata");
}

void check_metadata_get(const ca::http_request& r, std::string_view path) {
  CHECK(r.method == "GET");
  CHECK(r.url == imds + std::string(path));
  CHECK(header(r, "X-aws-ec2-metadata-token") == metadata_token);
  CHECK(header(r, "Authorization").empty());
  CHECK(r.rate_class == "metadata");
}

// Runs the three metadata steps of a fresh fetch; returns the call after them.
ca::step fetch_all(ca::job_session& s, std::chrono::system_clock::time_point t,
                   std::chrono::system_clock::time_point expires) {
  auto st = at(s, nullptr, t);
  check_token_request(req(st));
  auto a = answer(200, metadata_token + "\n");
  st = at(s, &a, t);
  check_metadata_get(req(st), "/latest/meta-data/iam/security-credentials/");
  a = answer(200, "cbcs-issuer\n");
  st = at(s, &a, t);
  check_metadata_get(req(st), "/latest/meta-data/iam/security-credentials/cbcs-issuer");
  a = answer(200, keys_json(expires));
  return at(s, &a, t);
}

TEST_SUITE("instance_role") {
  TEST_CASE("the first call fetches the role's keys with IMDSv2 and signs with them") {
    auto d = acmpca::make_driver(config());
    auto s = d->start(enroll_job(), "");
    auto st = fetch_all(*s, t0, t0 + 6h);
    auto issue = req(st);
    CHECK(header(issue, "X-Amz-Target") == "ACMPrivateCA.IssueCertificate");
    CHECK(header(issue, "X-Amz-Security-Token") == role_token);
    // The signature verifies with the role's keys.
    crypto::sigv4::request q;
    q.method = "POST";
    q.body = issue.body;
    for (const auto& h : issue.headers)
      if (h.name == "Host" || h.name == "Content-Type" || h.name == "X-Amz-Target")
        q.headers.emplace_back(h.name, h.value);
    auto sig = crypto::sigv4::sign(q, {"ASIAIOSFODNN7EXAMPLE", role_secret, role_token},
                                   {.region = "eu-west-1", .service = "acm-pca", .timestamp = t0});
    CHECK(header(issue, "Authorization") == sig.authorization);
    for (const auto& h : issue.headers) {
      CHECK(h.value.find(role_secret) == std::string::npos);
      CHECK(h.value.find(metadata_token) == std::string::npos);
    }

    // The session goes on as with static keys.
    auto a = answer(200, R"({"CertificateArn":")" + cert_arn + "\"}");
    CHECK(header(req(at(*s, &a, t0)), "X-Amz-Target") == "ACMPrivateCA.GetCertificate");
    CHECK(s->resume_token() == cert_arn);

    // Another job of the same driver uses the keys it already has.
    auto s2 = d->start(enroll_job("job-2"), "");
    auto first = req(at(*s2, nullptr, t0 + 1h));
    CHECK(header(first, "X-Amz-Target") == "ACMPrivateCA.IssueCertificate");
    CHECK(header(first, "X-Amz-Security-Token") == role_token);
  }

  TEST_CASE("keys are fetched again 15 minutes before they expire; the token after six hours") {
    auto d = acmpca::make_driver(config());
    auto s = d->start(enroll_job(), "");
    req(fetch_all(*s, t0, t0 + 6h));

    // 5 h 44 min: the keys still serve.
    auto s2 = d->start(enroll_job("job-2"), "");
    CHECK(header(req(at(*s2, nullptr, t0 + 5h + 44min)), "X-Amz-Target") ==
          "ACMPrivateCA.IssueCertificate");

    // 5 h 46 min: new keys, with the metadata token and role name it has.
    auto s3 = d->start(enroll_job("job-3"), "");
    auto t = t0 + 5h + 46min;
    auto st = at(*s3, nullptr, t);
    check_metadata_get(req(st), "/latest/meta-data/iam/security-credentials/cbcs-issuer");
    auto a = answer(200, keys_json(t0 + 12h, "ASIANEWKEYEXAMPLE0001"));
    st = at(*s3, &a, t);
    CHECK(header(req(st), "Authorization").find("Credential=ASIANEWKEYEXAMPLE0001/") !=
          std::string::npos);

    // Past six hours the metadata token is renewed first.
    auto s4 = d->start(enroll_job("job-4"), "");
    t = t0 + 11h + 57min;
    st = at(*s4, nullptr, t);
    check_token_request(req(st));
    a = answer(200, metadata_token);
    st = at(*s4, &a, t);
    check_metadata_get(req(st), "/latest/meta-data/iam/security-credentials/cbcs-issuer");
  }

  TEST_CASE("short-lived keys are fetched again half-way, not for every call") {
    auto d = acmpca::make_driver(config());
    auto s = d->start(enroll_job(), "");
    req(fetch_all(*s, t0, t0 + 4min));
    auto s2 = d->start(enroll_job("job-2"), "");
    CHECK(header(req(at(*s2, nullptr, t0 + 1min)), "X-Amz-Target") ==
          "ACMPrivateCA.IssueCertificate");
    auto s3 = d->start(enroll_job("job-3"), "");
    CHECK(req(at(*s3, nullptr, t0 + 2min)).url.find("/security-credentials/cbcs-issuer") !=
          std::string::npos);
  }

  TEST_CASE("an expired metadata token gets one fresh token; a second 401 is an auth error") {
    auto d = acmpca::make_driver(config());
    auto s = d->start(enroll_job(), "");
    auto st = at(*s, nullptr, t0);
    auto a = answer(200, metadata_token);
    st = at(*s, &a, t0);  // the role listing
    a = answer(401);
    st = at(*s, &a, t0);
    check_token_request(req(st));
    a = answer(200, metadata_token);
    st = at(*s, &a, t0);
    check_metadata_get(req(st), "/latest/meta-data/iam/security-credentials/");
    a = answer(401);
    auto o = out(at(*s, &a, t0));
    CHECK(o.error == ca::error_class::auth);
    CHECK_FALSE(o.retryable);
    CHECK(o.message.find("HTTP 401") != std::string::npos);
  }

  TEST_CASE("no role attached is an auth error that says so, not retried") {
    for (auto a : {answer(404), answer(200, "\n")}) {
      auto d = acmpca::make_driver(config());
      auto s = d->start(enroll_job(), "");
      at(*s, nullptr, t0);
      auto token = answer(200, metadata_token);
      at(*s, &token, t0);
      auto o = out(at(*s, &a, t0));
      CHECK(o.error == ca::error_class::auth);
      CHECK_FALSE(o.retryable);
      CHECK(o.message.find("no IAM role is attached to this instance") != std::string::npos);
    }
  }

  TEST_CASE("metadata turned off (403) is an auth error naming the likely cause") {
    auto d = acmpca::make_driver(config());
    auto s = d->start(enroll_job(), "");
    at(*s, nullptr, t0);
    auto a = answer(403);
    auto o = out(at(*s, &a, t0));
    CHECK(o.error == ca::error_class::auth);
    CHECK(o.message.find("turned off") != std::string::npos);
  }

  TEST_CASE("a busy metadata service or a lost answer: the same metadata request again") {
    auto d = acmpca::make_driver(config());
    auto s = d->start(enroll_job(), "");
    at(*s, nullptr, t0);
    auto a = answer(200, metadata_token);
    auto listing = req(at(*s, &a, t0));
    a = answer(503);
    auto o = out(at(*s, &a, t0));
    CHECK(o.error == ca::error_class::unavailable);
    CHECK(o.retryable);
    CHECK(req(at(*s, nullptr, t0)).url == listing.url);
    // A network error (no answer): the actor calls with nullptr.
    CHECK(req(at(*s, nullptr, t0)).url == listing.url);
    a = answer(429);
    o = out(at(*s, &a, t0));
    CHECK(o.error == ca::error_class::throttled);
    CHECK(o.retryable);
    CHECK(req(at(*s, nullptr, t0)).url == listing.url);
    a = answer(200, "cbcs-issuer");
    auto keys = at(*s, &a, t0);
    check_metadata_get(req(keys), "/latest/meta-data/iam/security-credentials/cbcs-issuer");
    a = answer(200, keys_json(t0 + 6h));
    CHECK(header(req(at(*s, &a, t0)), "X-Amz-Target") == "ACMPrivateCA.IssueCertificate");
  }

  TEST_CASE("keys the metadata service refuses or garbles: a clear error without a secret") {
    auto run = [](const std::string& keys_body) {
      auto d = acmpca::make_driver(config());
      auto s = d->start(enroll_job(), "");
      at(*s, nullptr, t0);
      auto a = answer(200, metadata_token);
      at(*s, &a, t0);
      a = answer(200, "cbcs-issuer");
      at(*s, &a, t0);
      a = answer(200, keys_body);
      auto o = out(at(*s, &a, t0));
      CHECK_FALSE(o.retryable);
      CHECK(o.message.find(role_secret) == std::string::npos);
      CHECK(o.message.find(role_token) == std::string::npos);
      CHECK(o.message.find(metadata_token) == std::string::npos);
      CHECK(o.message.find('\n') == std::string::npos);
      return o;
    };
    auto o = run(R"({"Code":"AssumeRoleUnauthorizedAccess","Message":"x"})");
    CHECK(o.error == ca::error_class::auth);
    CHECK(o.message.find("Code AssumeRoleUnauthorizedAccess") != std::string::npos);
    CHECK(o.message.find("cbcs-issuer") != std::string::npos);
    o = run(R"({"Code":"Bad\nCode )" + role_secret + R"("})");
    CHECK(o.message.find("Code unreadable") != std::string::npos);
    o = run("not json " + role_secret);
    CHECK(o.error == ca::error_class::internal);
    auto garble = [&](std::string from, std::string to) {
      auto body = keys_json(t0 + 6h);
      body.replace(body.find(from), from.size(), to);
      return run(body);
    };
    CHECK(garble("ASIAIOSFODNN7EXAMPLE", "asia").message.find("AccessKeyId") != std::string::npos);
    CHECK(garble(role_secret, "").message.find("SecretAccessKey") != std::string::npos);
    CHECK(garble(role_token, "a b").message.find("Token") != std::string::npos);
    CHECK(garble(iso(t0 + 6h), "tomorrow").message.find("Expiration") != std::string::npos);
    o = garble(iso(t0 + 6h), iso(t0 - 1min));
    CHECK(o.error == ca::error_class::auth);
    CHECK(o.message.find("clock") != std::string::npos);
  }

  TEST_CASE("an AWS error that echoes the role's keys is redacted") {
    auto d = acmpca::make_driver(config());
    auto s = d->start(enroll_job(), "");
    req(fetch_all(*s, t0, t0 + 6h));
    ca::http_response echo{
        400, {}, R"({"__type":"ValidationException","message":"bad )" + role_token + "\"}"};
    auto o = out(at(*s, &echo, t0));
    CHECK(o.message.find(role_token) == std::string::npos);
    CHECK(o.message.find("[redacted]") != std::string::npos);
  }

  TEST_CASE("static keys stay the default and never touch instance metadata") {
    auto c = config();
    c.settings.erase("credentials");
    c.settings["accesskeyid"] = "AKIAIOSFODNN7EXAMPLE";
    c.secrets["secretaccesskey"] = "static-secret-EXAMPLE";
    auto d = acmpca::make_driver(c);
    auto s = d->start(enroll_job(), "");
    auto first = req(at(*s, nullptr, t0));
    CHECK(header(first, "X-Amz-Target") == "ACMPrivateCA.IssueCertificate");
    CHECK(header(first, "Authorization").find("Credential=AKIAIOSFODNN7EXAMPLE/") !=
          std::string::npos);
    // Instance credentials need no keys; a wrong source is a configuration problem.
    c.settings["credentials"] = "role";
    auto bad = out(acmpca::make_driver(c)->start(enroll_job(), "")->next(nullptr, {t0}));
    CHECK(bad.error == ca::error_class::invalid_request);
    CHECK(bad.message.find("static or instance") != std::string::npos);
  }

  TEST_CASE("a failed refresh keeps the keys held until a minute before they expire") {
    auto d = acmpca::make_driver(config());
    auto s = d->start(enroll_job(), "");
    req(fetch_all(*s, t0, t0 + 6h));
    auto refresh = [&](std::string id, std::chrono::system_clock::time_point t) {
      auto session = d->start(enroll_job(std::move(id)), "");
      auto st = at(*session, nullptr, t);
      check_metadata_get(req(st), "/latest/meta-data/iam/security-credentials/cbcs-issuer");
      return session;
    };
    // Busy, refused, or no answer at all: the call goes out with the old keys.
    auto t = t0 + 5h + 50min;
    for (int way = 0; way < 3; ++way) {
      CAPTURE(way);
      auto session = refresh("job-r" + std::to_string(way), t);
      auto a = answer(way == 0 ? 503 : 403);
      auto st = way == 2 ? at(*session, nullptr, t) : at(*session, &a, t);
      auto call = req(st);
      CHECK(header(call, "X-Amz-Target") == "ACMPrivateCA.IssueCertificate");
      CHECK(header(call, "X-Amz-Security-Token") == role_token);
      // Tried again a minute later, not at every call.
      auto other = d->start(enroll_job("job-o" + std::to_string(way)), "");
      CHECK(header(req(at(*other, nullptr, t + 30s)), "X-Amz-Target") ==
            "ACMPrivateCA.IssueCertificate");
      t += 1min;
    }
    // A minute before expiry the old keys are no longer used: a failed fetch
    // fails. (The metadata token is due then too.)
    auto late = d->start(enroll_job("job-late"), "");
    auto when = t0 + 5h + 59min + 30s;
    check_token_request(req(at(*late, nullptr, when)));
    auto a = answer(403);
    CHECK(out(at(*late, &a, when)).error == ca::error_class::auth);
  }

  TEST_CASE("role keys AWS refuses are fetched anew once, and the call sent again") {
    auto d = acmpca::make_driver(config());
    auto s = d->start(enroll_job(), "");
    req(fetch_all(*s, t0, t0 + 6h));
    ca::http_response refused{403, {}, R"({"__type":"ExpiredTokenException","message":"expired"})"};
    auto st = at(*s, &refused, t0);
    check_metadata_get(req(st), "/latest/meta-data/iam/security-credentials/cbcs-issuer");
    auto a = answer(200, keys_json(t0 + 6h, "ASIANEWKEYEXAMPLE0001"));
    auto again = req(at(*s, &a, t0));
    CHECK(header(again, "X-Amz-Target") == "ACMPrivateCA.IssueCertificate");
    CHECK(header(again, "Authorization").find("Credential=ASIANEWKEYEXAMPLE0001/") !=
          std::string::npos);
    // Refused again: an auth error, no loop.
    auto o = out(at(*s, &refused, t0));
    CHECK(o.error == ca::error_class::auth);
    CHECK_FALSE(o.retryable);
    CHECK(o.message.find("ExpiredTokenException") != std::string::npos);
  }

  TEST_CASE("a 404 for the keys lists the role again once; the keys stage renews a token too") {
    auto d = acmpca::make_driver(config());
    auto s = d->start(enroll_job(), "");
    at(*s, nullptr, t0);
    auto a = answer(200, metadata_token);
    at(*s, &a, t0);
    a = answer(200, "old-role");
    at(*s, &a, t0);
    a = answer(404);
    auto st = at(*s, &a, t0);
    check_metadata_get(req(st), "/latest/meta-data/iam/security-credentials/");
    a = answer(200, "cbcs-issuer");
    st = at(*s, &a, t0);
    check_metadata_get(req(st), "/latest/meta-data/iam/security-credentials/cbcs-issuer");
    a = answer(401);
    st = at(*s, &a, t0);
    check_token_request(req(st));
    a = answer(200, metadata_token);
    st = at(*s, &a, t0);
    check_metadata_get(req(st), "/latest/meta-data/iam/security-credentials/cbcs-issuer");
    a = answer(404);
    auto o = out(at(*s, &a, t0));
    CHECK(o.error == ca::error_class::auth);
    CHECK(o.message.find("was it detached") != std::string::npos);
  }

  TEST_CASE("revoke, a resumed enroll and a resend after a failure all fetch when needed") {
    auto d = acmpca::make_driver(config());
    ca::job revoke;
    revoke.id = "r";
    revoke.op = ca::operation::revoke;
    revoke.serial_hex = "0a1b";
    auto s = d->start(revoke, "");
    CHECK(header(req(fetch_all(*s, t0, t0 + 1h)), "X-Amz-Target") ==
          "ACMPrivateCA.RevokeCertificate");
    // Resumed after IssueCertificate: straight to GetCertificate with the keys held.
    auto resumed = d->start(enroll_job("job-2"), cert_arn);
    CHECK(header(req(at(*resumed, nullptr, t0 + 1min)), "X-Amz-Target") ==
          "ACMPrivateCA.GetCertificate");
    // A throttled call resent after the keys' refresh time: the fetch comes first.
    auto late = d->start(enroll_job("job-3"), "");
    at(*late, nullptr, t0 + 10min);
    ca::http_response throttled{400, {}, R"({"__type":"ThrottlingException","message":"slow"})"};
    CHECK(out(at(*late, &throttled, t0 + 10min)).retryable);
    auto st = at(*late, nullptr, t0 + 50min);
    check_metadata_get(req(st), "/latest/meta-data/iam/security-credentials/cbcs-issuer");
    auto a = answer(200, keys_json(t0 + 7h));
    CHECK(header(req(at(*late, &a, t0 + 50min)), "X-Amz-Target") ==
          "ACMPrivateCA.IssueCertificate");
  }

  TEST_CASE("secrets of replaced keys are still redacted") {
    auto d = acmpca::make_driver(config());
    auto s = d->start(enroll_job(), "");
    req(fetch_all(*s, t0, t0 + 1h));
    // Another session replaces the keys while this call is out.
    auto s2 = d->start(enroll_job("job-2"), "");
    auto t = t0 + 40min;
    at(*s2, nullptr, t);
    auto fresh = keys_json(t0 + 7h, "ASIANEWKEYEXAMPLE0001");
    fresh.replace(fresh.find(role_secret), role_secret.size(), "aNewSecretEXAMPLE0123456789");
    auto a = answer(200, fresh);
    at(*s2, &a, t);
    ca::http_response echo{
        400, {}, R"({"__type":"ValidationException","message":"key )" + role_secret + R"("})"};
    auto o = out(at(*s, &echo, t));
    CHECK(o.message.find(role_secret) == std::string::npos);
    CHECK(o.message.find("[redacted]") != std::string::npos);
  }

  TEST_CASE("ISO 8601 UTC timestamps as the metadata service writes them") {
    using acmpca::parse_utc_timestamp;
    CHECK(parse_utc_timestamp("2026-11-27T12:00:00Z") == t0);
    CHECK(parse_utc_timestamp("2026-11-27T12:00:00.123Z") == t0);
    CHECK(parse_utc_timestamp("2024-02-29T00:00:00Z").has_value());
    for (std::string_view bad :
         {"", "2026-11-27", "2026-11-27T12:00:00", "2026-11-27T12:00:00+01:00",
          "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z", "2026-11-27T24:00:00Z",
          "2026-11-27T12:60:00Z", "2026-11-27T12:00:00.Z", "2026-11-27T12:00:00ZZ",
          "2026-11-27 12:00:00Z", "+026-11-27T12:00:00Z", "9999-12-31T23:59:59Z",
          "1969-12-31T23:59:59Z"})
      CHECK_MESSAGE(!parse_utc_timestamp(bad), bad);
  }
}

}  // namespace instance_role_test
