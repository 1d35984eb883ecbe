// Entrust ECS flows on the driver harness: every request in order, each
// answered as ECS answers (Keyfactor's entrust-ecs-caplugin models, Entrust's
// ansible module ecs_certificate).

#include <doctest/doctest.h>

#include "entrust/entrust_fixture.hpp"
#include "protocol/ca/entrust/entrust_api.hpp"
#include "test_pki.hpp"

using namespace cbcs;
namespace ca = protocol::ca;
namespace en = protocol::ca::entrust;
namespace efx = test::entrust;
using namespace std::chrono_literals;

namespace ecs_driver_test {

const auto t0 = std::chrono::sys_days{std::chrono::year{2026} / 12 / 2} + 12h;
const ca::step_context ctx{t0};
const std::string page0 = "/certificates?limit=1000&offset=0";
const std::string empty_list = efx::list_json({});

int posts(const test::drive_result& r) {
  int n = 0;
  for (const auto& q : r.sent) n += q.method == "POST";
  return n;
}

ca::job renew(const std::string& id, const std::string& csr, const std::string& old_cert) {
  return {
      .id = id, .op = ca::operation::renew, .backend = "en", .csr_pem = csr, .cert_pem = old_cert};
}

// GET /certificates?serialNumber=A1B answered with one certificate.
test::exchange by_serial(std::int64_t tracking_id, const std::string& status,
                         const std::string& serial = "A1B", const std::string& issued = "") {
  return efx::ecs_get(
      "/certificates?serialNumber=" + serial,
      efx::ok(efx::list_json({{.tracking_id = tracking_id, .status = status, .issued = issued}})));
}

ca::job revoke(std::string reason, std::string serial = "0a1b") {
  return {.id = "rv-1",
          .op = ca::operation::revoke,
          .backend = "en",
          .serial_hex = serial,
          .reason = std::move(reason)};
}

}  // namespace ecs_driver_test

namespace et = ecs_driver_test;

TEST_SUITE("entrust ecs wire") {
  TEST_CASE("every documented status has a meaning; an unknown one is pending with its word") {
    using k = en::status_meaning::kind;
    CHECK(en::read_status("ACTIVE").what == k::issued);
    CHECK(en::read_status("PENDING").reason == ca::pending_reason::needs_approval);
    CHECK(en::read_status("PENDING_QUORUM").reason == ca::pending_reason::needs_approval);
    for (auto s : {"APPROVED", "READY", "RENEWING", "REISSUING"}) {
      CHECK_MESSAGE(en::read_status(s).what == k::pending, s);
      CHECK_MESSAGE(en::read_status(s).reason == ca::pending_reason::processing, s);
    }
    for (auto s : {"DECLINED", "REVOKED", "EXPIRED", "SUSPENDED", "DEACTIVATED"})
      CHECK_MESSAGE(en::read_status(s).what == k::failed, s);
    for (auto s : {"RENEWED", "REISSUED"})
      CHECK_MESSAGE(en::read_status(s).what == k::superseded, s);
    auto na = en::read_status("NA");
    CHECK(na.what == k::pending);
    CHECK(na.reason == ca::pending_reason::unknown);
    CHECK(test::contains(na.text, "'NA'"));
    CHECK(test::contains(en::read_status("FROZEN").text, "FROZEN"));
  }

  TEST_CASE("errors: {status, errors[{message}]}; the key masked; 429 and 5xx retry") {
    auto e = en::parse_error(R"({"status":400,"errors":[{"message":"CSR is invalid"}]})");
    CHECK(e.message == "CSR is invalid");
    CHECK(en::parse_error("<html>errors</html>").message.empty());
    ca::http_response denied{
        401, {}, R"({"status":401,"errors":[{"message":"bad key )" + efx::api_key + R"("}]})"};
    auto o = en::error_outcome(denied, "placing the order", efx::username, efx::api_key, et::t0);
    CHECK(o.error == ca::error_class::auth);
    CHECK_FALSE(test::contains(o.message, efx::api_key));
    CHECK(test::contains(o.message, "user apiuser"));
    ca::http_response busy{429, {{"Retry-After", "9"}}, R"({"status":429,"errors":[]})"};
    o = en::error_outcome(busy, "x", efx::username, efx::api_key, et::t0);
    CHECK(o.error == ca::error_class::throttled);
    CHECK(o.retry_after == 9s);
    o = en::error_outcome({503, {}, ""}, "x", efx::username, efx::api_key, et::t0);
    CHECK(o.retryable);
    o = en::error_outcome({400, {}, R"({"status":400,"errors":[{"message":"bad csr"}]})"}, "x",
                          efx::username, efx::api_key, et::t0);
    CHECK(o.error == ca::error_class::invalid_request);
    o = en::error_outcome(
        {400, {}, R"({"status":400,"errors":[{"message":"Domain web.example is not approved"}]})"},
        "x", efx::username, efx::api_key, et::t0);
    CHECK(o.error == ca::error_class::rejected);
    CHECK(test::contains(o.message, "web.example"));
  }

  TEST_CASE("clients: the only approved one; several need -clientid; a declined one is named") {
    auto one = en::parse_clients(efx::clients_json());
    REQUIRE(en::choose_client(one, 0).chosen);
    auto two = en::parse_clients(efx::clients_json("APPROVED", true));
    auto c = en::choose_client(two, 0);
    CHECK_FALSE(c.chosen);
    CHECK(test::contains(c.error, "-clientid"));
    CHECK(en::choose_client(two, 8).chosen->id == 8);
    c = en::choose_client(en::parse_clients(efx::clients_json("DECLINED")), 7);
    CHECK(c.rejected);
    CHECK(test::contains(c.error, "client 7 (Example Inc) is not approved"));
    CHECK_THROWS(en::parse_clients(R"({"clients":3})"));
  }

  TEST_CASE("a validity is sent as a date alone (Entrust moves a time to US Eastern)") {
    CHECK(en::expiry_date(et::t0, 86400 * 90) == "2027-03-02");
    CHECK(en::expiry_date(et::t0 + 11h, 0) == "2026-12-02");
    en::order_request r{.csr_pem = "CSR", .cert_type = "STANDARD_SSL", .validity_seconds = 86400};
    auto body = en::new_certificate_body(r, et::t0);
    CHECK(test::contains(body, R"("certExpiryDate":"2026-12-03")"));
    CHECK_FALSE(test::contains(body, "certLifetime"));
    CHECK(test::contains(en::renewal_body(r, true, et::t0), R"("csr":"CSR")"));
    CHECK_FALSE(test::contains(en::renewal_body(r, true, et::t0), "certExpiryDate"));
  }

  TEST_CASE("serials as Entrust writes them: upper case, no leading zeros") {
    CHECK(en::entrust_serial("00:0a:1b") == "A1B");
    CHECK(en::entrust_serial("7f") == "7F");
    CHECK_FALSE(en::entrust_serial("xyz"));
    CHECK(en::domain_problem({{"example.com", "APPROVED"}}, {"www.example.com"}).empty());
    CHECK(test::contains(en::domain_problem({{"example.com", "EXPIRED"}}, {"example.com"}),
                         "EXPIRED"));
    CHECK(test::contains(en::domain_problem({{"example.com", "APPROVED"}}, {"badexample.com"}),
                         "not registered"));
  }
}

