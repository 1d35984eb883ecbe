// One canonical serial number (crypto/serial_number.hpp): every form an
// operator or a CA writes reads as the same integer, and each CA's form is
// written from it.

#include <doctest/doctest.h>

#include <stdexcept>

#include "crypto/serial_number.hpp"

using cbcs::crypto::serial_number;

TEST_SUITE("serial number") {
  TEST_CASE("every common form of one serial is the same integer") {
    auto s = serial_number::from_text("0adcbe3b");
    for (auto form : {"0ADCBE3B", "adcbe3b", "ADCBE3B", "0a:dc:be:3b", "0A:DC:BE:3B",
                      "00:0a:dc:be:3b", "00 0A DC BE 3B", "000adcbe3b", "0x0adcbe3b", "0X0ADCBE3B",
                      "  0adcbe3b\n", "0a-dc-be-3b"})
      CHECK_MESSAGE(serial_number::from_text(form) == s, form);
    CHECK(s.value() == cbcs::crypto::bytes{0x0a, 0xdc, 0xbe, 0x3b});
    CHECK_FALSE(serial_number::from_text("0adcbe3c") == s);
  }

  TEST_CASE("each CA's form, the leading zero nibble kept or dropped as documented") {
    auto s = serial_number::from_text("0ADCBE3B");
    CHECK(s.hex() == "0adcbe3b");             // cbcs, the local CA
    CHECK(s.hex_upper() == "0ADCBE3B");       // DigiCert CertCentral
    CHECK(s.hex_minimal() == "adcbe3b");      // Google CA Service hexSerialNumber
    CHECK(s.colon_upper() == "0A:DC:BE:3B");  // AWS Private CA
    auto high = serial_number::from_text("80:01");
    CHECK(high.hex() == "8001");
    CHECK(high.hex_minimal() == "8001");
    CHECK(serial_number::from_text("1").hex() == "01");
    CHECK(serial_number::from_text("1").hex_minimal() == "1");
    CHECK(serial_number::from_text("1").colon_upper() == "01");
  }

  TEST_CASE("round trips through every written form") {
    for (auto text : {"01", "0f", "7fffffffffffffffffffffffffffffffffffffff", "00ff00",
                      "10:00:00:00", "abcdef0123456789"}) {
      auto s = serial_number::from_text(text);
      for (const auto& form : {s.hex(), s.hex_upper(), s.hex_minimal(), s.colon_upper()})
        CHECK_MESSAGE(serial_number::from_text(form) == s, form);
    }
  }

  TEST_CASE("from DER content octets: a sign byte or leading zeros dropped") {
    const std::uint8_t der[] = {0x00, 0x80, 0x01};
    auto s = serial_number::from_bytes(der);
    REQUIRE(s);
    CHECK(s->hex() == "8001");
    const std::uint8_t zero[] = {0x00};
    CHECK_FALSE(serial_number::from_bytes(zero));
    CHECK_FALSE(serial_number::from_bytes({}));
  }

  TEST_CASE("garbage is refused with a clear one-line reason") {
    std::string error;
    CHECK_FALSE(serial_number::parse("0adcbeXY", &error));
    CHECK(error == "a serial number is hexadecimal; 'X' is not a hex digit");
    CHECK_FALSE(serial_number::parse("", &error));
    CHECK(error == "a serial number needs at least one hex digit");
    CHECK_FALSE(serial_number::parse("00:00", &error));
    CHECK(error == "a serial number is a positive integer, not zero");
    CHECK_FALSE(serial_number::parse(std::string(129, '1'), &error));
    CHECK(error.find("64 octets") != std::string::npos);
    for (auto bad : {"0a::dc", "0a:", ":0a", "-1", "0a dc\tbe", "g", "0x", "0a\ndc"}) {
      CHECK_MESSAGE(!serial_number::parse(bad, &error), bad);
      CHECK(!error.empty());
      CHECK(error.find('\n') == std::string::npos);
    }
    CHECK_THROWS_AS(serial_number::from_text("nope"), std::invalid_argument);
  }
}
