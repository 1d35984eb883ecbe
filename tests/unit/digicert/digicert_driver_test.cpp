// DigiCert flows on the driver harness: every request in order, each
// answered as CertCentral's documentation shows.

#include <doctest/doctest.h>

#include <limits>

#include "crypto/utc_time.hpp"
#include "digicert/digicert_fixture.hpp"
#include "driver_harness.hpp"
#include "protocol/ca/digicert/digicert_api.hpp"
#include "protocol/ca/digicert/revocation_reasons.hpp"
#include "protocol/ca/digicert/revoke_session.hpp"
#include "protocol/common/json_writer.hpp"
#include "test_pki.hpp"

using namespace cbcs;
namespace ca = protocol::ca;
namespace dc = protocol::ca::digicert;
namespace fx = test::digicert;
using namespace std::chrono_literals;

namespace digicert_driver_test {

const auto t0 = std::chrono::sys_days{std::chrono::year{2026} / 12 / 2} + 12h;
const ca::step_context ctx{t0};

ca::http_response ok(std::string body, int status = 200) { return {status, {}, std::move(body)}; }

test::exchange get(const std::string& path, ca::http_response answer) {
  return {.method = "GET",
          .url = fx::base + path,
          .headers = {{"X-DC-DEVKEY", fx::api_key}},
          .answer = std::move(answer)};
}
test::exchange send(const std::string& method, const std::string& path,
                    std::vector<std::string> body_has, ca::http_response answer) {
  return {.method = method,
          .url = fx::base + path,
          .body_has = std::move(body_has),
          .headers = {{"X-DC-DEVKEY", fx::api_key}, {"Content-Type", "application/json"}},
          .answer = std::move(answer)};
}

const std::string fx_base = fx::base;
const std::string list_path = "/order/certificate?filters%5Bcommon_name%5D=web.example*";
const std::string empty_list = R"({"orders":[],"page":{"total":0,"limit":20,"offset":0}})";

ca::job enroll(const std::string& id, const std::string& csr) {
  return {.id = id, .op = ca::operation::enroll, .backend = "dc", .csr_pem = csr};
}

std::string chain_answer(const std::string& id, const std::vector<std::string>& pems) {
  protocol::json_writer w(false);
  w.begin_object()
      .member("id", std::int64_t(std::stoll(id)))
      .member("certificate_id", std::int64_t{9001});
  w.key("certificate_chain").begin_array();
  for (const auto& p : pems)
    w.begin_object().member("subject_common_name", "web.example").member("pem", p).end_object();
  w.end_array().end_object();
  return w.str();
}

}  // namespace digicert_driver_test

namespace t = digicert_driver_test;