TEST_SUITE("entrust ecs flows") {
  TEST_CASE("201: issued at once, the leaf picked by the CSR's key, Basic auth on every call") {
    efx::test_ca pki;
    auto csr = efx::make_csr("web.example", {"web.example", "www.web.example"});
    auto leaf = pki.leaf_for(csr.csr_pem, 1);
    auto d = efx::make_ecs_driver();
    auto s = d->start(efx::enroll("job-1", csr.csr_pem), "");
    // The intermediate (same CN) as endEntityCert proves the key decides.
    const test::exchange script[] = {
        efx::ecs_get("/clients", efx::ok(efx::clients_json())),
        efx::ecs_send("POST", "/certificates",
                     {"BEGIN CERTIFICATE REQUEST", R"("certType":"STANDARD_SSL")",
                      R"("certLifetime":"P1Y")", R"("signingAlg":"SHA-2")", R"("clientId":7)",
                      R"("subjectAltName":["web.example","www.web.example"])",
                      R"("tracking":{"trackingInfo":"cbcs job job-1","requesterName":"apiuser",)",
                      R"("requesterEmail":"pki@web.example","requesterPhone":"+1 555 0100"})"},
                     efx::ok(efx::certificate_json({.tracking_id = 4001,
                                                  .end_entity_cert = pki.intermediate_pem,
                                                  .chain = {leaf, pki.root_pem}}),
                            201)),
    };
    auto r = test::drive(*s, script, et::ctx);
    REQUIRE(r.outcome.what == ca::outcome::kind::issued);
    CHECK(r.outcome.certificate_pem == leaf);
    CHECK(r.outcome.chain_pem == pki.intermediate_pem + pki.root_pem);
    CHECK(r.outcome.serial_hex == "1001");
    CHECK(s->resume_token().ends_with(":4001"));
  }

  TEST_CASE("202: queued for approval, polled through PENDING, PENDING_QUORUM, APPROVED") {
    efx::test_ca pki;
    auto csr = efx::make_csr("web.example");
    auto d = efx::make_ecs_driver({{"certtype", "PRIVATE_SSL"}, {"clientid", "7"}});
    auto j = efx::enroll("job-2", csr.csr_pem);
    j.profile = "ADVANTAGE_SSL";
    auto s = d->start(j, "");
    auto state = [&](const std::string& status, std::string cert = {}) {
      return efx::ecs_get("/certificates/4002",
                         efx::ok(efx::certificate_json(
                             {.tracking_id = 4002, .status = status, .end_entity_cert = cert})));
    };
    const test::exchange script[] = {
        efx::ecs_get("/clients", efx::ok(efx::clients_json())),
        // A job's profile overrides -certtype.
        efx::ecs_send("POST", "/certificates", {R"("certType":"ADVANTAGE_SSL")"},
                     efx::ok(R"({"trackingId":4002})", 202)),
        state("PENDING"),
        state("PENDING_QUORUM"),
        state("APPROVED"),
        state("ACTIVE", pki.leaf_for(csr.csr_pem, 2)),
    };
    auto r = test::drive(*s, script, et::ctx);
    REQUIRE(r.outcome.what == ca::outcome::kind::issued);
    REQUIRE(r.interim.size() == 4);
    CHECK(r.interim[0].pending_reason == "needs_approval");
    CHECK(test::contains(r.interim[0].message, "queued for approval"));
    CHECK(r.interim[2].pending_reason == "needs_approval");
    CHECK(test::contains(r.interim[2].message, "quorum"));
    CHECK(r.interim[3].pending_reason == "processing");
    CHECK(r.outcome.chain_pem.empty());
  }

  TEST_CASE("final statuses fail with Entrust's word; unknown ones wait; garbage is internal") {
    for (std::string status :
         {"DECLINED", "REVOKED", "EXPIRED", "SUSPENDED", "DEACTIVATED", "RENEWED", "REISSUED"}) {
      auto d = efx::make_ecs_driver();
      auto s = d->start(efx::enroll("job-3", efx::make_csr("web.example").csr_pem),
                        "order:1796209200:4003");
      const test::exchange script[] = {
          efx::ecs_get("/certificates/4003",
                      efx::ok(efx::certificate_json({.tracking_id = 4003, .status = status})))};
      auto r = test::drive(*s, script, et::ctx);
      CHECK_MESSAGE(r.outcome.error == ca::error_class::rejected, status);
      CHECK_MESSAGE(r.outcome.backend_code == status, status);
    }
    auto d = efx::make_ecs_driver();
    auto s =
        d->start(efx::enroll("job-3", efx::make_csr("web.example").csr_pem), "order:1796209200:4003");
    const test::exchange script[] = {
        efx::ecs_get("/certificates/4003",
                    efx::ok(efx::certificate_json({.tracking_id = 4003, .status = "NA"}))),
        efx::ecs_get("/certificates/4003", efx::ok(R"({"trackingId":)")),
    };
    auto r = test::drive(*s, script, et::ctx);
    REQUIRE(r.interim.size() == 1);
    CHECK(r.interim[0].pending_reason == "unknown");
    CHECK(r.outcome.error == ca::error_class::internal);
  }

  TEST_CASE("a lost placement is looked up by its tag and never placed twice") {
    efx::test_ca pki;
    auto csr = efx::make_csr("web.example");
    auto d = efx::make_ecs_driver();
    auto s = d->start(efx::enroll("job-5", csr.csr_pem), "");
    auto listed =
        efx::list_json({{.tracking_id = 4006, .status = "ACTIVE"},
                       {.tracking_id = 3999, .status = "ACTIVE"},
                       {.tracking_id = 1000, .status = "ACTIVE", .issued = "2025-01-01T10:00:00Z"},
                       {.tracking_id = 4100, .dn = "CN=other.example"},
                       {.tracking_id = 0}});
    const test::exchange script[] = {
        efx::ecs_get("/clients", efx::ok(efx::clients_json())),
        {.method = "POST", .url = efx::ecs_base + "/certificates", .no_answer = true},
        efx::ecs_get(et::page0, efx::ok(listed)),
        // Too old, another name and trackingId 0 are passed over.
        efx::ecs_get(
            "/certificates/4006",
            efx::ok(efx::certificate_json(
                {.tracking_id = 4006, .status = "PENDING", .tracking_info = "cbcs job job-5"}))),
        efx::ecs_get(
            "/certificates/3999",
            efx::ok(efx::certificate_json(
                {.tracking_id = 3999, .status = "ACTIVE", .tracking_info = "cbcs job job-50"}))),
        efx::ecs_get("/certificates/4006", efx::ok(efx::certificate_json(
                                              {.tracking_id = 4006,
                                               .status = "ACTIVE",
                                               .end_entity_cert = pki.leaf_for(csr.csr_pem, 6)}))),
    };
    auto r = test::drive(*s, script, et::ctx);
    CHECK(r.outcome.what == ca::outcome::kind::issued);
    CHECK(et::posts(r) == 1);
    REQUIRE_FALSE(r.interim.empty());
    CHECK(test::contains(r.interim[0].message, "may still be being made"));
  }

  TEST_CASE("the job's tag on another CSR is a conflict: neither adopted nor placed again") {
    auto csr = efx::make_csr("web.example");
    auto d = efx::make_ecs_driver();
    auto s = d->start(efx::enroll("job-6", csr.csr_pem), "placing:1796212700000:1796212742000");
    const test::exchange script[] = {
        efx::ecs_get("/clients", efx::ok(efx::clients_json())),
        efx::ecs_get(et::page0, efx::ok(efx::list_json({{.tracking_id = 4010}}))),
        efx::ecs_get("/certificates/4010",
                    efx::ok(efx::certificate_json({.tracking_id = 4010,
                                                 .csr = efx::make_csr("web.example").csr_pem,
                                                 .tracking_info = "cbcs job job-6"}))),
    };
    auto r = test::drive(*s, script, et::ctx);
    CHECK(r.outcome.error == ca::error_class::invalid_request);
    CHECK(test::contains(r.outcome.message, "another CSR"));
    CHECK(et::posts(r) == 0);
  }

  TEST_CASE("429 on placing: Retry-After honoured, looked up before placing again") {
    // A new order goes straight to POST (search_when_fresh): only the answered
    // 429, which may hide an order, makes it look before the second POST.
    efx::test_ca pki;
    auto csr = efx::make_csr("web.example");
    auto d = efx::make_ecs_driver();
    auto s = d->start(efx::enroll("job-7", csr.csr_pem), "");
    const test::exchange script[] = {
        efx::ecs_get("/clients", efx::ok(efx::clients_json())),
        efx::ecs_send("POST", "/certificates", {},
                     {429, {{"Retry-After", "3"}}, R"({"status":429,"errors":[{"message":"x"}]})"}),
        efx::ecs_get(et::page0, efx::ok(et::empty_list)),
        efx::ecs_send("POST", "/certificates", {},
                     efx::ok(efx::certificate_json({.tracking_id = 4007,
                                                  .end_entity_cert = pki.leaf_for(csr.csr_pem, 7)}),
                            201)),
    };
    auto r = test::drive(*s, script, et::ctx);
    CHECK(r.outcome.what == ca::outcome::kind::issued);
    REQUIRE(r.interim.size() == 1);
    CHECK(r.interim[0].error == ca::error_class::throttled);
    CHECK(r.interim[0].retry_after == 3s);
  }

  TEST_CASE("a client that is not approved, or a domain, is rejected naming it") {
    auto csr = efx::make_csr("web.example");
    auto d = efx::make_ecs_driver();
    auto s = d->start(efx::enroll("job-8", csr.csr_pem), "");
    const test::exchange declined[] = {
        efx::ecs_get("/clients", efx::ok(efx::clients_json("DECLINED"))),
    };
    auto r = test::drive(*s, declined, et::ctx);
    CHECK(r.outcome.error == ca::error_class::rejected);
    CHECK(test::contains(r.outcome.message, "Example Inc"));

    auto s2 = d->start(efx::enroll("job-9", csr.csr_pem), "");
    const test::exchange domain[] = {
        efx::ecs_get("/clients", efx::ok(efx::clients_json())),
        efx::ecs_send("POST", "/certificates", {},
                     {400,
                      {},
                      R"({"status":400,"errors":[{"message":"Domain web.example is not )"
                      R"(approved for client 7"}]})"}),
    };
    r = test::drive(*s2, domain, et::ctx);
    CHECK(r.outcome.error == ca::error_class::rejected);
    CHECK(test::contains(r.outcome.message, "Domain web.example is not approved"));
  }

  TEST_CASE("renew: the old certificate by serial, POST .../renewals, a new certificate") {
    efx::test_ca pki;
    auto csr = efx::make_csr("web.example");
    auto old = pki.leaf_for(efx::make_csr("web.example").csr_pem, 0x41);
    auto d = efx::make_ecs_driver();
    auto s = d->start(et::renew("job-10", csr.csr_pem, old), "");
    const test::exchange script[] = {
        efx::ecs_get("/clients", efx::ok(efx::clients_json())),
        et::by_serial(3001, "ACTIVE", "1041", "2026-09-01T10:00:00Z"),
        efx::ecs_get(et::page0, efx::ok(et::empty_list)),
        efx::ecs_get("/certificates/3001",
                    efx::ok(efx::certificate_json({.tracking_id = 3001, .status = "ACTIVE"}))),
        efx::ecs_send(
            "POST", "/certificates/3001/renewals",
            {R"("certLifetime":"P1Y")", "cbcs job job-10", "BEGIN CERTIFICATE REQUEST"},
            efx::ok(efx::certificate_json(
                       {.tracking_id = 4011, .end_entity_cert = pki.leaf_for(csr.csr_pem, 11)}),
                   201)),
    };
    auto r = test::drive(*s, script, et::ctx);
    REQUIRE(r.outcome.what == ca::outcome::kind::issued);
    CHECK(r.outcome.serial_hex == "100b");
  }

  TEST_CASE("renew within 30 days of issuance is refused before any renewal, naming reissue") {
    efx::test_ca pki;
    auto d = efx::make_ecs_driver();
    auto s = d->start(et::renew("job-11", efx::make_csr("web.example").csr_pem,
                               pki.leaf_for(efx::make_csr("web.example").csr_pem, 0x41)),
                      "");
    const test::exchange script[] = {
        efx::ecs_get("/clients", efx::ok(efx::clients_json())),
        et::by_serial(3001, "ACTIVE", "1041", "2026-11-22T10:00:00Z"),
    };
    auto r = test::drive(*s, script, et::ctx);
    CHECK(r.outcome.error == ca::error_class::invalid_request);
    CHECK(test::contains(r.outcome.message, "within 30 days"));
    CHECK(test::contains(r.outcome.message, "-renewal reissue"));
    CHECK(et::posts(r) == 0);

    // Entrust's own refusal reads the same.
    auto s2 = d->start(et::renew("job-11b", efx::make_csr("web.example").csr_pem,
                                pki.leaf_for(efx::make_csr("web.example").csr_pem, 0x41)),
                       "");
    const test::exchange refused[] = {
        et::by_serial(3001, "ACTIVE", "1041", ""),
        efx::ecs_get(et::page0, efx::ok(et::empty_list)),
        efx::ecs_get("/certificates/3001",
                    efx::ok(efx::certificate_json({.tracking_id = 3001, .status = "ACTIVE"}))),
        efx::ecs_send("POST", "/certificates/3001/renewals", {},
                     {400,
                      {},
                      R"({"status":400,"errors":[{"message":"Certificate cannot be )"
                      R"(renewed within 30 days of issuance"}]})"}),
    };
    r = test::drive(*s2, refused, et::ctx);
    CHECK(r.outcome.error == ca::error_class::invalid_request);
    CHECK(test::contains(r.outcome.message, "-renewal reissue"));
  }

  TEST_CASE("-renewal reissue: POST .../reissues without lifetime; the old one becomes REISSUED") {
    efx::test_ca pki;
    auto csr = efx::make_csr("web.example");
    auto d = efx::make_ecs_driver({{"renewal", "reissue"}});
    auto s = d->start(
        et::renew("job-12", csr.csr_pem, pki.leaf_for(efx::make_csr("web.example").csr_pem, 0x41)),
        "");
    const test::exchange script[] = {
        efx::ecs_get("/clients", efx::ok(efx::clients_json())),
        // Issued 10 days ago: a reissue may.
        et::by_serial(3001, "ACTIVE", "1041", "2026-11-22T10:00:00Z"),
        efx::ecs_get(et::page0, efx::ok(et::empty_list)),
        efx::ecs_get("/certificates/3001",
                    efx::ok(efx::certificate_json(
                        {.tracking_id = 3001, .status = "ACTIVE", .serial = "1041"}))),
        efx::ecs_send(
            "POST", "/certificates/3001/reissues", {"cbcs job job-12"},
            efx::ok(efx::certificate_json(
                       {.tracking_id = 3001, .end_entity_cert = pki.leaf_for(csr.csr_pem, 12)}),
                   201)),
    };
    auto r = test::drive(*s, script, et::ctx);
    REQUIRE(r.outcome.what == ca::outcome::kind::issued);
    CHECK_FALSE(test::contains(r.sent.back().body, "certLifetime"));
    CHECK(test::contains(r.outcome.message, "REISSUED"));
  }

  TEST_CASE("a reissue whose answer was lost is found under the same trackingId, not redone") {
    efx::test_ca pki;
    auto csr = efx::make_csr("web.example");
    auto d = efx::make_ecs_driver({{"renewal", "reissue"}});
    auto s = d->start(
        et::renew("job-12b", csr.csr_pem, pki.leaf_for(efx::make_csr("web.example").csr_pem, 0x41)),
        "placing:1796212700000:1796212742000");
    auto reissued = efx::certificate_json({.tracking_id = 3001,
                                          .status = "ACTIVE",
                                          .end_entity_cert = pki.leaf_for(csr.csr_pem, 13)});
    const test::exchange script[] = {
        efx::ecs_get("/clients", efx::ok(efx::clients_json())),
        et::by_serial(3001, "ACTIVE", "1041", "2026-11-22T10:00:00Z"),
        efx::ecs_get(et::page0, efx::ok(et::empty_list)),
        // Its serial is no longer 1041 (list_json writes 1001): reissued already.
        efx::ecs_get("/certificates/3001", efx::ok(reissued)),
        efx::ecs_get("/certificates/3001", efx::ok(reissued)),
    };
    auto r = test::drive(*s, script, et::ctx);
    REQUIRE(r.outcome.what == ca::outcome::kind::issued);
    CHECK(et::posts(r) == 0);
  }

  TEST_CASE("a reissue queued for approval: the old certificate under its trackingId waits") {
    efx::test_ca pki;
    auto csr = efx::make_csr("web.example");
    auto old_csr = efx::make_csr("web.example").csr_pem;
    auto d = efx::make_ecs_driver({{"renewal", "reissue"}});
    auto s = d->start(et::renew("job-12c", csr.csr_pem, pki.leaf_for(old_csr, 0x41)), "");
    const test::exchange script[] = {
        efx::ecs_get("/clients", efx::ok(efx::clients_json())),
        et::by_serial(3001, "ACTIVE", "1041", "2026-11-22T10:00:00Z"),
        efx::ecs_get(et::page0, efx::ok(et::empty_list)),
        efx::ecs_get("/certificates/3001",
                    efx::ok(efx::certificate_json(
                        {.tracking_id = 3001, .status = "ACTIVE", .serial = "1041"}))),
        efx::ecs_send("POST", "/certificates/3001/reissues", {},
                     efx::ok(R"({"trackingId":3001})", 202)),
        efx::ecs_get("/certificates/3001",
                    efx::ok(efx::certificate_json({.tracking_id = 3001,
                                                 .status = "ACTIVE",
                                                 .end_entity_cert = pki.leaf_for(old_csr, 0x41),
                                                 .serial = "1041"}))),
        efx::ecs_get("/certificates/3001",
                    efx::ok(efx::certificate_json({.tracking_id = 3001,
                                                 .status = "ACTIVE",
                                                 .end_entity_cert = pki.leaf_for(csr.csr_pem, 14),
                                                 .serial = "100E"}))),
    };
    auto r = test::drive(*s, script, et::ctx);
    REQUIRE(r.outcome.what == ca::outcome::kind::issued);
    REQUIRE(r.interim.size() == 2);
    CHECK(r.interim[1].pending_reason == "processing");
    CHECK(test::contains(r.interim[1].message, "not out yet"));
  }

  TEST_CASE("a certificate renewed already is not renewed again blind") {
    efx::test_ca pki;
    auto d = efx::make_ecs_driver();
    auto s = d->start(et::renew("job-13", efx::make_csr("web.example").csr_pem,
                               pki.leaf_for(efx::make_csr("web.example").csr_pem, 0x41)),
                      "");
    const test::exchange script[] = {
        efx::ecs_get("/clients", efx::ok(efx::clients_json())),
        et::by_serial(3001, "ACTIVE", "1041", "2026-01-01T10:00:00Z"),
        efx::ecs_get(et::page0, efx::ok(et::empty_list)),
        efx::ecs_get("/certificates/3001",
                    efx::ok(efx::certificate_json({.tracking_id = 3001, .status = "RENEWED"}))),
    };
    auto r = test::drive(*s, script, et::ctx);
    CHECK(r.outcome.error == ca::error_class::rejected);
    CHECK(test::contains(r.outcome.message, "RENEWED"));
    CHECK(et::posts(r) == 0);
  }

  TEST_CASE("a bad setting fails every job and names it") {
    auto d = efx::make_ecs_driver({{"renewal", "sometimes"}});
    auto s = d->start(efx::enroll("job-14", efx::make_csr("web.example").csr_pem), "");
    auto r = test::drive(*s, {}, et::ctx);
    CHECK(r.outcome.error == ca::error_class::invalid_request);
    CHECK(test::contains(r.outcome.message, "renewal"));
  }
}

