#pragma once
// SOAP 1.2 envelopes for AD CS's enrollment web services (CES, [MS-WSTEP];
// CEP, [MS-XCEP]): WS-Addressing headers as the [MS-WSTEP] section 4 examples
// print them, an optional WS-Security UsernameToken, and a body built with
// xml_element, so every value is escaped. soap_reader.hpp reads the answers.

#include <optional>
#include <string>
#include <string_view>

#include "protocol/common/xml_writer.hpp"

namespace cbcs::protocol::soap {

// Namespaces (the prefixes are ours; readers go by the URI).
inline constexpr std::string_view ns_envelope = "http://www.w3.org/2003/05/soap-envelope";
inline constexpr std::string_view ns_envelope_11 = "http://schemas.xmlsoap.org/soap/envelope/";
inline constexpr std::string_view ns_addressing = "http://www.w3.org/2005/08/addressing";
inline constexpr std::string_view ns_wsse =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
inline constexpr std::string_view ns_xsi = "http://www.w3.org/2001/XMLSchema-instance";
inline constexpr std::string_view ns_xsd = "http://www.w3.org/2001/XMLSchema";
inline constexpr std::string_view ns_xml = "http://www.w3.org/XML/1998/namespace";

// SOAP 1.2 Part 2 section 7 and RFC 3902: the HTTP Content-Type of a SOAP 1.2
// message; the envelope is UTF-8.
inline constexpr std::string_view content_type = "application/soap+xml; charset=utf-8";

// WS-Addressing 1.0 Core section 2.1: the anonymous endpoint, "reply on the
// HTTP response".
inline constexpr std::string_view anonymous_address =
    "http://www.w3.org/2005/08/addressing/anonymous";
// WSS UsernameToken Profile 1.0 section 3.1: the password in clear text, as
// CES's and CEP's UsernamePassword endpoints expect it (over TLS only).
inline constexpr std::string_view password_text_type =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    "#PasswordText";

struct username_token {
  std::string username;  // DOMAIN\user
  std::string password;  // written into the envelope only; see write_envelope_for_log
};

struct envelope {
  std::string action;      // wsa:Action, mustUnderstand
  std::string message_id;  // wsa:MessageID, "urn:uuid:..." (new_message_id)
  std::string to;          // wsa:To, mustUnderstand; empty: none (the section 4 examples have none)
  std::optional<username_token> security;  // wsse:Security header, mustUnderstand
};

// <s:Envelope> with the headers in the examples' order (Action, MessageID,
// ReplyTo anonymous, To, Security) and `body` as the only child of <s:Body>,
// which declares xsi and xsd as the examples do. Throws std::invalid_argument
// when a header value is not XML text (the message never holds the value).
std::string write_envelope(const envelope& headers, const xml_element& body);

// The same envelope with the password replaced by "[redacted]": what a trace
// or a log may show.
std::string write_envelope_for_log(const envelope& headers, const xml_element& body);

// "urn:uuid:" and a random (version 4, RFC 9562 section 5.4) UUID in lower case.
std::string new_message_id();

}  // namespace cbcs::protocol::soap