TEST_SUITE("digicert wire") {
  TEST_CASE("every documented status has a meaning; an unknown one is pending with its word") {
    using k = dc::status_meaning::kind;
    CHECK(dc::read_status("issued").what == k::issued);
    for (auto s : {"needs_approval", "pending", "reissue_pending", "processing", "approved",
                   "waiting_pickup"})
      CHECK_MESSAGE(dc::read_status(s).what == k::pending, s);
    CHECK(dc::read_status("needs_approval").reason == ca::pending_reason::needs_approval);
    CHECK(dc::read_status("pending").reason == ca::pending_reason::validation);
    CHECK(dc::read_status("processing").reason == ca::pending_reason::processing);
    for (auto s : {"rejected", "denied", "canceled", "revoked", "expired"})
      CHECK_MESSAGE(dc::read_status(s).what == k::failed, s);
    auto odd = dc::read_status("frobnicated");
    CHECK(odd.what == k::pending);
    CHECK(odd.reason == ca::pending_reason::unknown);
    CHECK(test::contains(odd.text, "frobnicated"));
    CHECK(dc::read_status("").what == k::pending);
  }

  TEST_CASE("errors come as a list, an object or a string; garbage reads as nothing") {
    auto e = dc::parse_error(R"({"errors":[{"code":"invalid_csr","message":"The CSR is bad"}]})");
    CHECK(e.code == "invalid_csr");
    CHECK(e.message == "The CSR is bad");
    e = dc::parse_error(R"({"errors":{"code":"access_denied","message":"no"}})");
    CHECK(e.code == "access_denied");
    CHECK(dc::parse_error(R"({"errors":"plain"})").message == "plain");
    CHECK(dc::parse_error("<html>").code.empty());
    CHECK(dc::parse_error(R"({"errors":[{"code":"bad code with spaces"}]})").code.empty());
  }

  TEST_CASE("error answers: the key is masked, 429 and 5xx retry, 4xx is final") {
    ca::http_response denied{401,
                             {},
                             std::string(R"({"errors":[{"code":"access_denied","message":"key )") +
                                 fx::api_key + R"( unknown"}]})"};
    auto o = dc::error_outcome(denied, "placing the order", fx::api_key, t::t0);
    CHECK(o.error == ca::error_class::auth);
    CHECK_FALSE(test::contains(o.message, fx::api_key));
    CHECK(test::contains(o.message, "...STUV"));
    ca::http_response busy{
        429,
        {{"Retry-After", "7"}},
        R"({"errors":[{"code":"request_limit_exceeded","message":"slow down"}]})"};
    o = dc::error_outcome(busy, "placing the order", fx::api_key, t::t0);
    CHECK(o.error == ca::error_class::throttled);
    CHECK(o.retryable);
    CHECK(o.retry_after == 7s);
    CHECK(o.backend_code == "request_limit_exceeded");
    o = dc::error_outcome({503, {}, "oops"}, "x", fx::api_key, t::t0);
    CHECK(o.retryable);
    o = dc::error_outcome({400, {}, R"({"errors":[{"code":"invalid_csr","message":"bad"}]})"}, "x",
                          fx::api_key, t::t0);
    CHECK_FALSE(o.retryable);
    CHECK(o.error == ca::error_class::invalid_request);
  }

  TEST_CASE("organizations: the only usable one, several named, missing validation said") {
    auto one = dc::parse_organizations(fx::organizations_json());
    auto c = dc::choose_organization(one, 0, "ssl_plus");
    REQUIRE(c.chosen);
    CHECK(c.chosen->id == 112233);
    auto two = dc::parse_organizations(fx::organizations_json("validated", true));
    c = dc::choose_organization(two, 0, "ssl_plus");
    CHECK_FALSE(c.chosen);
    CHECK(test::contains(c.error, "112233 (Example Inc)"));
    CHECK(test::contains(c.error, "445566 (Example GmbH)"));
    CHECK(test::contains(c.error, "-orgid"));
    CHECK(dc::choose_organization(two, 445566, "ssl_plus").chosen->id == 445566);
    auto unvalidated = dc::parse_organizations(fx::organizations_json("pending"));
    c = dc::choose_organization(unvalidated, 112233, "ssl_plus");
    CHECK_FALSE(c.chosen);
    CHECK(test::contains(c.error, "ov validation"));
    CHECK(test::contains(c.error, "pending"));
    c = dc::choose_organization(one, 112233, "ssl_ev_plus");
    CHECK(test::contains(c.error, "no ev validation"));
    CHECK(dc::choose_organization(unvalidated, 0, "private_ssl_plus").chosen);
    CHECK_THROWS(dc::parse_organizations("{\"organizations\":3}"));
  }

  TEST_CASE("US and EU base URLs; -endpoint gets the API path when it has none") {
    CHECK(dc::base_url("", "") == "https://www.digicert.com/services/v2");
    CHECK(dc::base_url("", "us") == "https://www.digicert.com/services/v2");
    CHECK(dc::base_url("", "eu") == "https://certcentral.digicert.eu/services/v2");
    CHECK(dc::base_url("https://127.0.0.1:8443/", "eu") == "https://127.0.0.1:8443/services/v2");
    CHECK(dc::base_url("https://proxy.example/dc/services/v2", "") ==
          "https://proxy.example/dc/services/v2");
  }

  TEST_CASE("serials, times and CSRs as CertCentral writes them") {
    CHECK(dc::digicert_serial("00:0a:1b") == "0A1B");
    CHECK(dc::digicert_serial("abc") == "0ABC");
    CHECK_FALSE(dc::digicert_serial("xyz"));
    auto t = crypto::parse_utc_time("2026-12-02T12:00:00+00:00");
    REQUIRE(t);
    CHECK(*t == t::t0);
    CHECK(*crypto::parse_utc_time("2026-12-02 13:00:00+01:00") == t::t0);
    CHECK(*crypto::parse_utc_time("2026-12-02T12:00:00.123Z") == t::t0);
    CHECK_FALSE(crypto::parse_utc_time("2026-13-02T12:00:00"));
    CHECK_FALSE(crypto::parse_utc_time("yesterday"));
    CHECK_FALSE(crypto::parse_utc_time("4202-05-17T07:00:00+00:00"));
    CHECK_FALSE(crypto::parse_utc_time("1969-12-31T23:59:59Z"));
  }
}

