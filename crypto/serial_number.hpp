#pragma once
// A certificate's serial number, one canonical value: the X.509 INTEGER
// (RFC 5280 4.1.2.2, a positive integer of at most 20 octets; up to 64 are
// taken, for non-conforming CAs) as its big-endian magnitude without leading
// zero bytes. Parsed from any form an operator or a CA writes, and written
// in the form each CA documents, so that "0ADCBE3B", "adcbe3b",
// "0a:dc:be:3b" and "00 0A DC BE 3B" are one serial.

#include <optional>
#include <string>
#include <string_view>

#include "crypto/bytes.hpp"

namespace cbcs::crypto {

class serial_number {
 public:
  // Hex digits in either case, with or without leading zeros, optionally
  // "0x"-prefixed, with ':', ' ' or '-' between digit pairs (openssl's
  // "0A:DC", DigiCert's and Windows' spaced forms). nullopt and `error` (one
  // line) for anything else: no digits, a non-hex character, a zero or a
  // serial longer than 64 octets.
  static std::optional<serial_number> parse(std::string_view text, std::string* error = nullptr);
  // The same; throws std::invalid_argument with the one-line reason.
  static serial_number from_text(std::string_view text);
  // From the INTEGER's content octets (two's complement, as in DER) or a
  // magnitude; leading zero bytes dropped. nullopt for zero or empty.
  static std::optional<serial_number> from_bytes(byte_view der_integer);

  // The magnitude, big-endian, no leading zero byte.
  const bytes& value() const { return value_; }

  // Two digits per byte, lower case: "0adcbe3b" (cbcs's own form, openssl's
  // x509 -serial in lower case; jobs, outcomes and the local CA's ledger).
  std::string hex() const;
  // The same in upper case: "0ADCBE3B" (DigiCert CertCentral, openssl).
  std::string hex_upper() const;
  // Lower case without a leading zero digit: "adcbe3b" (Go's %x of a big
  // integer, as Google CA Service writes hexSerialNumber).
  std::string hex_minimal() const;
  // Upper case in colon-separated pairs: "0A:DC:BE:3B" (AWS Private CA's
  // CertificateSerial, as `openssl x509 -text` shows it).
  std::string colon_upper() const;

  bool operator==(const serial_number&) const = default;

 private:
  explicit serial_number(bytes value) : value_(std::move(value)) {}
  bytes value_;
};

}  // namespace cbcs::crypto
