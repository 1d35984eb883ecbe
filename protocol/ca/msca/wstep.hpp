#pragma once
// [MS-WSTEP] (WS-Trust X.509v3 Token Enrollment Extensions), what AD CS's
// Certificate Enrollment Web Service (CES) speaks: the RequestSecurityToken
// bodies a client sends (issue, and QueryTokenStatus for a pending request),
// the RequestSecurityTokenResponse it answers with, and the
// CertificateEnrollmentWSDetail of its faults. The shapes follow the
// examples printed in [MS-WSTEP] section 4.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/bytes.hpp"
#include "protocol/common/soap_reader.hpp"
#include "protocol/common/xml_writer.hpp"

namespace cbcs::protocol::ca::msca::wstep {

inline constexpr std::string_view ns_wst = "http://docs.oasis-open.org/ws-sx/ws-trust/200512";
inline constexpr std::string_view ns_enrollment =
    "http://schemas.microsoft.com/windows/pki/2009/01/enrollment";
// The context items' namespace ([MS-WSTEP] 3.1.4.1.3.3, from WS-Federation).
inline constexpr std::string_view ns_authorization =
    "http://schemas.xmlsoap.org/ws/2006/12/authorization";

// SOAP actions ([MS-WSTEP] 3.1.4.2; the request's is in every section 4 example).
inline constexpr std::string_view action_request =
    "http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RST/wstep";
inline constexpr std::string_view action_response =
    "http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RSTRC/wstep";

// [MS-WSTEP] 3.1.4.1.2.8: the only token type.
inline constexpr std::string_view token_type_x509v3 =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3";
// [MS-WSTEP] 3.1.4.2.1: the two request types a CES processes.
inline constexpr std::string_view request_type_issue =
    "http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue";
inline constexpr std::string_view request_type_query_token_status =
    "http://schemas.microsoft.com/windows/pki/2009/01/enrollment/QueryTokenStatus";

// BinarySecurityToken value types. The enrollment namespace's #PKCS7 and
// #PKCS10 are what [MS-MDE] (a WSTEP profile) and openSUSE's cepces send; the
// section 4 example request writes #PKCS7 in the WSS secext namespace, and
// the example response labels the CMC response that way too. A reader takes
// either; a writer names the one it means.
inline constexpr std::string_view value_type_pkcs7 =
    "http://schemas.microsoft.com/windows/pki/2009/01/enrollment#PKCS7";
inline constexpr std::string_view value_type_pkcs10 =
    "http://schemas.microsoft.com/windows/pki/2009/01/enrollment#PKCS10";
inline constexpr std::string_view value_type_secext_pkcs7 =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd#PKCS7";
inline constexpr std::string_view encoding_type_base64 =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
    "#base64binary";

struct issue_request {
  crypto::byte_view request;  // DER: a CMS SignedData (agent-signed), a CMC request or a PKCS#10
  std::string_view value_type = value_type_pkcs7;
  // AdditionalContext/ContextItem Name="CertificateTemplate"; empty: none
  // (the template then comes from the request itself).
  std::string_view certificate_template;
};

// <RequestSecurityToken> for RequestType Issue ([MS-WSTEP] 3.1.4.2.1.1), with
// the base64 request unwrapped and a nil RequestID, as the section 4 example;
// the body for soap::write_envelope (whose <s:Body> declares xsi).
xml_element build_issue_request(const issue_request& request);

// <RequestSecurityToken> for RequestType QueryTokenStatus with the pending
// request's RequestID ([MS-WSTEP] 3.1.4.2.1.2). Throws std::invalid_argument
// when `request_id` is not a request identifier (see valid_request_id).
xml_element build_query_token_status(std::string_view request_id);

// AD CS's request ids are decimal numbers; the schema says string, so any
// 1 to 64 printable ASCII characters without spaces are accepted.
bool valid_request_id(std::string_view id);

// The RequestSecurityTokenResponse ([MS-WSTEP] 3.1.4.1.2.6 to 3.1.4.1.3.5,
// with the 2021 errata on RequestedSecurityToken).
struct token_response {
  std::string token_type;
  std::string disposition_message;  // "Issued", "Taken Under Submission", ...; one line
  // The RSTR's own BinarySecurityToken: the CMC full PKI response with the
  // chain (value type #PKCS7); empty when absent.
  crypto::bytes full_response;
  std::string full_response_value_type;
  // RequestedSecurityToken/BinarySecurityToken: the issued end-entity
  // certificate (DER); empty when pending.
  crypto::bytes issued_certificate;
  // RequestedSecurityToken/SecurityTokenReference/Reference/@URI, which a
  // pending answer carries instead of the certificate; empty otherwise.
  std::string token_reference;
  std::string request_id;  // empty when absent or nil
};

// The Body's RequestSecurityTokenResponseCollection/RequestSecurityTokenResponse,
// or nullopt when the Body holds none (a fault, or another answer). Throws
// soap::soap_error when it is there but unreadable: more than one response
// (3.1.4.1.3.5 allows one), a token that is not base64, a bad RequestID.
std::optional<token_response> read_token_response(const soap::soap_document& doc);

// CertificateEnrollmentWSDetailType, from the WSTEP XML Schema that
// [MS-WSTEP] prints in its full-WSDL appendix.
struct fault_detail {
  std::string binary_response;  // xs:string (base64 of the CA's response), whitespace removed
  std::optional<std::int32_t> error_code;  // the HRESULT, xs:int
  std::optional<bool> invalid_request;
  std::string request_id;  // empty when absent or nil
};

// The fault's Detail/CertificateEnrollmentWSDetail, or nullopt when it has
// none. Throws soap::soap_error on an ErrorCode that is not an xs:int or an
// InvalidRequest that is not an xs:boolean.
std::optional<fault_detail> read_fault_detail(const soap::fault& f);

// The HRESULT's name and meaning: protocol/ca/msca/hresult.hpp.

}  // namespace cbcs::protocol::ca::msca::wstep