TEST_SUITE("digicert flows") {
  TEST_CASE("issued at once: the chain in CRLF with the root, the leaf found by its key") {
    fx::test_ca pki;
    auto csr = fx::make_csr("web.example", {"web.example", "www.web.example"});
    auto leaf = pki.leaf_for(csr.csr_pem, 1);
    auto d = fx::make_driver();
    auto s = d->start(t::enroll("job-1", csr.csr_pem), "");
    const test::exchange script[] = {
        t::get("/organization", t::ok(fx::organizations_json())),
        t::get(t::list_path, t::ok(t::empty_list)),
        t::send("POST", "/order/certificate/ssl_plus",
                {"\"common_name\":\"web.example\"",
                 "\"dns_names\":[\"web.example\",\"www.web.example\"]",
                 "\"comments\":\"cbcs job job-1\"", "\"organization\":{\"id\":112233}",
                 "\"signature_hash\":\"sha256\"", "BEGIN CERTIFICATE REQUEST"},
                t::ok(t::chain_answer("4001", {fx::with_crlf(pki.intermediate_pem),
                                               fx::with_crlf(leaf), fx::with_crlf(pki.root_pem)}),
                      201)),
    };
    auto r = test::drive(*s, script, t::ctx);
    REQUIRE(r.outcome.what == ca::outcome::kind::issued);
    CHECK(r.outcome.certificate_pem == leaf);
    CHECK(r.outcome.chain_pem == pki.intermediate_pem + pki.root_pem);
    CHECK(r.outcome.serial_hex == "1001");
    CHECK(s->resume_token().ends_with(":4001"));
  }

  TEST_CASE("needs approval, then issued: polled and downloaded") {
    fx::test_ca pki;
    auto csr = fx::make_csr("web.example");
    auto d = fx::make_driver({{"poll", "30s"}});
    auto s = d->start(t::enroll("job-2", csr.csr_pem), "");
    auto bundle = pki.leaf_for(csr.csr_pem, 2) + pki.intermediate_pem;
    const test::exchange script[] = {
        t::get("/organization", t::ok(fx::organizations_json())),
        t::get(t::list_path, t::ok(t::empty_list)),
        t::send("POST", "/order/certificate/ssl_plus", {},
                t::ok(R"({"id":4002,"requests":[{"id":555,"status":"pending"}]})", 201)),
        t::get("/order/certificate/4002",
               t::ok(fx::order_json("4002", "needs_approval", "", "pending"))),
        t::get("/order/certificate/4002", t::ok(fx::order_json("4002", "pending"))),
        t::get("/order/certificate/4002", t::ok(fx::order_json("4002", "issued"))),
        t::get("/certificate/5002/download/format/pem_all", t::ok(bundle)),
    };
    auto r = test::drive(*s, script, t::ctx);
    REQUIRE(r.outcome.what == ca::outcome::kind::issued);
    REQUIRE(r.interim.size() == 3);
    CHECK(r.interim[0].pending_reason == "needs_approval");
    CHECK(test::contains(r.interim[0].message, "-autoapprove"));
    CHECK(r.interim[0].poll_after == 30s);
    CHECK(r.interim[2].pending_reason == "validation");
    CHECK(r.outcome.chain_pem == pki.intermediate_pem);
  }

  TEST_CASE("-autoapprove approves our own request; a refusal leaves it to an approver") {
    fx::test_ca pki;
    auto csr = fx::make_csr("web.example");
    auto d = fx::make_driver({{"autoapprove", "true"}});
    auto s = d->start(t::enroll("job-3", csr.csr_pem), "");
    const test::exchange script[] = {
        t::get("/organization", t::ok(fx::organizations_json())),
        t::get(t::list_path, t::ok(t::empty_list)),
        t::send("POST", "/order/certificate/ssl_plus", {},
                t::ok(R"({"id":4003,"requests":[{"id":555,"status":"pending"}]})", 201)),
        t::send("PUT", "/request/555/status", {"\"status\":\"approved\""}, t::ok("", 204)),
        t::get("/order/certificate/4003", t::ok(fx::order_json("4003", "issued"))),
        t::get("/certificate/5003/download/format/pem_all", t::ok(pki.leaf_for(csr.csr_pem, 3))),
    };
    auto r = test::drive(*s, script, t::ctx);
    CHECK(r.outcome.what == ca::outcome::kind::issued);

    auto s2 = d->start(t::enroll("job-3b", csr.csr_pem), "");
    const test::exchange refused[] = {
        // The organizations are the backend's: not read again.
        t::get(t::list_path, t::ok(t::empty_list)),
        t::send("POST", "/order/certificate/ssl_plus", {},
                t::ok(R"({"id":4004,"requests":[{"id":556,"status":"pending"}]})", 201)),
        t::send("PUT", "/request/556/status", {},
                t::ok(R"({"errors":[{"code":"access_denied","message":"not an approver"}]})", 403)),
        t::get("/order/certificate/4004", t::ok(fx::order_json("4004", "rejected"))),
    };
    r = test::drive(*s2, refused, t::ctx);
    CHECK(r.outcome.what == ca::outcome::kind::failed);
    CHECK(r.outcome.error == ca::error_class::rejected);
    REQUIRE(r.interim.size() == 2);
    CHECK(test::contains(r.interim[1].message, "approver must act"));
  }

  TEST_CASE("-autoapprove: \"already approved\" goes on to poll and download, never fails") {
    // A run killed after sending its approval, or an approver quicker than
    // cbcs: CertCentral answers the approval 400.
    const ca::http_response already{
        400,
        {},
        R"({"errors":[{"code":"invalid_status","message":"The request has already been approved"}]})"};
    fx::test_ca pki;
    auto csr = fx::make_csr("web.example");
    auto d = fx::make_driver({{"autoapprove", "true"}});
    auto s = d->start(t::enroll("job-aa", csr.csr_pem), "");
    const test::exchange script[] = {
        t::get("/organization", t::ok(fx::organizations_json())),
        t::get(t::list_path, t::ok(t::empty_list)),
        t::send("POST", "/order/certificate/ssl_plus", {},
                t::ok(R"({"id":4020,"requests":[{"id":555,"status":"pending"}]})", 201)),
        t::send("PUT", "/request/555/status", {"\"status\":\"approved\""}, already),
        t::get("/order/certificate/4020", t::ok(fx::order_json("4020", "issued"))),
        t::get("/certificate/5020/download/format/pem_all", t::ok(pki.leaf_for(csr.csr_pem, 20))),
    };
    auto r = test::drive(*s, script, t::ctx);
    REQUIRE(r.outcome.what == ca::outcome::kind::issued);
    REQUIRE(r.interim.size() == 2);
    CHECK(test::contains(r.interim[1].message, "already been approved"));

    // Resumed after a crash: the order still says needs_approval, the
    // approval is refused; the request is left to an approver, never
    // approved a second time, and the job waits.
    auto s2 = d->start(t::enroll("job-ab", csr.csr_pem), "order:1796209200:4021");
    const test::exchange resumed[] = {
        t::get("/order/certificate/4021",
               t::ok(fx::order_json("4021", "needs_approval", "", "pending"))),
        t::send("PUT", "/request/555/status", {}, already),
        t::get("/order/certificate/4021",
               t::ok(fx::order_json("4021", "needs_approval", "", "pending"))),
        t::get("/order/certificate/4021", t::ok(fx::order_json("4021", "issued"))),
        t::get("/certificate/5021/download/format/pem_all", t::ok(pki.leaf_for(csr.csr_pem, 21))),
    };
    r = test::drive(*s2, resumed, t::ctx);
    CHECK(r.outcome.what == ca::outcome::kind::issued);
    int approvals = 0;
    for (const auto& q : r.sent) approvals += q.method == "PUT";
    CHECK(approvals == 1);
    REQUIRE(r.interim.size() == 3);
    CHECK(r.interim[2].pending_reason == "needs_approval");
    CHECK(test::contains(r.interim[2].message, "refused cbcs's approval"));
  }

  TEST_CASE("rejected, denied and canceled orders fail with CertCentral's reason") {
    for (std::string status : {"rejected", "denied", "canceled"}) {
      auto csr = fx::make_csr("web.example");
      auto d = fx::make_driver();
      auto s = d->start(t::enroll("job-4", csr.csr_pem), "order:1796209200:4005");
      auto body = fx::order_json("4005", status);
      body.insert(body.size() - 1, R"(,"reason":"duplicate order")");
      const test::exchange script[] = {t::get("/order/certificate/4005", t::ok(body))};
      auto r = test::drive(*s, script, t::ctx);
      CHECK(r.outcome.what == ca::outcome::kind::failed);
      CHECK(r.outcome.error == ca::error_class::rejected);
      CHECK(r.outcome.backend_code == status);
      CHECK(test::contains(r.outcome.message, "duplicate order"));
    }
  }

  TEST_CASE("a lost placement is looked up, found by its tag, and never placed twice") {
    fx::test_ca pki;
    auto csr = fx::make_csr("web.example");
    auto d = fx::make_driver();
    auto s = d->start(t::enroll("job-5", csr.csr_pem), "");
    auto listed = R"({"orders":[{"id":4006,"date_created":"2026-12-02T11:59:00+00:00"},)"
                  R"({"id":3999,"date_created":"2026-12-01T10:00:00+00:00"},)"
                  R"({"id":1000,"date_created":"2025-01-01T10:00:00+00:00"}],)"
                  R"("page":{"total":3,"limit":20,"offset":0}})";
    const test::exchange script[] = {
        t::get("/organization", t::ok(fx::organizations_json())),
        t::get(t::list_path, t::ok(t::empty_list)),
        {.method = "POST", .url = t::fx_base + "/order/certificate/ssl_plus", .no_answer = true},
        t::get(t::list_path, t::ok(listed)),
        // Newest first; the 2025 order is older than any job of ours may be.
        t::get("/order/certificate/4006",
               t::ok(fx::order_json("4006", "issued", "", "", "cbcs job job-5"))),
        // Every young order is read: a second one with the tag would be reported.
        t::get("/order/certificate/3999",
               t::ok(fx::order_json("3999", "issued", "", "", "cbcs job job-50"))),
        t::get("/order/certificate/4006", t::ok(fx::order_json("4006", "issued"))),
        t::get("/certificate/5006/download/format/pem_all", t::ok(pki.leaf_for(csr.csr_pem, 6))),
    };
    auto r = test::drive(*s, script, t::ctx);
    CHECK(r.outcome.what == ca::outcome::kind::issued);
    int posts = 0;
    for (const auto& q : r.sent) posts += q.method == "POST";
    CHECK(posts == 1);
  }

  TEST_CASE("a candidate that is not ours is passed over; its tag proves it is ours") {
    auto csr = fx::make_csr("web.example");
    auto d = fx::make_driver();
    auto s = d->start(t::enroll("job-6", csr.csr_pem), "");
    auto listed =
        R"({"orders":[{"id":4010},{"id":4011}],"page":{"total":2,"limit":20,"offset":0}})";
    const test::exchange script[] = {
        t::get("/organization", t::ok(fx::organizations_json())),
        t::get(t::list_path, t::ok(listed)),
        t::get("/order/certificate/4010",
               t::ok(fx::order_json("4010", "issued", "", "", "cbcs job job-66"))),
        t::get("/order/certificate/4011",
               t::ok(fx::order_json("4011", "needs_approval", fx::with_crlf(csr.csr_pem), "",
                                    "cbcs job job-6"))),
        t::get("/order/certificate/4011", t::ok(fx::order_json("4011", "rejected"))),
    };
    auto r = test::drive(*s, script, t::ctx);
    CHECK(r.outcome.error == ca::error_class::rejected);
    CHECK(s->resume_token().ends_with(":4011"));
  }

  TEST_CASE("another job's order with the same CSR is never adopted (issued or revoked)") {
    // The README's renew example reuses the CSR; an enroll after a revoke
    // may too. Neither may get the earlier job's certificate back.
    for (std::string status : {"issued", "revoked", "expired"}) {
      fx::test_ca pki;
      auto csr = fx::make_csr("web.example");
      auto d = fx::make_driver();
      auto s = d->start(t::enroll("job-60", csr.csr_pem), "");
      auto listed = R"({"orders":[{"id":4012}],"page":{"total":1,"limit":20,"offset":0}})";
      const test::exchange script[] = {
          t::get("/organization", t::ok(fx::organizations_json())),
          t::get(t::list_path, t::ok(listed)),
          t::get("/order/certificate/4012",
                 t::ok(fx::order_json("4012", status, fx::with_crlf(csr.csr_pem), "",
                                      "cbcs job job-59"))),
          t::send("POST", "/order/certificate/ssl_plus", {"\"comments\":\"cbcs job job-60\""},
                  t::ok(t::chain_answer("4013", {pki.leaf_for(csr.csr_pem, 0x13)}), 201)),
      };
      auto r = test::drive(*s, script, t::ctx);
      REQUIRE_MESSAGE(r.outcome.what == ca::outcome::kind::issued, status);
      CHECK(r.outcome.serial_hex == "1013");
      CHECK(s->resume_token().ends_with(":4013"));
    }
  }

  TEST_CASE("the job's tag on another CSR is a conflict: neither adopted nor placed again") {
    auto csr = fx::make_csr("web.example");
    auto d = fx::make_driver();
    auto s = d->start(t::enroll("job-61", csr.csr_pem), "");
    auto listed = R"({"orders":[{"id":4014}],"page":{"total":1,"limit":20,"offset":0}})";
    const test::exchange script[] = {
        t::get("/organization", t::ok(fx::organizations_json())),
        t::get(t::list_path, t::ok(listed)),
        t::get("/order/certificate/4014",
               t::ok(fx::order_json("4014", "issued", fx::make_csr("web.example").csr_pem, "",
                                    "cbcs job job-61"))),
    };
    auto r = test::drive(*s, script, t::ctx);
    CHECK(r.outcome.error == ca::error_class::invalid_request);
    CHECK(test::contains(r.outcome.message, "order 4014"));
    CHECK(test::contains(r.outcome.message, "another CSR"));
  }

  TEST_CASE("an issued order whose certificate is revoked is not handed out as issued") {
    auto csr = fx::make_csr("web.example");
    auto d = fx::make_driver();
    auto s = d->start(t::enroll("job-62", csr.csr_pem), "order:1796209200:4015");
    auto body = fx::order_json("4015", "issued");
    auto at = body.find("\"serial_number\":\"1001\"");
    REQUIRE(at != std::string::npos);
    body.insert(at, "\"status\":\"revoked\",");
    const test::exchange script[] = {t::get("/order/certificate/4015", t::ok(body))};
    auto r = test::drive(*s, script, t::ctx);
    CHECK(r.outcome.what == ca::outcome::kind::failed);
    CHECK(r.outcome.error == ca::error_class::rejected);
    CHECK(test::contains(r.outcome.message, "revoked"));
  }

  TEST_CASE("429 on placing: retried after Retry-After, and looked up before placing again") {
    fx::test_ca pki;
    auto csr = fx::make_csr("web.example");
    auto d = fx::make_driver();
    auto s = d->start(t::enroll("job-7", csr.csr_pem), "");
    const test::exchange script[] = {
        t::get("/organization", t::ok(fx::organizations_json())),
        t::get(t::list_path, t::ok(t::empty_list)),
        t::send("POST", "/order/certificate/ssl_plus", {},
                {429,
                 {{"Retry-After", "3"}},
                 R"({"errors":[{"code":"request_limit_exceeded","message":"x"}]})"}),
        t::get(t::list_path, t::ok(t::empty_list)),
        t::send("POST", "/order/certificate/ssl_plus", {},
                t::ok(t::chain_answer("4007", {pki.leaf_for(csr.csr_pem, 7)}), 201)),
    };
    auto r = test::drive(*s, script, t::ctx);
    CHECK(r.outcome.what == ca::outcome::kind::issued);
    REQUIRE(r.interim.size() == 1);
    CHECK(r.interim[0].error == ca::error_class::throttled);
    CHECK(r.interim[0].retry_after == 3s);
  }

  TEST_CASE("an organization without validation is refused before any order") {
    auto d = fx::make_driver();
    auto s = d->start(t::enroll("job-8", fx::make_csr("web.example").csr_pem), "");
    const test::exchange script[] = {
        t::get("/organization", t::ok(fx::organizations_json("expired"))),
    };
    auto r = test::drive(*s, script, t::ctx);
    CHECK(r.outcome.error == ca::error_class::rejected);
    CHECK(test::contains(r.outcome.message, "ov validation"));
    CHECK(test::contains(r.outcome.message, "expired"));
  }

  TEST_CASE("the organizations are read once for the backend's jobs (single flight)") {
    auto d = fx::make_driver();
    auto a = d->start(t::enroll("job-9a", fx::make_csr("web.example").csr_pem), "");
    auto b = d->start(t::enroll("job-9b", fx::make_csr("web.example").csr_pem), "");
    auto first = a->next(nullptr, t::ctx);
    REQUIRE(std::holds_alternative<ca::http_request>(first));
    CHECK(std::get<ca::http_request>(first).url == t::fx_base + "/organization");
    CHECK(std::holds_alternative<ca::await_fetch>(b->next(nullptr, t::ctx)));
    auto answer = t::ok(fx::organizations_json());
    auto search_a = a->next(&answer, t::ctx);
    auto search_b = b->next(nullptr, t::ctx);
    REQUIRE(std::holds_alternative<ca::http_request>(search_b));
    CHECK(test::contains(std::get<ca::http_request>(search_b).url, "filters%5Bcommon_name%5D"));
    CHECK(test::contains(std::get<ca::http_request>(search_a).url, "filters%5Bcommon_name%5D"));
  }

  TEST_CASE("a lost answer to the organization list is asked again, not awaited") {
    auto d = fx::make_driver();
    auto s = d->start(t::enroll("job-9c", fx::make_csr("web.example").csr_pem), "");
    const test::exchange script[] = {
        {.method = "GET", .url = t::fx_base + "/organization", .no_answer = true},
        t::get("/organization", t::ok(fx::organizations_json("expired"))),
    };
    auto r = test::drive(*s, script, t::ctx);
    CHECK(r.awaits == 0);
    CHECK(r.outcome.error == ca::error_class::rejected);
  }

  TEST_CASE("renew by reissue: the order found by the old serial, reissued, its new certificate") {
    fx::test_ca pki;
    auto old_csr = fx::make_csr("web.example");
    auto old_cert = pki.leaf_for(old_csr.csr_pem, 0x21);
    auto csr = fx::make_csr("web.example");
    auto d = fx::make_driver();
    ca::job j{.id = "job-10",
              .op = ca::operation::renew,
              .backend = "dc",
              .csr_pem = csr.csr_pem,
              .cert_pem = old_cert};
    auto s = d->start(j, "");
    const test::exchange script[] = {
        t::get("/organization", t::ok(fx::organizations_json())),
        t::get("/order/certificate/1021", t::ok(fx::order_json("4100", "issued", old_csr.csr_pem))),
        t::get("/order/certificate/4100", t::ok(fx::order_json("4100", "issued", old_csr.csr_pem))),
        t::send("POST", "/order/certificate/4100/reissue", {"\"csr\":", "cbcs job job-10"},
                t::ok(R"({"id":4100,"requests":[{"id":777,"status":"approved"}]})", 201)),
        t::get("/order/certificate/4100", t::ok(fx::order_json("4100", "issued", old_csr.csr_pem))),
        t::get("/order/certificate/4100", t::ok(fx::order_json("4100", "issued", csr.csr_pem))),
        t::get("/certificate/5100/download/format/pem_all",
               t::ok(pki.leaf_for(csr.csr_pem, 0x22) + pki.intermediate_pem)),
    };
    auto r = test::drive(*s, script, t::ctx);
    REQUIRE(r.outcome.what == ca::outcome::kind::issued);
    CHECK(r.outcome.serial_hex == "1022");
    for (const auto& q : r.sent) CHECK_FALSE(test::contains(q.body, "organization"));
  }

  TEST_CASE("renew by reissue reusing the CSR never gets the old certificate back") {
    fx::test_ca pki;
    auto csr = fx::make_csr("web.example");
    auto old_cert = pki.leaf_for(csr.csr_pem, 0x51);
    auto d = fx::make_driver();
    ca::job j{.id = "job-15",
              .op = ca::operation::renew,
              .backend = "dc",
              .csr_pem = csr.csr_pem,
              .cert_pem = old_cert};
    auto s = d->start(j, "");
    auto order = fx::order_json("4150", "issued", csr.csr_pem, "", "cbcs job job-0");
    const test::exchange script[] = {
        t::get("/organization", t::ok(fx::organizations_json())),
        t::get("/order/certificate/1051", t::ok(order)),
        // The order being renewed, issued to the same CSR by another job:
        // not this job's reissue.
        t::get("/order/certificate/4150", t::ok(order)),
        t::send("POST", "/order/certificate/4150/reissue", {"cbcs job job-15"},
                t::ok(R"({"id":4150,"requests":[{"id":778,"status":"approved"}]})", 201)),
        // CertCentral still shows the old certificate: waited for.
        t::get("/order/certificate/4150", t::ok(order)),
        t::get("/certificate/5150/download/format/pem_all", t::ok(old_cert + pki.intermediate_pem)),
        t::get("/order/certificate/4150", t::ok(order)),
        t::get("/certificate/5150/download/format/pem_all",
               t::ok(pki.leaf_for(csr.csr_pem, 0x52) + pki.intermediate_pem)),
    };
    auto r = test::drive(*s, script, t::ctx);
    REQUIRE(r.outcome.what == ca::outcome::kind::issued);
    CHECK(r.outcome.serial_hex == "1052");
  }

  TEST_CASE("renew by a new order: renewal_of_order_id names the old one") {
    fx::test_ca pki;
    auto old_csr = fx::make_csr("web.example");
    auto csr = fx::make_csr("web.example");
    auto d = fx::make_driver({{"renewal", "renew"}, {"product", "ssl_multi_domain"}});
    ca::job j{.id = "job-11",
              .op = ca::operation::renew,
              .backend = "dc",
              .csr_pem = csr.csr_pem,
              .cert_pem = pki.leaf_for(old_csr.csr_pem, 0x31)};
    auto s = d->start(j, "");
    const test::exchange script[] = {
        t::get("/organization", t::ok(fx::organizations_json())),
        t::get("/order/certificate/1031", t::ok(fx::order_json("4200", "issued"))),
        t::get(t::list_path, t::ok(t::empty_list)),
        t::send("POST", "/order/certificate/ssl_multi_domain", {"\"renewal_of_order_id\":4200"},
                t::ok(t::chain_answer("4201", {pki.leaf_for(csr.csr_pem, 0x32)}), 201)),
    };
    auto r = test::drive(*s, script, t::ctx);
    CHECK(r.outcome.what == ca::outcome::kind::issued);
  }

  TEST_CASE("renew of a certificate CertCentral does not know fails and says which") {
    fx::test_ca pki;
    auto d = fx::make_driver();
    ca::job j{.id = "job-12",
              .op = ca::operation::renew,
              .backend = "dc",
              .csr_pem = fx::make_csr("web.example").csr_pem,
              .cert_pem = pki.leaf_for(fx::make_csr("web.example").csr_pem, 0x41)};
    auto s = d->start(j, "");
    const test::exchange script[] = {
        t::get("/organization", t::ok(fx::organizations_json())),
        t::get("/order/certificate/1041",
               {404, {}, R"({"errors":[{"code":"not_found","message":"x"}]})"}),
    };
    auto r = test::drive(*s, script, t::ctx);
    CHECK(r.outcome.error == ca::error_class::invalid_request);
    CHECK(test::contains(r.outcome.message, "serial 1041"));
  }

  TEST_CASE("an unknown status stays pending with its word; garbage fails the job, no crash") {
    auto d = fx::make_driver();
    auto s =
        d->start(t::enroll("job-13", fx::make_csr("web.example").csr_pem), "order:1796209200:4300");
    const test::exchange script[] = {
        t::get("/order/certificate/4300", t::ok(fx::order_json("4300", "on_hold_by_legal"))),
        t::get("/order/certificate/4300", t::ok("{\"id\":")),
    };
    auto r = test::drive(*s, script, t::ctx);
    REQUIRE(r.interim.size() == 1);
    CHECK(r.interim[0].pending_reason == "unknown");
    CHECK(test::contains(r.interim[0].message, "on_hold_by_legal"));
    CHECK(r.outcome.error == ca::error_class::internal);
  }
}

