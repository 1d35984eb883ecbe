#include "crypto/utc_time.hpp"

#include <doctest/doctest.h>

#include <openssl/asn1.h>

#include <memory>

using namespace cbcs;
using namespace std::chrono_literals;

TEST_SUITE("utc_time") {
  const crypto::utc_time noon = std::chrono::sys_days{std::chrono::year{2026} / 12 / 2} + 12h;

  TEST_CASE("parses the forms CA APIs write, in UTC") {
    CHECK(crypto::parse_utc_time("2026-12-02T12:00:00") == noon);
    CHECK(crypto::parse_utc_time("2026-12-02T12:00:00Z") == noon);
    CHECK(crypto::parse_utc_time("2026-12-02 13:00:00+01:00") == noon);
    CHECK(crypto::parse_utc_time("2026-12-02T07:30:00-04:30") == noon);
    CHECK(crypto::parse_utc_time("2026-12-02T12:00:00.123456Z") == noon);
    CHECK(crypto::parse_utc_time("2024-02-29T00:00:00Z").has_value());
    CHECK(crypto::parse_utc_time("2026-12-02T11:59:60Z") == noon - 1s);  // a leap second
  }

  TEST_CASE("refuses what is not a time, or beyond what the clock holds") {
    for (std::string_view bad :
         {"", "yesterday", "2026-12-02", "2026-13-02T12:00:00", "2025-02-29T00:00:00Z",
          "2026-12-02T24:00:00", "2026-12-02T12:60:00", "2026-12-02T12:00:00.Z",
          "2026-12-02T12:00:00ZZ", "2026-12-02T12:00:00+1:00", "2026-12-02T12:00:00+24:00",
          "+026-12-02T12:00:00", "1969-12-31T23:59:59Z", "4202-05-17T07:00:00+00:00",
          "9999-12-31T23:59:59Z"})
      CHECK_MESSAGE(!crypto::parse_utc_time(bad), bad);
  }

  TEST_CASE("formats whole seconds and reads its own text back") {
    CHECK(crypto::format_utc_time(noon + 999ms) == "2026-12-02T12:00:00");
    CHECK(crypto::format_utc_time(crypto::utc_time{}) == "1970-01-01T00:00:00");
    auto t = noon + 86399s;
    CHECK(crypto::parse_utc_time(crypto::format_utc_time(t)) == t);
  }

  TEST_CASE("certificate times, held to what the clock holds") {
    auto asn1 = [](const char* text) {
      std::unique_ptr<ASN1_TIME, decltype(&ASN1_TIME_free)> t{ASN1_TIME_new(), ASN1_TIME_free};
      REQUIRE(ASN1_TIME_set_string(t.get(), text) == 1);
      return t;
    };
    CHECK(crypto::to_utc_time(asn1("20261202120000Z").get()) == noon);
    CHECK(crypto::to_utc_time(asn1("261202120000Z").get()) == noon);
    // RFC 5280's "no well-defined expiration" must not overflow the clock.
    CHECK(crypto::to_utc_time(asn1("99991231235959Z").get()) ==
          std::chrono::sys_days{std::chrono::year{2200} / 1 / 1});
    CHECK(crypto::to_utc_time(asn1("19500101000000Z").get()) == crypto::utc_time{});
    CHECK_THROWS(crypto::to_utc_time(nullptr));
  }
}
