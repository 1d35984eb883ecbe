#include "protocol/ca/msca/wstep.hpp"

#include <cstdint>
#include <stdexcept>

#include <fmt/format.h>

#include "crypto/base64.hpp"
#include "protocol/common/soap.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::msca::wstep {
namespace {

using soap::soap_error;

xml_element request_security_token(std::string_view request_type) {
  // Default namespaces declared on the elements, as the section 4 examples.
  xml_element rst("RequestSecurityToken");
  rst.attribute("xmlns", ns_wst);
  rst.child("TokenType").text(token_type_x509v3);
  rst.child("RequestType").text(request_type);
  return rst;
}

std::string request_id_of(pugi::xml_node parent) {
  auto id = soap::read_trimmed(soap::child_element(parent, ns_enrollment, "RequestID"));
  if (!id || id->empty()) return {};
  if (!valid_request_id(*id))
    throw soap_error("the answer's RequestID is not a request identifier");
  return *id;
}

}  // namespace

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (c <= ' ' || c >= 0x7f) return false;
  return true;
}

xml_element build_issue_request(const issue_request& request) {
  auto rst = request_security_token(request_type_issue);
  // Attribute order as in the example: EncodingType, ValueType, then xmlns.
  rst.child("BinarySecurityToken")
      .attribute("EncodingType", encoding_type_base64)
      .attribute("ValueType", request.value_type)
      .attribute("xmlns", soap::ns_wsse)
      .text(crypto::base64_encode(request.request));
  if (!request.certificate_template.empty()) {
    auto& context = rst.child("AdditionalContext");
    context.attribute("xmlns", ns_authorization);
    context.child("ContextItem")
        .attribute("Name", "CertificateTemplate")
        .child("Value")
        .text(request.certificate_template);
  }
  // 3.1.4.2.1.1: a RequestID in an Issue request is ignored; the example sends it nil.
  rst.child("RequestID").attribute("xsi:nil", "true").attribute("xmlns", ns_enrollment);
  return rst;
}

xml_element build_query_token_status(std::string_view request_id) {
  // 3.1.4.2.1.2: a QueryTokenStatus without a RequestID is a fault.
  if (!valid_request_id(request_id))
    throw std::invalid_argument("QueryTokenStatus needs a request identifier");
  auto rst = request_security_token(request_type_query_token_status);
  rst.child("RequestID").attribute("xmlns", ns_enrollment).text(request_id);
  return rst;
}

std::optional<token_response> read_token_response(const soap::soap_document& doc) {
  auto collection =
      soap::child_element(doc.body(), ns_wst, "RequestSecurityTokenResponseCollection");
  if (!collection) return std::nullopt;
  auto responses = soap::child_elements(collection, ns_wst, "RequestSecurityTokenResponse");
  // 3.1.4.1.3.5: the collection MUST contain exactly one response.
  if (responses.size() != 1)
    throw soap_error("the answer's collection does not hold exactly one response");
  auto rstr = responses.front();

  token_response out;
  out.token_type = one_line(
      soap::element_text(soap::child_element(rstr, ns_wst, "TokenType")).value_or(""), 256);
  out.disposition_message =
      one_line(soap::element_text(soap::child_element(rstr, ns_enrollment, "DispositionMessage"))
                   .value_or(""),
               512);
  auto full = soap::child_element(rstr, soap::ns_wsse, "BinarySecurityToken");
  out.full_response = soap::read_base64(full, "BinarySecurityToken");
  out.full_response_value_type =
      one_line(soap::attribute_value(full, "", "ValueType").value_or(""), 256);
  auto requested = soap::child_element(rstr, ns_wst, "RequestedSecurityToken");
  out.issued_certificate =
      soap::read_base64(soap::child_element(requested, soap::ns_wsse, "BinarySecurityToken"),
                        "RequestedSecurityToken");
  auto reference =
      soap::child_element(soap::child_element(requested, soap::ns_wsse, "SecurityTokenReference"),
                          soap::ns_wsse, "Reference");
  out.token_reference = one_line(soap::attribute_value(reference, "", "URI").value_or(""), 256);
  out.request_id = request_id_of(rstr);
  return out;
}

std::optional<fault_detail> read_fault_detail(const soap::fault& f) {
  auto detail = soap::child_element(f.detail, ns_enrollment, "CertificateEnrollmentWSDetail");
  if (!detail) return std::nullopt;
  fault_detail out;
  // BinaryResponse is an xs:string in the schema: kept as text, white space removed.
  for (char c : soap::element_text(soap::child_element(detail, ns_enrollment, "BinaryResponse"))
                    .value_or(""))
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') out.binary_response += c;
  // xs:int is signed 32-bit; some writers give the HRESULT unsigned, so both
  // readings of the 32 bits are taken.
  if (auto code = soap::read_integer(soap::child_element(detail, ns_enrollment, "ErrorCode"),
                                     INT32_MIN, UINT32_MAX, "ErrorCode"))
    out.error_code = static_cast<std::int32_t>(static_cast<std::uint32_t>(*code));
  out.invalid_request = soap::read_boolean(
      soap::child_element(detail, ns_enrollment, "InvalidRequest"), "InvalidRequest");
  out.request_id = request_id_of(detail);
  return out;
}

}  // namespace cbcs::protocol::ca::msca::wstep
