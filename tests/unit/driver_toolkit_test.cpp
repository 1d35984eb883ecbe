// The shared parts of HTTP drivers (protocol/ca/common, protocol/common/text).
#include <doctest/doctest.h>

#include "crypto/certificate_authority.hpp"
#include "protocol/ca/common/api_key_errors.hpp"
#include "protocol/ca/common/client_certificate.hpp"
#include "protocol/ca/common/http_session.hpp"
#include "protocol/ca/common/option_checks.hpp"
#include "protocol/ca/common/ordering_session.hpp"
#include "protocol/ca/common/http_status.hpp"
#include "protocol/ca/common/retry_after.hpp"
#include "protocol/ca/common/revocation_reason.hpp"
#include "protocol/ca/common/settings_problems.hpp"
#include "protocol/ca/common/vendor_error.hpp"
#include "protocol/ca/entrust/revocation_reasons.hpp"
#include "protocol/ca/gcpcas/revocation_reasons.hpp"
#include "protocol/ca/msca/revocation_reasons.hpp"
#include "protocol/common/json_fields.hpp"
#include "protocol/common/text.hpp"
#include "protocol/common/xml.hpp"
#include "test_pki.hpp"

using namespace cbcs;
namespace ca = protocol::ca;
using namespace std::chrono_literals;
using sys = std::chrono::system_clock;