TEST_SUITE("digicert revoke and cancel") {
  ca::job revoke(std::string reason, std::string serial = "1001") {
    return {.id = "rv-1",
            .op = ca::operation::revoke,
            .backend = "dc",
            .serial_hex = serial,
            .reason = std::move(reason)};
  }

  TEST_CASE("the certificate is revoked with CertCentral's reason word") {
    auto d = fx::make_driver({{"skipapproval", "true"}});
    auto s = d->start(revoke("keyCompromise"), "");
    const test::exchange script[] = {
        t::get("/order/certificate/1001", t::ok(fx::order_json("4400", "issued"))),
        t::send("PUT", "/certificate/5400/revoke",
                {"\"revocation_reason\":\"keyCompromise\"", "\"skip_approval\":true", "rv-1"},
                t::ok("", 204)),
    };
    auto r = test::drive(*s, script, t::ctx);
    REQUIRE(r.outcome.what == ca::outcome::kind::done);
    CHECK(test::contains(r.outcome.report_json, "\"scope\": \"certificate\""));
  }

  TEST_CASE("each reason goes out as CertCentral's documented camelCase word, never snake_case") {
    // dev.digicert.com "Revoke order certificates": unspecified, keyCompromise,
    // affiliationChanged, superseded, cessationOfOperation.
    const std::pair<const char*, const char*> words[] = {
        {"", "unspecified"},
        {"unspecified", "unspecified"},
        {"keyCompromise", "keyCompromise"},
        {"KEYCOMPROMISE", "keyCompromise"},
        {"affiliationChanged", "affiliationChanged"},
        {"superseded", "superseded"},
        {"cessationOfOperation", "cessationOfOperation"},
    };
    for (auto [rfc, word] : words) {
      auto m = ca::map_revocation_reason(rfc, dc::revocation_reasons, "CertCentral");
      CHECK_MESSAGE(m.error.empty(), rfc);
      CHECK_MESSAGE(m.word == word, rfc);
      CHECK(std::string_view(m.word).find('_') == std::string_view::npos);
    }
  }

  TEST_CASE("-revoke order revokes the whole order") {
    auto d = fx::make_driver({{"revoke", "order"}});
    auto s = d->start(revoke(""), "");
    const test::exchange script[] = {
        t::get("/order/certificate/1001", t::ok(fx::order_json("4401", "issued"))),
        t::send("PUT", "/order/certificate/4401/revoke", {"\"revocation_reason\":\"unspecified\""},
                t::ok("", 204)),
    };
    CHECK(test::drive(*s, script, t::ctx).outcome.what == ca::outcome::kind::done);
  }

  TEST_CASE("a revocation that awaits approval is pending, then done; -autoapprove approves it") {
    auto d = fx::make_driver();
    auto s = d->start(revoke("superseded"), "");
    const test::exchange script[] = {
        t::get("/order/certificate/1001", t::ok(fx::order_json("4402", "issued"))),
        t::send("PUT", "/certificate/5402/revoke", {},
                t::ok(R"({"id":888,"type":"revoke","status":"pending"})", 201)),
        t::get("/request/888", t::ok(R"({"id":888,"status":"pending"})")),
        t::get("/request/888", t::ok(R"({"id":888,"status":"approved"})")),
    };
    auto r = test::drive(*s, script, t::ctx);
    CHECK(r.outcome.what == ca::outcome::kind::done);
    REQUIRE(r.interim.size() == 2);
    CHECK(r.interim[0].pending_reason == "needs_approval");
    CHECK(s->resume_token().ends_with(":request-888"));

    auto auto_d = fx::make_driver({{"autoapprove", "true"}});
    auto s2 = auto_d->start(revoke("cessationOfOperation"), "");
    const test::exchange approved[] = {
        t::get("/order/certificate/1001", t::ok(fx::order_json("4403", "issued"))),
        t::send("PUT", "/certificate/5403/revoke",
                {"\"revocation_reason\":\"cessationOfOperation\""},
                t::ok(R"({"id":889,"status":"pending"})", 201)),
        t::send("PUT", "/request/889/status", {"\"status\":\"approved\""}, t::ok("", 204)),
    };
    r = test::drive(*s2, approved, t::ctx);
    CHECK(r.outcome.what == ca::outcome::kind::done);
    CHECK(test::contains(r.outcome.report_json, "cbcs"));
  }

  TEST_CASE("-autoapprove: a revocation \"already approved\" is read again and done") {
    auto d = fx::make_driver({{"autoapprove", "true"}});
    auto s = d->start(revoke("superseded"), "");
    const test::exchange script[] = {
        t::get("/order/certificate/1001", t::ok(fx::order_json("4406", "issued"))),
        t::send("PUT", "/certificate/5406/revoke", {},
                t::ok(R"({"id":891,"type":"revoke","status":"pending"})", 201)),
        t::send(
            "PUT", "/request/891/status", {"\"status\":\"approved\""},
            {400,
             {},
             R"({"errors":[{"code":"invalid_status","message":"The request has already been approved"}]})"}),
        t::get("/request/891", t::ok(R"({"id":891,"status":"approved"})")),
    };
    auto r = test::drive(*s, script, t::ctx);
    CHECK(r.outcome.what == ca::outcome::kind::done);
    CHECK(test::contains(r.outcome.report_json, "\"status\": \"revoked\""));
  }

  TEST_CASE("a rejected revocation fails; a resumed one polls its request") {
    auto d = fx::make_driver();
    auto s = d->start(revoke("superseded"), "order:1796209200:request-890");
    const test::exchange script[] = {
        t::get("/request/890",
               t::ok(R"({"id":890,"status":"rejected","processor_comment":"still in use"})")),
    };
    auto r = test::drive(*s, script, t::ctx);
    CHECK(r.outcome.error == ca::error_class::rejected);
    CHECK(test::contains(r.outcome.message, "still in use"));
  }

  TEST_CASE("reasons CertCentral does not take are refused before any request") {
    auto d = fx::make_driver();
    for (auto reason : {"certificateHold", "removeFromCRL", "cACompromise", "nonsense"}) {
      auto s = d->start(revoke(reason), "");
      auto r = test::drive(*s, {}, t::ctx);
      CHECK_MESSAGE(r.outcome.error == ca::error_class::invalid_request, reason);
      CHECK(r.sent.empty());
    }
  }

  TEST_CASE("already revoked is done; a refused revoke is looked up once") {
    auto d = fx::make_driver();
    auto s = d->start(revoke("superseded"), "");
    const test::exchange script[] = {
        t::get("/order/certificate/1001", t::ok(fx::order_json("4404", "revoked"))),
    };
    CHECK(test::drive(*s, script, t::ctx).outcome.what == ca::outcome::kind::done);
    auto s2 = d->start(revoke("superseded"), "");
    const test::exchange refused[] = {
        t::get("/order/certificate/1001", t::ok(fx::order_json("4405", "issued"))),
        t::send("PUT", "/certificate/5405/revoke", {},
                {400, {}, R"({"errors":[{"code":"invalid_status","message":"revoked already"}]})"}),
        t::get("/order/certificate/1001", t::ok(fx::order_json("4405", "revoked"))),
    };
    CHECK(test::drive(*s2, refused, t::ctx).outcome.what == ca::outcome::kind::done);
  }

  TEST_CASE("cancel of a waiting order cancels it at CertCentral") {
    auto d = fx::make_driver();
    auto* canceller = dynamic_cast<ca::cancels_orders*>(d.get());
    REQUIRE(canceller);
    auto s = canceller->cancel(t::enroll("job-14", ""), "order:1796209200:4500", "not needed");
    const test::exchange script[] = {
        t::send("PUT", "/order/certificate/4500/status",
                {"\"status\":\"canceled\"", "\"note\":\"not needed\""}, t::ok("", 204)),
    };
    CHECK(test::drive(*s, script, t::ctx).outcome.what == ca::outcome::kind::done);

    // Canceled already (an earlier cancel whose answer was lost): done.
    auto s2 = canceller->cancel(t::enroll("job-14", ""), "order:1796209200:4501", "");
    const test::exchange again[] = {
        t::send(
            "PUT", "/order/certificate/4501/status", {},
            {400,
             {},
             R"({"errors":[{"code":"invalid_order_status","message":"The order has already been canceled"}]})"}),
        t::get("/order/certificate/4501", t::ok(fx::order_json("4501", "canceled"))),
    };
    CHECK(test::drive(*s2, again, t::ctx).outcome.what == ca::outcome::kind::done);
    // Issued meanwhile: the refusal stands.
    auto s3 = canceller->cancel(t::enroll("job-14", ""), "order:1796209200:4502", "");
    const test::exchange issued[] = {
        t::send(
            "PUT", "/order/certificate/4502/status", {},
            {400,
             {},
             R"({"errors":[{"code":"invalid_order_status","message":"Only waiting orders can be canceled"}]})"}),
        t::get("/order/certificate/4502", t::ok(fx::order_json("4502", "issued"))),
    };
    auto r = test::drive(*s3, issued, t::ctx);
    CHECK(r.outcome.what == ca::outcome::kind::failed);
    CHECK(test::contains(r.outcome.message, "Only waiting orders"));
  }
}

