#include "protocol/common/soap.hpp"

#include <fmt/format.h>

#include "crypto/random.hpp"

namespace cbcs::protocol::soap {
namespace {

std::string write(const envelope& headers, const xml_element& body, bool redact_password) {
  // Prefixes and declaration order as in [MS-WSTEP] section 4's examples.
  xml_element env("s:Envelope");
  env.attribute("xmlns:a", ns_addressing).attribute("xmlns:s", ns_envelope);
  auto& header = env.child("s:Header");
  header.child("a:Action").attribute("s:mustUnderstand", "1").text(headers.action);
  header.child("a:MessageID").text(headers.message_id);
  header.child("a:ReplyTo").child("a:Address").text(anonymous_address);
  if (!headers.to.empty()) header.child("a:To").attribute("s:mustUnderstand", "1").text(headers.to);
  if (headers.security) {
    // WSS SOAP Message Security 1.0 section 5 and UsernameToken Profile 1.0
    // section 3.1: Type is an unqualified attribute of wsse:Password.
    auto& security = header.child("wsse:Security");
    security.attribute("s:mustUnderstand", "1").attribute("xmlns:wsse", ns_wsse);
    auto& token = security.child("wsse:UsernameToken");
    token.child("wsse:Username").text(headers.security->username);
    token.child("wsse:Password")
        .attribute("Type", password_text_type)
        .text(redact_password ? std::string_view("[redacted]") : headers.security->password);
  }
  env.child("s:Body").attribute("xmlns:xsi", ns_xsi).attribute("xmlns:xsd", ns_xsd).add(body);
  return env.str();
}

}  // namespace

std::string write_envelope(const envelope& headers, const xml_element& body) {
  return write(headers, body, false);
}

std::string write_envelope_for_log(const envelope& headers, const xml_element& body) {
  return write(headers, body, true);
}

std::string new_message_id() {
  auto b = crypto::random_bytes(16);
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);  // variant 10
  return fmt::format(
      "urn:uuid:{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-"
      "{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
      b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
      b[15]);
}

}  // namespace cbcs::protocol::soap