TEST_SUITE("driver toolkit") {
  TEST_CASE("Retry-After: delta-seconds and all three HTTP-date forms") {
    // Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110's example.
    auto at = sys::time_point(std::chrono::seconds(784111777));
    CHECK(ca::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == at);
    CHECK(ca::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == at);
    CHECK(ca::parse_http_date("Sun Nov  6 08:49:37 1994") == at);
    CHECK(ca::parse_http_date("Sun Nov 16 08:49:37 1994") == at + std::chrono::days(10));
    for (std::string_view bad : {"", "Sun, 06 Nov 1994 08:49:37", "Sun, 31 Feb 1994 08:49:37 GMT",
                                 "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT",
                                 "Xyz, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMTx",
                                 // Outside what the clock holds, or any wait worth having.
                                 "Sun, 06 Nov 2300 08:49:37 GMT", "Sun, 06 Nov 1600 08:49:37 GMT",
                                 "Sun Nov  6 08:49:37 9999"})
      CHECK_MESSAGE(!ca::parse_http_date(bad), bad);

    auto now = at - 90s;
    CHECK(ca::parse_retry_after("120", now) == 120s);
    CHECK(ca::parse_retry_after(" 7 ", now) == 7s);
    CHECK(ca::parse_retry_after("0", now) == 0ms);
    CHECK(ca::parse_retry_after("99999999999999999999999", now) == ca::max_retry_after);
    CHECK(ca::parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now) == 90s);
    // A date passed is no wait; one far ahead is an hour at most.
    CHECK(ca::parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", at + 1h) == 0ms);
    CHECK(ca::parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", at - 48h) == ca::max_retry_after);
    for (std::string_view bad : {"", "-5", "+5", "5s", "1.5", "soon"})
      CHECK_MESSAGE(!ca::parse_retry_after(bad, now), bad);
  }

  TEST_CASE("HTTP statuses mean one error class, with a type's own exceptions") {
    CHECK(ca::classify_status(401) == ca::error_class::auth);
    CHECK(ca::classify_status(403) == ca::error_class::auth);
    CHECK(ca::classify_status(429) == ca::error_class::throttled);
    CHECK(ca::classify_status(408) == ca::error_class::unavailable);
    CHECK(ca::classify_status(503) == ca::error_class::unavailable);
    CHECK(ca::classify_status(400) == ca::error_class::invalid_request);
    CHECK(ca::classify_status(404) == ca::error_class::invalid_request);
    CHECK(ca::classify_status(302) == ca::error_class::internal);
    CHECK(ca::classify_status(600) == ca::error_class::internal);
    const ca::status_rule gcp[] = {{409, ca::error_class::rejected},
                                   {404, ca::error_class::rejected}};
    CHECK(ca::classify_status(409, gcp) == ca::error_class::rejected);
    CHECK(ca::classify_status(401, gcp) == ca::error_class::auth);

    ca::http_response busy{503, {{"Retry-After", "30"}}, ""};
    auto o = ca::http_failure(busy, "GetCertificate: busy");
    CHECK(o.error == ca::error_class::unavailable);
    CHECK(o.retryable);
    CHECK(o.retry_after == 30s);
    CHECK(o.message == "GetCertificate: busy (HTTP 503)");
    // Retry-After on a final failure means nothing.
    ca::http_response denied{403, {{"Retry-After", "30"}}, ""};
    auto d = ca::http_failure(denied, "no", "AccessDenied");
    CHECK(d.error == ca::error_class::auth);
    CHECK_FALSE(d.retryable);
    CHECK(d.retry_after == 0ms);
    CHECK(d.backend_code == "AccessDenied");
  }

  TEST_CASE("one line, redaction and masking") {
    CHECK(protocol::one_line("a\nb\tc\x7f"
                             "d\xC2\x85"
                             "e\xE2\x80\xA8"
                             "f") == "a b c d e f");
    CHECK(protocol::one_line("bad \xFF byte") == "bad \xEF\xBF\xBD byte");
    // The cut and its mark stay within the limit, never inside a character,
    // and a second pass changes nothing.
    auto cut = protocol::one_line(std::string(600, 'x'));
    CHECK(cut == std::string(509, 'x') + "...");
    CHECK(protocol::one_line(cut) == cut);
    CHECK(protocol::one_line("\xC3\xA9\xC3\xA9", 5) == "\xC3\xA9\xC3\xA9");
    CHECK(protocol::one_line("\xC3\xA9\xC3\xA9\xC3\xA9", 5) == "\xC3\xA9...");
    auto near = std::string(508, 'x') + "\xE2\x82\xAC\xE2\x82\xAC";  // two 3-byte characters
    CHECK(protocol::one_line(protocol::one_line(near)) == protocol::one_line(near));
    std::string m = "key sk-12345 and sk-12345 again";
    protocol::redact(m, "sk-12345");
    CHECK(m == "key [redacted] and [redacted] again");
    protocol::redact(m, "abc");  // too short to redact without wrecking the text
    CHECK(m == "key [redacted] and [redacted] again");
    CHECK(protocol::masked("0123456789ABCDEFx7Qa") == "...x7Qa");
    CHECK(protocol::masked("short-key") == "[hidden]");
  }

  TEST_CASE("the shared JSON field reader: strict readers name the field, never the value") {
    simdjson::dom::parser parser;
    auto doc = parser.parse(std::string_view(R"({"a":"x","n":5,"big":9007199254740992,"o":{},)"
                                             R"("nul":null,"s":"secret-value-123"})"));
    protocol::json_fields f(doc.value(), "GetCertificate answer");
    CHECK(f.str("a") == "x");
    CHECK(f.count("n") == 5);
    CHECK(f.opt_str("nul").empty());
    CHECK_FALSE(f.has("missing"));
    CHECK(f.maybe_str("n") == std::nullopt);
    CHECK(f.maybe_object("o").has_value());
    CHECK(f.maybe_number("n") == 5.0);
    auto message = [&](auto read) {
      try {
        read();
      } catch (const protocol::json_field_error& e) {
        return std::string(e.what());
      }
      return std::string("no error");
    };
    CHECK(message([&] { f.str("missing"); }) ==
          "GetCertificate answer: field \"missing\" is missing");
    CHECK(message([&] { f.integer("s"); }) ==
          "GetCertificate answer: field \"s\" must be an integer");
    CHECK(message([&] { f.count("big"); }) == "GetCertificate answer: field \"big\" is too large");
    // Not an object: every field absent.
    auto arr = parser.parse(std::string_view("[1]"));
    protocol::json_fields none(arr.value(), "answer");
    CHECK_FALSE(none.has("a"));
    CHECK(none.maybe_str("a") == std::nullopt);
  }

  TEST_CASE("XML is read by a parser: malformed input and entities are not searched") {
    using protocol::xml_first_text;
    auto aws =
        "<?xml version=\"1.0\"?><ErrorResponse><Error><Type>Sender</Type>"
        "<Code>SignatureDoesNotMatch</Code><Message>bad signature</Message></Error>"
        "</ErrorResponse>";
    CHECK(xml_first_text(aws, "Code") == "SignatureDoesNotMatch");
    CHECK(xml_first_text(aws, "Message") == "bad signature");
    CHECK_FALSE(xml_first_text(aws, "Missing"));
    // A namespace prefix does not hide an element (SOAP).
    CHECK(xml_first_text("<s:Envelope xmlns:s=\"x\"><s:Code>7</s:Code></s:Envelope>", "Code") ==
          "7");
    // Not well-formed: nothing, although the text holds "<Code>".
    CHECK_FALSE(xml_first_text("<Error><Code>X</Code>", "Code"));
    CHECK_FALSE(xml_first_text("junk <Code>X</Code> junk", "Code"));
    // A DTD's entities are never expanded (no billion laughs, no external files).
    auto bomb =
        "<?xml version=\"1.0\"?><!DOCTYPE e [<!ENTITY a \"aaaaaaaaaa\">"
        "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]><e><Code>&b;</Code></e>";
    auto read = xml_first_text(bomb, "Code");
    CHECK((!read || read->size() < 16));
  }

  TEST_CASE("revocation reasons by RFC 5280 code, one table per CA") {
    auto map = [](std::string_view name, auto& table, std::string_view ca) {
      return ca::map_revocation_reason(name, table, ca);
    };
    const auto& gcp = ca::gcpcas::revocation_reasons;
    CHECK(map("", gcp, "GCP").word == "REVOCATION_REASON_UNSPECIFIED");
    CHECK(map("keyCompromise", gcp, "GCP").word == "KEY_COMPROMISE");
    CHECK(map("certificateHold", gcp, "GCP").word == "CERTIFICATE_HOLD");
    // After 6 GCP's numbers differ: these go by name.
    CHECK(map("privilegeWithdrawn", gcp, "GCP").word == "PRIVILEGE_WITHDRAWN");
    CHECK(map("aACompromise", gcp, "GCP").word == "ATTRIBUTE_AUTHORITY_COMPROMISE");
    auto refused = map("removeFromCRL", gcp, "Google CAS");
    CHECK(refused.word.empty());
    CHECK(refused.error.starts_with(
        "Google CAS does not accept the revocation reason removeFromCRL"));

    const auto& entrust = ca::entrust::revocation_reasons;
    CHECK(map("keycompromise", entrust, "Entrust").word == "keyCompromise");
    CHECK(map("unspecified", entrust, "Entrust").word == "unspecified");
    auto superseded = map("superseded", entrust, "Entrust");
    CHECK(superseded.error ==
          "Entrust does not accept the revocation reason superseded; it accepts unspecified, "
          "keyCompromise");

    const auto& adcs = ca::msca::revocation_reasons;
    CHECK(map("certificateHold", adcs, "AD CS").word == "6");
    CHECK(map("removeFromCRL", adcs, "AD CS").word == "8");
    CHECK_FALSE(map("aACompromise", adcs, "AD CS").error.empty());

    auto unknown = map("stolen\nbadly", adcs, "AD CS");
    CHECK(unknown.error.find("unknown revocation reason 'stolen badly'") == 0);
  }
}

namespace {

// A session that asks twice and is answered pending, then 500, then issued.
struct scripted final : ca::http_session {
  int begins = 0, answers = 0, agains = 0;
  std::string resume_token() const override { return {}; }
  ca::step begin() override {
    ++begins;
    return ca::http_request{.url = "https://ca.test/order"};
  }
  ca::step on_answer(const ca::http_response& r) override {
    ++answers;
    if (r.status == 202) return ca::outcome::pending(1s, "queued");
    if (r.status >= 500) return ca::http_failure(r, "busy");
    if (r.status == 400) return ca::http_failure(r, "bad");
    return ca::outcome::issued("cert", "", "01");
  }
};

}  // namespace

TEST_SUITE("driver toolkit") {
  TEST_CASE(
      "http_session: the last request again after pending or a retryable failure, "
      "closed after a final outcome") {
    scripted s;
    ca::step_context ctx{sys::now()};
    auto first = s.next(nullptr, ctx);
    REQUIRE(std::holds_alternative<ca::http_request>(first));
    ca::http_response queued{202, {}, ""};
    CHECK(std::get<ca::outcome>(s.next(&queued, ctx)).what == ca::outcome::kind::pending);
    // The poll: the same request, without asking the driver.
    auto poll = s.next(nullptr, ctx);
    REQUIRE(std::holds_alternative<ca::http_request>(poll));
    CHECK(std::get<ca::http_request>(poll).url == "https://ca.test/order");
    ca::http_response busy{500, {}, ""};
    CHECK(std::get<ca::outcome>(s.next(&busy, ctx)).retryable);
    // A network error after that: nullptr again, the same request.
    CHECK(std::holds_alternative<ca::http_request>(s.next(nullptr, ctx)));
    ca::http_response ok{200, {}, ""};
    CHECK(std::get<ca::outcome>(s.next(&ok, ctx)).what == ca::outcome::kind::issued);
    CHECK(s.begins == 1);
    CHECK(s.answers == 3);
    auto after = std::get<ca::outcome>(s.next(nullptr, ctx));
    CHECK(after.error == ca::error_class::internal);
    CHECK(s.answers == 3);
  }

  TEST_CASE("http_session: a final failure closes it") {
    scripted s;
    ca::step_context ctx{sys::now()};
    s.next(nullptr, ctx);
    ca::http_response bad{400, {}, ""};
    CHECK_FALSE(std::get<ca::outcome>(s.next(&bad, ctx)).retryable);
    CHECK(std::get<ca::outcome>(s.next(nullptr, ctx)).error == ca::error_class::internal);
    CHECK(s.answers == 1);
  }
}

TEST_SUITE("driver toolkit") {
  TEST_CASE("url_encode keeps RFC 3986's unreserved characters and encodes every other byte") {
    CHECK(protocol::url_encode("AZaz09-._~") == "AZaz09-._~");
    CHECK(protocol::url_encode("a b/c?d=e&f+g") == "a%20b%2Fc%3Fd%3De%26f%2Bg");
    CHECK(protocol::url_encode("\xC3\xA9\x7F") == "%C3%A9%7F");  // UTF-8 by byte
    CHECK(protocol::url_encode(std::string_view("\0", 1)) == "%00");
    CHECK(protocol::url_encode("") == "");
  }
}

TEST_SUITE("driver toolkit") {
  TEST_CASE("settings problems: every bad setting named in one line, none when all are fine") {
    ca::driver_config config{.name = "EU",
                             .settings = {{"region", "mars"},
                                          {"autoapprove", "yes"},
                                          {"poll", "soon"},
                                          {"renewal", "renew"}}};
    ca::settings_problems problems(config);
    CHECK(problems.choice("region", {"us", "eu"}) == "us");
    CHECK(problems.choice("renewal", {"reissue", "renew"}) == "renew");
    CHECK(problems.choice("revoke", {"certificate", "order", "none"}) == "certificate");
    bool approve = false;
    problems.flag("autoapprove", approve);
    std::chrono::seconds poll{60};
    problems.duration("poll", poll);
    CHECK(poll == 60s);
    CHECK(problems.required("project").empty());
    problems.required("location");
    problems.required_secret("apikey", "the API key");
    CHECK(problems.message() ==
          "backend 'EU': is missing the setting project, location; region must be us or eu; "
          "autoapprove must be true or false; poll must be a duration such as 1m or 30s; the "
          "API key (apikey) is not in the vault");

    ca::driver_config fine{.name = "ok", .settings = {{"poll", "5m"}, {"skip", "true"}}};
    ca::settings_problems none(fine);
    bool skip = false;
    none.flag("skip", skip);
    none.duration("poll", poll);
    CHECK(skip);
    CHECK(poll == 300s);
    CHECK(none.message().empty());
  }
}

TEST_SUITE("driver toolkit") {
  TEST_CASE("one reader for every vendor's error code and message") {
    ca::vendor_error_shape digicert{.at = {"errors", "error"}, .code = {"code"}, .message = {"message"}};
    ca::vendor_error_shape google{.at = {"error"}, .code = {"status", "code"}, .message = {"message"}};
    ca::vendor_error_shape aws{.at = {""}, .code = {"__type", "code"}, .message = {"message", "Message"}};
    auto e = ca::read_vendor_error(
        R"({"errors":[{"code":"invalid_dcv","message":"bad\nline"},{"code":"x"}]})", digicert);
    CHECK(e.code == "invalid_dcv");
    CHECK(e.message == "bad line");
    e = ca::read_vendor_error(R"({"error":{"code":"a b","message":"m"}})", digicert);
    CHECK(e.code.empty());  // not an identifier: never echoed
    CHECK(e.message == "m");
    CHECK(ca::read_vendor_error(R"({"errors":"plain text"})", digicert).message == "plain text");
    e = ca::read_vendor_error(
        R"({"error":{"code":403,"message":"denied","status":"PERMISSION_DENIED"}})", google);
    CHECK(e.code == "PERMISSION_DENIED");
    CHECK(ca::read_vendor_error(R"({"error":{"code":403}})", google).code == "403");
    e = ca::read_vendor_error(R"({"__type":"com.amazonaws#ThrottlingException","Message":"slow"})",
                              aws);
    CHECK(e.code == "com.amazonaws#ThrottlingException");
    CHECK(e.message == "slow");
    for (auto body : {"", "<html>", "[1,2]", "null", R"({"errors":[]})", R"({"error":5})"}) {
      CHECK(ca::read_vendor_error(body, digicert).empty());
      CHECK(ca::read_vendor_error(body, google).empty());
    }
    CHECK(ca::read_vendor_error("[]", aws).empty());
  }
}

TEST_SUITE("driver toolkit") {
  TEST_CASE("check_key_pair: a client certificate's key, or an error naming both options") {
    auto now = sys::now();
    auto a = crypto::create_root_ca("ecdsa-p256", "client A", now, std::chrono::hours(24));
    auto b = crypto::create_root_ca("ecdsa-p256", "client B", now, std::chrono::hours(24));
    ca::option_values same{{"cert", a.cert_pem}, {"key", a.key_pem}};
    CHECK(ca::check_key_pair(same, "cert", "key").empty());
    ca::option_values crossed{{"cert", a.cert_pem}, {"key", b.key_pem}};
    CHECK(ca::check_key_pair(crossed, "cert", "key") ==
          "option -key: the private key does not belong to the certificate given with -cert");
    CHECK(ca::check_key_pair({{"agentcert", a.cert_pem}, {"agentkey", b.key_pem}}, "agentcert",
                             "agentkey")
              .starts_with("option -agentkey:"));
    CHECK(ca::check_key_pair({{"cert", a.cert_pem}}, "cert", "key").empty());  // -key absent
    auto message = ca::check_key_pair(crossed, "cert", "key");
    CHECK(message.find("PRIVATE") == std::string::npos);  // never the key
  }
}

TEST_SUITE("driver toolkit") {
  TEST_CASE("a client certificate's expiry: reported, and warned 30 days ahead with the fix") {
    auto now = sys::now();
    auto soon = crypto::create_root_ca("ecdsa-p256", "client soon", now - 24h, 24h * 11);
    auto later = crypto::create_root_ca("ecdsa-p256", "client later", now - 24h, 24h * 101);
    auto s = ca::read_client_certificate(soon.cert_pem, "EntrustCA", "cert", "key", now);
    REQUIRE(s);
    CHECK(s->days_left == 9);
    CHECK(test::contains(s->warning, "cbcs backend set -name EntrustCA -cert FILE -key FILE"));
    CHECK(test::contains(s->warning, "client soon"));
    auto l = ca::read_client_certificate(later.cert_pem, "EntrustCA", "cert", "key", now);
    REQUIRE(l);
    CHECK(l->days_left == 99);
    CHECK(l->warning.empty());
    auto gone = ca::read_client_certificate(soon.cert_pem, "E", "cert", "key", now + 24h * 20);
    REQUIRE(gone);
    CHECK(test::contains(gone->warning, "expired on"));
    CHECK_FALSE(ca::read_client_certificate("not a certificate", "E", "cert", "key", now));
    protocol::json_writer w(false);
    w.begin_object();
    ca::write_client_certificate(w, *s);
    w.end_object();
    CHECK(test::contains(w.str(), R"("client_certificate":{"subject":)"));
    CHECK(test::contains(w.str(), R"("warning":)"));
  }
}

TEST_SUITE("driver toolkit") {
  TEST_CASE("API key services: one wording, the key redacted and masked, 429 and 5xx retried") {
    const std::string key = "KEY-0123456789abcdefWXYZ";
    const ca::api_key_service svc{.name = "Vendor",
                                  .who = "API key " + protocol::masked(key),
                                  .api_key = key,
                                  .rate_code = "slow_down"};
    const auto now = sys::time_point(std::chrono::seconds(1'800'000'000));
    auto o = ca::api_key_error_outcome({401, {}, ""}, "placing", "", "bad key " + key, svc, now);
    CHECK(o.error == ca::error_class::auth);
    CHECK(o.message.starts_with("placing failed: Vendor refused the API key "));
    CHECK_FALSE(test::contains(o.message, key));
    CHECK(test::contains(o.message, "bad key [redacted]"));
    o = ca::api_key_error_outcome({403, {}, ""}, "placing", "", "", svc, now);
    CHECK(test::contains(o.message, "may not do this"));
    o = ca::api_key_error_outcome({429, {{"Retry-After", "7"}}, ""}, "x", "", "", svc, now);
    CHECK(o.error == ca::error_class::throttled);
    CHECK(o.backend_code == "slow_down");
    CHECK(o.retry_after == 7s);
    o = ca::api_key_error_outcome({503, {}, ""}, "x", "busy_code", "down", svc, now);
    CHECK(o.retryable);
    CHECK(o.backend_code == "busy_code");
    CHECK(test::contains(o.message, "Vendor is unavailable: down"));
    o = ca::api_key_error_outcome({400, {}, ""}, "x", "", "", svc, now);
    CHECK(o.error == ca::error_class::invalid_request);
    CHECK(ca::said_detail("", key).empty());
  }
}

TEST_SUITE("driver toolkit") {
  TEST_CASE("tagged orders: the first issued kept, else the oldest; the tag on another CSR stops") {
    const std::string csr = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
    const std::string other = "-----BEGIN CERTIFICATE REQUEST-----\nBBBB\n-----END CERTIFICATE REQUEST-----\n";
    // Newest first (DigiCert's list): 3 pending, 2 issued, 1 pending.
    ca::tagged_orders newest(true);
    CHECK(newest.result().what == ca::search_result::kind::none);
    for (auto [id, issued] : {std::pair{"3", false}, {"2", true}, {"1", false}})
      CHECK_FALSE(newest.add("cbcs job j-1", csr, id, issued, "j-1", csr, "order"));
    CHECK_FALSE(newest.add("cbcs job j-10", csr, "9", true, "j-1", csr, "order"));  // not ours
    auto r = newest.result();
    CHECK(r.what == ca::search_result::kind::found);
    CHECK(r.order_id == "2");
    CHECK(r.others == std::vector<std::string>{"1", "3"});
    // Oldest first (Entrust), none issued: the oldest.
    ca::tagged_orders oldest(false);
    CHECK_FALSE(oldest.add("cbcs job j-2", "", "5", false, "j-2", csr, "c"));
    CHECK_FALSE(oldest.add("cbcs job j-2", "", "6", false, "j-2", csr, "c"));
    CHECK(oldest.result().order_id == "5");
    auto stop = oldest.add("cbcs job j-2", other, "7", true, "j-2", csr, "certificate 7 at X");
    REQUIRE(stop);
    CHECK(stop->what == ca::search_result::kind::failed);
    CHECK(test::contains(stop->failure.message,
                         "certificate 7 at X carries this job's tag (cbcs job j-2) but another CSR"));
  }
}