TEST_SUITE("entrust ecs revoke and report") {
  TEST_CASE("found by serial, revoked with crlReason and the job's tag in the comment") {
    auto d = efx::make_ecs_driver();
    auto s = d->start(et::revoke("keyCompromise"), "");
    const test::exchange script[] = {
        et::by_serial(77, "ACTIVE"),
        efx::ecs_send("POST", "/certificates/77/revocations",
                     {R"("crlReason":"keyCompromise")", "cbcs job rv-1"}, efx::ok("{}")),
    };
    auto r = test::drive(*s, script, et::ctx);
    REQUIRE(r.outcome.what == ca::outcome::kind::done);
    CHECK(test::contains(r.outcome.report_json, "\"tracking_id\": 77"));
  }

  TEST_CASE("other reasons: refused before any request, or -revokereason map: unspecified") {
    auto d = efx::make_ecs_driver();
    auto s = d->start(et::revoke("superseded"), "");
    auto r = test::drive(*s, {}, et::ctx);
    CHECK(r.outcome.error == ca::error_class::invalid_request);
    CHECK(test::contains(r.outcome.message, "unspecified, keyCompromise"));
    CHECK(test::contains(r.outcome.message, "-revokereason map"));
    CHECK(r.sent.empty());

    auto m = efx::make_ecs_driver({{"revokereason", "map"}});
    auto s2 = m->start(et::revoke("superseded"), "");
    const test::exchange mapped[] = {
        et::by_serial(77, "ACTIVE"),
        efx::ecs_send("POST", "/certificates/77/revocations",
                     {R"("crlReason":"unspecified")", "reason superseded"}, efx::ok("{}")),
    };
    r = test::drive(*s2, mapped, et::ctx);
    CHECK(r.outcome.what == ca::outcome::kind::done);
    // An unknown name is refused in either mode.
    auto s3 = m->start(et::revoke("becauseISaidSo"), "");
    CHECK(test::drive(*s3, {}, et::ctx).outcome.error == ca::error_class::invalid_request);
  }

  TEST_CASE(
      "revoked already is done; trackingId 0 and unknown serials fail; a refusal looks once") {
    auto d = efx::make_ecs_driver();
    auto s = d->start(et::revoke("unspecified"), "");
    const test::exchange already[] = {
        efx::ecs_get("/certificates?serialNumber=A1B",
                    efx::ok(efx::list_json({{.tracking_id = 77, .status = "REVOKED"}})))};
    auto r = test::drive(*s, already, et::ctx);
    CHECK(r.outcome.what == ca::outcome::kind::done);
    CHECK(test::contains(r.outcome.report_json, "\"already\": true"));

    auto s2 = d->start(et::revoke("unspecified"), "");
    const test::exchange portal[] = {
        efx::ecs_get("/certificates?serialNumber=A1B", efx::ok(efx::list_json({{.tracking_id = 0}})))};
    r = test::drive(*s2, portal, et::ctx);
    CHECK(r.outcome.error == ca::error_class::rejected);
    CHECK(test::contains(r.outcome.message, "Enterprise Portal"));

    auto s3 = d->start(et::revoke("unspecified"), "");
    const test::exchange unknown[] = {
        efx::ecs_get("/certificates?serialNumber=A1B", efx::ok(et::empty_list))};
    r = test::drive(*s3, unknown, et::ctx);
    CHECK(r.outcome.error == ca::error_class::invalid_request);

    auto s4 = d->start(et::revoke("unspecified"), "");
    const test::exchange refused[] = {
        et::by_serial(77, "ACTIVE"),
        efx::ecs_send("POST", "/certificates/77/revocations", {},
                     {400, {}, R"({"status":400,"errors":[{"message":"already revoked"}]})"}),
        et::by_serial(77, "REVOKED"),
    };
    r = test::drive(*s4, refused, et::ctx);
    CHECK(r.outcome.what == ca::outcome::kind::done);
  }

  TEST_CASE("a lost revocation answer is looked up before asking again") {
    auto d = efx::make_ecs_driver();
    auto s = d->start(et::revoke("keyCompromise"), "");
    const test::exchange script[] = {
        et::by_serial(77, "ACTIVE"),
        {.method = "POST", .url = efx::ecs_base + "/certificates/77/revocations", .no_answer = true},
        et::by_serial(77, "REVOKED"),
    };
    auto r = test::drive(*s, script, et::ctx);
    CHECK(r.outcome.what == ca::outcome::kind::done);
  }

  TEST_CASE("test: the clients and the inventories; no approved client fails with the report") {
    auto d = efx::make_ecs_driver();
    auto s = d->start({.id = "t-1", .op = ca::operation::test, .backend = "en"}, "");
    const test::exchange script[] = {
        efx::ecs_get("/clients", efx::ok(efx::clients_json())),
        efx::ecs_get("/clients/7/domains?offset=0&limit=100", efx::ok(R"({"domains":[]})")),
        efx::ecs_get("/inventories",
                    efx::ok(R"({"inventories":[{"productType":"STANDARD_SSL","totalCount":10,)"
                           R"("remainingCount":7,"usedCount":3}]})")),
    };
    auto r = test::drive(*s, script, et::ctx);
    REQUIRE(r.outcome.what == ca::outcome::kind::done);
    CHECK(test::contains(r.outcome.report_json, "\"client\": 7"));
    CHECK(test::contains(r.outcome.report_json, "\"remaining\": 7"));

    auto s2 = d->start({.id = "t-2", .op = ca::operation::inventory, .backend = "en"}, "");
    const test::exchange none[] = {
        efx::ecs_get("/clients", efx::ok(efx::clients_json("DECLINED"))),
        efx::ecs_get("/clients/7/domains?offset=0&limit=100", efx::ok(R"({"domains":[]})")),
        efx::ecs_get("/inventories", efx::ok(R"({"inventories":[]})")),
    };
    r = test::drive(*s2, none, et::ctx);
    CHECK(r.outcome.error == ca::error_class::rejected);
    CHECK(test::contains(r.outcome.report_json, "DECLINED"));

    auto s3 = d->start({.id = "t-3", .op = ca::operation::test, .backend = "en"}, "");
    const test::exchange denied[] = {
        efx::ecs_get("/clients", {401, {}, R"({"status":401,"errors":[{"message":"no"}]})"})};
    r = test::drive(*s3, denied, et::ctx);
    CHECK(r.outcome.error == ca::error_class::auth);
    CHECK_FALSE(test::contains(r.outcome.message, efx::api_key));
  }
}