TEST_SUITE("digicert backend test") {
  TEST_CASE("names the organization's state and the permissions the key's user lacks") {
    auto d = fx::make_driver();
    auto s = d->start({.id = "t-1", .op = ca::operation::test, .backend = "dc"}, "");
    const test::exchange script[] = {
        t::get("/organization", t::ok(fx::organizations_json())),
        t::get("/user/me", t::ok(R"({"username":"api","access_roles":[{"id":3,"name":"User"}]})")),
    };
    auto r = test::drive(*s, script, t::ctx);
    CHECK(r.outcome.error == ca::error_class::auth);
    CHECK(test::contains(r.outcome.message, "manage_requests"));
    CHECK(test::contains(r.outcome.message, "review_requests"));
    CHECK_FALSE(test::contains(r.outcome.message, "view_orders"));
    CHECK_FALSE(test::contains(r.outcome.message, fx::api_key));
    CHECK(test::contains(r.outcome.report_json, "\"validated\""));

    auto s2 = d->start({.id = "t-2", .op = ca::operation::test, .backend = "dc"}, "");
    const test::exchange admin[] = {
        t::get("/organization", t::ok(fx::organizations_json())),
        t::get("/user/me",
               t::ok(R"({"username":"api","access_roles":[{"id":1,"name":"Administrator"}]})")),
    };
    r = test::drive(*s2, admin, t::ctx);
    CHECK(r.outcome.what == ca::outcome::kind::done);
    CHECK(test::contains(r.outcome.report_json, "\"organization\": 112233"));
  }

  TEST_CASE("a validity beyond 100 years is refused before any request") {
    auto d = fx::make_driver();
    auto j = t::enroll("job-16", fx::make_csr("web.example").csr_pem);
    j.validity_seconds = std::numeric_limits<std::int64_t>::max();
    auto s = d->start(j, "");
    auto r = test::drive(*s, {}, t::ctx);
    CHECK(r.outcome.error == ca::error_class::invalid_request);
    CHECK(r.sent.empty());
  }

  TEST_CASE("a bad setting fails every job and names it") {
    auto d = fx::make_driver({{"region", "mars"}});
    auto s = d->start(t::enroll("job-15", fx::make_csr("web.example").csr_pem), "");
    auto r = test::drive(*s, {}, t::ctx);
    CHECK(r.outcome.error == ca::error_class::invalid_request);
    CHECK(test::contains(r.outcome.message, "region"));
  }
}