TEST_SUITE("entrust ecs domains") {
  TEST_CASE("which domains an order may name: in force and eligible for the kind of type") {
    en::domain_info d{.name = "example.com", .verification_status = "APPROVED"};
    CHECK(en::domain_orderable(d, false));
    for (auto s : {"RE_VERIFICATION", "EXPIRING"}) {
      d.verification_status = s;
      CHECK_MESSAGE(en::domain_orderable(d, false), s);
    }
    for (auto s : {"INITIAL_VERIFICATION", "EXPIRED", "DECLINED", "CANCELLED", "NEW_WORD"}) {
      d.verification_status = s;
      CHECK_FALSE_MESSAGE(en::domain_orderable(d, false), s);
    }
    d = {.name = "example.com", .verification_status = "APPROVED", .ov_eligible = true,
         .ev_eligible = false};
    CHECK(en::domain_orderable(d, false));
    CHECK_FALSE(en::domain_orderable(d, true));
    CHECK(en::is_ev_type("EV_SSL"));
    CHECK_FALSE(en::is_ev_type("STANDARD_SSL"));
    CHECK(test::contains(en::domain_problem({d}, {"www.example.com"}, true), "not EV eligible"));
    CHECK(en::domain_problem({{"example.com", "EXPIRING"}}, {"example.com"}).empty());

    auto list = en::parse_domain_list(
        R"({"summary":{"total":250},"domains":[{"clientId":1,"domainName":"Example.COM",)"
        R"("verificationStatus":"approved","verificationMethod":"DNS","ovEligible":true,)"
        R"("ovExpiry":"2027-06-01T00:00:00Z","evEligible":false},{"domainName":""},7]})");
    REQUIRE(list.domains.size() == 1);
    CHECK(list.total == 250);
    CHECK(list.domains[0].name == "example.com");
    CHECK(list.domains[0].verification_status == "APPROVED");
    CHECK(list.domains[0].ov_eligible == true);
    CHECK(list.domains[0].ev_eligible == false);
    CHECK(list.domains[0].ov_expiry == "2027-06-01T00:00:00Z");
    CHECK_THROWS(en::parse_domain_list(R"({"summary":{}})"));
  }

  TEST_CASE("test: a client's domains are read page by page until the summary's total") {
    auto d = efx::make_ecs_driver();
    auto s = d->start({.id = "t-p", .op = ca::operation::test, .backend = "en"}, "");
    const test::exchange script[] = {
        efx::ecs_get("/clients", efx::ok(efx::clients_json())),
        efx::ecs_get("/clients/7/domains?offset=0&limit=100",
                    efx::ok(R"({"summary":{"total":3},"domains":[)"
                           R"({"domainName":"a.example","verificationStatus":"APPROVED"},)"
                           R"({"domainName":"b.example","verificationStatus":"APPROVED"}]})")),
        efx::ecs_get("/clients/7/domains?offset=2&limit=100",
                    efx::ok(R"({"summary":{"total":3},"domains":[)"
                           R"({"domainName":"c.example","verificationStatus":"DECLINED"}]})")),
        efx::ecs_get("/inventories", efx::ok(R"({"inventories":[]})")),
    };
    auto r = test::drive(*s, script, et::ctx);
    REQUIRE(r.outcome.what == ca::outcome::kind::done);
    CHECK(r.outcome.message ==
          "client 7 (Example Inc): orders for a.example, b.example; not for c.example (DECLINED)");
    CHECK_FALSE(test::contains(r.outcome.report_json, "domains_total"));
  }

  TEST_CASE("test: every client's domains, which can be ordered, in the report and in words") {
    auto d = efx::make_ecs_driver({{"clientid", "8"}});
    auto s = d->start({.id = "t-d", .op = ca::operation::test, .backend = "en"}, "");
    const std::string seven =
        R"({"summary":{"total":3},"domains":[)"
        R"({"domainName":"web.example","verificationStatus":"APPROVED","ovEligible":true,)"
        R"("ovExpiry":"2027-06-01T00:00:00Z","verificationMethod":"DNS"},)"
        R"({"domainName":"old.example","verificationStatus":"EXPIRED","ovEligible":false},)"
        R"({"domainName":"new.example","verificationStatus":"INITIAL_VERIFICATION"}]})";
    const test::exchange script[] = {
        efx::ecs_get("/clients", efx::ok(efx::clients_json("APPROVED", true))),
        efx::ecs_get("/clients/7/domains?offset=0&limit=100", efx::ok(seven)),
        // Busy: the same call after Retry-After, not a finding.
        efx::ecs_get("/clients/8/domains?offset=0&limit=100",
                    {429, {{"Retry-After", "2"}}, R"({"status":429,"errors":[]})"}),
        efx::ecs_get("/clients/8/domains?offset=0&limit=100",
                    {403, {}, R"({"status":403,"errors":[{"message":"no domain access"}]})"}),
        efx::ecs_get("/inventories", efx::ok(R"({"inventories":[]})")),
    };
    auto r = test::drive(*s, script, et::ctx);
    REQUIRE(r.outcome.what == ca::outcome::kind::done);
    REQUIRE(r.interim.size() == 1);
    CHECK(r.interim[0].retry_after == 2s);
    const auto& j = r.outcome.report_json;
    CHECK(test::contains(j, "\"name\": \"web.example\""));
    CHECK(test::contains(j, "\"ov_expiry\": \"2027-06-01T00:00:00Z\""));
    CHECK(test::contains(j, "\"verification_status\": \"INITIAL_VERIFICATION\""));
    CHECK(test::contains(j, "\"orderable\": true"));
    CHECK(test::contains(j, "\"orderable\": false"));
    CHECK(test::contains(j, "\"domains_problem\""));
    CHECK(test::contains(j, "\"client\": 8"));
    CHECK_FALSE(test::contains(j, efx::api_key));
    CHECK(r.outcome.message.starts_with(
        "client 7 (Example Inc): orders for web.example; not for old.example (EXPIRED), "
        "new.example (INITIAL_VERIFICATION); client 8 (Example GmbH): domains unknown: "));
    CHECK(test::contains(r.outcome.message, "no domain access"));
    CHECK_FALSE(test::contains(r.outcome.message, efx::api_key));
  }
}

TEST_SUITE("entrust ecs cancel") {
  TEST_CASE("cancel of an order waiting for approval declines it: PATCH {operation: DECLINE}") {
    auto d = efx::make_ecs_driver();
    auto* canceller = dynamic_cast<ca::cancels_orders*>(d.get());
    REQUIRE(canceller);
    const std::string token = "order:1796209200:41";
    auto s = canceller->cancel(efx::enroll("job-c1", ""), token, "not needed");
    const test::exchange declined[] = {
        efx::ecs_send("PATCH", "/certificates/41",
                     {R"("operation":"DECLINE")", R"("declineReason":"not needed")"},
                     {429, {{"Retry-After", "4"}}, R"({"status":429,"errors":[]})"}),
        efx::ecs_send("PATCH", "/certificates/41", {R"("operation":"DECLINE")"}, efx::ok("{}")),
    };
    auto r = test::drive(*s, declined, et::ctx);
    REQUIRE(r.outcome.what == ca::outcome::kind::done);
    CHECK(r.outcome.report_json == R"({"declined":"41"})");
    REQUIRE(r.interim.size() == 1);
    CHECK(r.interim[0].retry_after == 4s);

    // Refused: DECLINED already (an earlier cancel's answer lost) is done.
    const std::string refused =
        R"({"status":400,"errors":[{"message":"Certificate 41 is DECLINED, not PENDING"}]})";
    s = canceller->cancel(efx::enroll("job-c1", ""), token, "");
    const test::exchange again[] = {
        efx::ecs_send("PATCH", "/certificates/41", {"cancelled by SCM through cbcs"},
                     {400, {}, refused}),
        efx::ecs_get("/certificates/41",
                    efx::ok(efx::certificate_json({.tracking_id = 41, .status = "DECLINED"}))),
    };
    r = test::drive(*s, again, et::ctx);
    REQUIRE(r.outcome.what == ca::outcome::kind::done);
    CHECK(test::contains(r.outcome.report_json, R"("already":true)"));

    // Issued meanwhile: the refusal, naming the status.
    s = canceller->cancel(efx::enroll("job-c1", ""), token, "x");
    const test::exchange issued[] = {
        efx::ecs_send("PATCH", "/certificates/41", {}, {400, {}, refused}),
        efx::ecs_get("/certificates/41",
                    efx::ok(efx::certificate_json({.tracking_id = 41, .status = "ACTIVE"}))),
    };
    r = test::drive(*s, issued, et::ctx);
    CHECK(r.outcome.what == ca::outcome::kind::failed);
    CHECK(test::contains(r.outcome.message, "the order is ACTIVE at Entrust"));

    // Not allowed to approve: Entrust's refusal, the key masked, no second call.
    s = canceller->cancel(efx::enroll("job-c1", ""), token, "x");
    const test::exchange forbidden[] = {efx::ecs_send(
        "PATCH", "/certificates/41", {},
        {403, {}, R"({"status":403,"errors":[{"message":"not an approver"}]})"})};
    r = test::drive(*s, forbidden, et::ctx);
    CHECK(r.outcome.error == ca::error_class::auth);
    CHECK(test::contains(r.outcome.message, "not an approver"));
    CHECK_FALSE(test::contains(r.outcome.message, efx::api_key));
  }

  TEST_CASE("cancel without a trackingId, or at the CA Gateway, asks nothing") {
    auto d = efx::make_ecs_driver();
    for (const std::string token : {"placing:1796209200000:1796209242000", "order:1796209200:x"}) {
      auto s = dynamic_cast<ca::cancels_orders&>(*d).cancel(efx::enroll("job-c2", ""), token, "");
      auto r = test::drive(*s, {}, et::ctx);
      CHECK(r.outcome.error == ca::error_class::invalid_request);
      CHECK(test::contains(r.outcome.message, "trackingId unknown"));
    }
    auto g = efx::make_gateway_driver();
    auto s = dynamic_cast<ca::cancels_orders&>(*g).cancel(efx::enroll("job-c3", ""),
                                                          "order:1796209200:41", "");
    auto r = test::drive(*s, {}, et::ctx);
    CHECK(r.outcome.error == ca::error_class::invalid_request);
    CHECK(test::contains(r.outcome.message, "CA Gateway"));
  }
}

TEST_SUITE("entrust ecs driver") {
  TEST_CASE("an order without the requester's email and phone fails before any request") {
    auto d = efx::make_ecs_driver({{"requesteremail", ""}});
    auto s = d->start(efx::enroll("job-rq", efx::make_csr("web.example").csr_pem), "");
    auto r = test::drive(*s, {}, et::ctx);
    CHECK(r.outcome.error == ca::error_class::invalid_request);
    CHECK(test::contains(r.outcome.message, "cbcs backend set -name en -requesteremail"));
    CHECK(r.sent.empty());
  }
}
