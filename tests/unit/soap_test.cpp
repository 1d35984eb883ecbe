// The SOAP 1.2 codec for AD CS's enrollment web services: the writer, the
// namespace-aware reader and the [MS-WSTEP] bodies, against the messages
// [MS-WSTEP] section 4 prints (tests/data/ms-wstep/README.md) and against
// hostile input.

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "crypto/bytes.hpp"
#include "protocol/common/soap.hpp"
#include "protocol/common/soap_reader.hpp"
#include "protocol/common/text.hpp"
#include "protocol/ca/msca/hresult.hpp"
#include "protocol/ca/msca/wstep.hpp"
#include "protocol/ca/msca/xcep.hpp"
#include "protocol/common/xml_writer.hpp"

namespace soap_test {

namespace soapns = cbcs::protocol::soap;
namespace wstepns = cbcs::protocol::ca::msca::wstep;
namespace xcepns = cbcs::protocol::ca::msca::xcep;
using cbcs::protocol::xml_element;

std::string vector_text(const std::string& name) {
  auto path = std::filesystem::path(CBCS_TEST_DATA) / "ms-wstep" / name;
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string without(std::string text, char c) {
  text.erase(std::remove(text.begin(), text.end(), c), text.end());
  return text;
}

// The reader's refusal: a soap_error whose message is one line.
std::string refusal(std::string_view xml) {
  try {
    soapns::soap_document doc(xml);
  } catch (const soapns::soap_error& e) {
    std::string message = e.what();
    CHECK(cbcs::protocol::one_line(message) == message);
    return message;
  }
  FAIL("accepted");
  return {};
}

std::string envelope_around(std::string_view body) {
  return "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body>" +
         std::string(body) + "</s:Body></s:Envelope>";
}

constexpr std::string_view template_denied_fault = R"(<?xml version="1.0" encoding="utf-8"?>
<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope">
 <env:Body>
  <env:Fault>
   <env:Code><env:Value>env:Receiver</env:Value></env:Code>
   <env:Reason><env:Text xml:lang="en-US">Denied by Policy Module  0x80094012,
The permissions on the certificate template do not allow the current user to enroll.</env:Text></env:Reason>
   <env:Detail>
    <w:CertificateEnrollmentWSDetail xmlns:w="http://schemas.microsoft.com/windows/pki/2009/01/enrollment"
        xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
     <w:BinaryResponse>MIIB
AA==</w:BinaryResponse>
     <w:ErrorCode>-2146877422</w:ErrorCode>
     <w:InvalidRequest>true</w:InvalidRequest>
     <w:RequestID>368</w:RequestID>
    </w:CertificateEnrollmentWSDetail>
   </env:Detail>
  </env:Fault>
 </env:Body>
</env:Envelope>)";

// A GetPoliciesResponse made after the [MS-XCEP] schema (3.1.4.1.2.2 and the
// types it names): two templates, one needing an RA signature, two CAs.
constexpr std::string_view policies_answer =
    R"(<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"
 xmlns:a="http://www.w3.org/2005/08/addressing"><s:Header>
 <a:Action s:mustUnderstand="1">http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy/IPolicy/GetPoliciesResponse</a:Action>
 </s:Header><s:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <GetPoliciesResponse xmlns="http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy">
  <response>
   <policyID>{5A4A2C4B-0000-4000-8000-000000000001}</policyID>
   <policyFriendlyName>Active Directory Enrollment Policy</policyFriendlyName>
   <nextUpdateHours>8</nextUpdateHours>
   <policiesNotChanged xsi:nil="true"/>
   <policies>
    <policy>
     <policyOIDReference>3</policyOIDReference>
     <cAs><cAReference>0</cAReference></cAs>
     <attributes>
      <commonName>MachineEnrollmentAgent</commonName>
      <policySchema>1</policySchema>
      <permission><enroll>true</enroll><autoEnroll>false</autoEnroll></permission>
      <privateKeyAttributes><minimalKeyLength>2048</minimalKeyLength></privateKeyAttributes>
      <rARequirements xsi:nil="true"/>
     </attributes>
    </policy>
    <policy>
     <policyOIDReference>4</policyOIDReference>
     <cAs><cAReference>0</cAReference><cAReference>1</cAReference></cAs>
     <attributes>
      <commonName>OnBehalfUser</commonName>
      <policySchema>2</policySchema>
      <permission><enroll>0</enroll><autoEnroll>1</autoEnroll></permission>
      <privateKeyAttributes><minimalKeyLength>3072</minimalKeyLength></privateKeyAttributes>
      <rARequirements><rASignatures>1</rASignatures><rAEKUs><oIDReference>5</oIDReference></rAEKUs>
       <rAPolicies xsi:nil="true"/></rARequirements>
     </attributes>
    </policy>
   </policies>
  </response>
  <cAs>
   <cA>
    <uris>
     <cAURI><clientAuthentication>4</clientAuthentication>
      <uri>https://ca.example.test/Example-CA_CES_UsernamePassword/service.svc/CES</uri>
      <priority>1</priority><renewalOnly>false</renewalOnly></cAURI>
     <cAURI><clientAuthentication>8</clientAuthentication>
      <uri>https://ca.example.test/Example-CA_CES_Certificate/service.svc/CES</uri>
      <priority xsi:nil="true"/><renewalOnly>true</renewalOnly></cAURI>
    </uris>
    <certificate>MIIB&#xD;
AA==</certificate>
    <enrollPermission>true</enrollPermission>
    <cAReferenceID>0</cAReferenceID>
   </cA>
   <cA>
    <uris><cAURI><clientAuthentication>2</clientAuthentication>
     <uri>https://other.example.test/Other_CES_Kerberos/service.svc/CES</uri></cAURI></uris>
    <certificate>MAA=</certificate>
    <enrollPermission>false</enrollPermission>
    <cAReferenceID>1</cAReferenceID>
   </cA>
  </cAs>
  <oIDs>
   <oID><value>1.3.6.1.4.1.311.21.8.1.2.3</value><group>9</group><oIDReferenceID>3</oIDReferenceID>
    <defaultName>Enrollment Agent (Computer)</defaultName></oID>
   <oID><value>1.3.6.1.4.1.311.21.8.1.2.4</value><group>9</group><oIDReferenceID>4</oIDReferenceID>
    <defaultName>On Behalf User</defaultName></oID>
   <oID><value>1.3.6.1.4.1.311.20.2.1</value><group>7</group><oIDReferenceID>5</oIDReferenceID>
    <defaultName>Certificate Request Agent</defaultName></oID>
  </oIDs>
 </GetPoliciesResponse>
</s:Body></s:Envelope>)";

TEST_SUITE("soap") {
  TEST_CASE(
      "soap: [MS-WSTEP] 4.1.2.1: the envelope writer prints the Client Exchange Token Request") {
    // The KET body is not ours to send; built by hand it checks the envelope
    // (headers, their order, prefixes, the Body's declarations) byte for byte.
    xml_element rst("RequestSecurityToken");
    rst.attribute("xmlns", wstepns::ns_wst);
    rst.child("TokenType").text(wstepns::token_type_x509v3);
    rst.child("RequestType").text("http://docs.oasis-open.org/ws-sx/ws-trust/200512/KET");
    rst.child("RequestKET");
    rst.child("RequestID").attribute("xsi:nil", "true").attribute("xmlns", wstepns::ns_enrollment);
    soapns::envelope headers{.action = "http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/KET",
                             .message_id = "urn:uuid:c2884a79-b943-45c6-ac02-7256071de309"};
    CHECK(soapns::write_envelope(headers, rst) ==
          vector_text("key_exchange_token_client_request.xml"));
  }

  TEST_CASE("soap: [MS-WSTEP] 4: the certificate and renewal requests, byte for byte") {
    for (const auto& [file_name, message_id] :
         {std::pair{"standard_certificate_client_request.xml",
                    "urn:uuid:b5d1a601-5091-4a7d-b34b-5204c18b5919"},
          {"renewal_client_request.xml", "urn:uuid:b0a9b388-2581-451d-8c03-270d4ffe2928"}}) {
      // A copy for CAPTURE: clang's lambdas cannot capture structured bindings.
      std::string file = file_name;
      CAPTURE(file);
      auto expected = vector_text(file);
      // The CMS the example carries, read back with our reader.
      soapns::soap_document example(expected);
      auto token = soapns::find_element(example.body(), soapns::ns_wsse, "BinarySecurityToken");
      auto cms = soapns::read_base64(token, "example");
      REQUIRE(cms.size() > 500);
      auto body = wstepns::build_issue_request(
          {.request = cms, .value_type = wstepns::value_type_secext_pkcs7});
      soapns::envelope headers{.action = std::string(wstepns::action_request),
                               .message_id = message_id};
      // The examples wrap their base64 at 64 columns; we send it unwrapped.
      CHECK(soapns::write_envelope(headers, body) == without(expected, '\n'));
    }
  }

  TEST_CASE("soap: [MS-WSTEP] 4: the retrieve-pending request (QueryTokenStatus, RequestID 65)") {
    soapns::envelope headers{.action = std::string(wstepns::action_request),
                             .message_id = "urn:uuid:ce330bb2-0ca2-473b-a29a-19e9264666ff"};
    CHECK(soapns::write_envelope(headers, wstepns::build_query_token_status("65")) ==
          vector_text("retrieve_pended_certificate_request.xml"));
    CHECK_THROWS_AS(wstepns::build_query_token_status(""), std::invalid_argument);
    CHECK_THROWS_AS(wstepns::build_query_token_status("6 5"), std::invalid_argument);
  }

  TEST_CASE("soap: [MS-WSTEP] 4: the certificate and renewal responses are read") {
    for (const auto& [file_name, request_id] :
         {std::pair{"standard_certificate_server_response.xml", "61"},
          {"renewal_server_response.xml", "63"}}) {
      std::string file = file_name;
      CAPTURE(file);
      soapns::soap_document doc(vector_text(file));
      CHECK_FALSE(soapns::read_fault(doc));
      CHECK_FALSE(xcepns::read_get_policies_response(doc));
      auto r = wstepns::read_token_response(doc);
      REQUIRE(r);
      CHECK(r->token_type == wstepns::token_type_x509v3);
      CHECK(r->disposition_message == "Issued");
      CHECK(r->request_id == request_id);
      CHECK(r->full_response_value_type == wstepns::value_type_secext_pkcs7);
      CHECK(r->token_reference.empty());
      // DER SEQUENCEs: the CMC response, and the certificate, which the
      // response's chain carries too.
      REQUIRE(r->full_response.size() > 2000);
      REQUIRE(r->issued_certificate.size() > 1000);
      CHECK(r->full_response[0] == 0x30);
      CHECK(r->issued_certificate[0] == 0x30);
      CHECK(std::search(r->full_response.begin(), r->full_response.end(),
                        r->issued_certificate.begin(),
                        r->issued_certificate.end()) != r->full_response.end());
    }
  }

  TEST_CASE("soap: [MS-WSTEP] 4: the fault example is read (Receiver, InternalServiceFault)") {
    soapns::soap_document doc(vector_text("fault_server_response.xml"));
    CHECK_FALSE(wstepns::read_token_response(doc));
    auto f = soapns::read_fault(doc);
    REQUIRE(f);
    CHECK(f->code == soapns::qname{std::string(soapns::ns_envelope), "Receiver"});
    REQUIRE(f->subcodes.size() == 1);
    CHECK(f->subcodes[0] ==
          soapns::qname{
              "http://schemas.microsoft.com/net/2005/12/windowscommunicationfoundation/dispatcher",
              "InternalServiceFault"});
    CHECK(f->reason.starts_with("The server was unable to process the request"));
    CHECK(f->reason.find("<<serviceDebug>>") != std::string::npos);  // &lt; read back
    CHECK_FALSE(f->detail);
    CHECK_FALSE(wstepns::read_fault_detail(*f));
    auto line = soapns::describe(*f);
    CHECK(line.starts_with("Receiver (InternalServiceFault): The server was unable"));
    CHECK(line.size() <= 400);
  }

  TEST_CASE("soap: a CertificateEnrollmentWSDetail fault: the HRESULT, whatever the prefixes") {
    // Made after the WSTEP schema (no section 4 example has a detail).
    soapns::soap_document doc(template_denied_fault);
    auto f = soapns::read_fault(doc);
    REQUIRE(f);
    CHECK(f->code.local == "Receiver");
    CHECK(f->subcodes.empty());
    CHECK(f->reason.find('\n') == std::string::npos);
    auto d = wstepns::read_fault_detail(*f);
    REQUIRE(d);
    REQUIRE(d->error_code);
    CHECK(static_cast<std::uint32_t>(*d->error_code) == 0x80094012u);
    CHECK(cbcs::protocol::ca::msca::describe_hresult(static_cast<std::uint32_t>(*d->error_code)).find(
              "CERTSRV_E_TEMPLATE_DENIED (0x80094012)") == 0);
    CHECK(d->invalid_request == true);
    CHECK(d->request_id == "368");
    CHECK(d->binary_response == "MIIBAA==");

    // The same code written unsigned; an unknown code is named by its hex.
    std::string unsigned_code(template_denied_fault);
    unsigned_code.replace(unsigned_code.find("-2146877422"), 11, "2148089874");
    soapns::soap_document unsigned_doc(unsigned_code);
    auto u = wstepns::read_fault_detail(*soapns::read_fault(unsigned_doc));
    REQUIRE(u);
    CHECK(u->error_code == d->error_code);
    CHECK(cbcs::protocol::ca::msca::describe_hresult(0x80070005u).find("E_ACCESSDENIED (0x80070005)") == 0);

    for (auto [from, to] : {std::pair{"-2146877422", "0x80094012"},
                            {"-2146877422", "99999999999"},
                            {"<w:InvalidRequest>true", "<w:InvalidRequest>yes"},
                            {"<w:RequestID>368", "<w:RequestID>3 68"}}) {
      std::string bad(template_denied_fault);
      bad.replace(bad.find(from), std::string_view(from).size(), to);
      soapns::soap_document bad_doc(bad);
      CHECK_THROWS_AS(wstepns::read_fault_detail(*soapns::read_fault(bad_doc)), soapns::soap_error);
    }
  }

  TEST_CASE("soap: a pending answer: Taken Under Submission, a token reference, the RequestID") {
    // Made after 3.1.4.1.3.2 (with the 2021 errata): a reference instead of the certificate.
    auto xml = envelope_around(R"(
      <t:RequestSecurityTokenResponseCollection xmlns:t="http://docs.oasis-open.org/ws-sx/ws-trust/200512">
       <t:RequestSecurityTokenResponse>
        <t:TokenType>http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3</t:TokenType>
        <DispositionMessage xml:lang="en-US" xmlns="http://schemas.microsoft.com/windows/pki/2009/01/enrollment">Taken Under Submission</DispositionMessage>
        <o:BinarySecurityToken xmlns:o="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
          ValueType="http://schemas.microsoft.com/windows/pki/2009/01/enrollment#PKCS7">MIIB&#xD;
AA==</o:BinarySecurityToken>
        <t:RequestedSecurityToken>
         <o:SecurityTokenReference xmlns:o="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">
          <o:Reference URI="62"/>
         </o:SecurityTokenReference>
        </t:RequestedSecurityToken>
        <RequestID xmlns="http://schemas.microsoft.com/windows/pki/2009/01/enrollment">62</RequestID>
       </t:RequestSecurityTokenResponse>
      </t:RequestSecurityTokenResponseCollection>)");
    auto r = wstepns::read_token_response(soapns::soap_document(xml));
    REQUIRE(r);
    CHECK(r->disposition_message == "Taken Under Submission");
    CHECK(r->issued_certificate.empty());
    CHECK(r->token_reference == "62");
    CHECK(r->request_id == "62");
    CHECK(r->full_response == cbcs::crypto::bytes{0x30, 0x82, 0x01, 0x00});  // CR and LF inside
  }

  TEST_CASE("soap: the reader goes by namespace URI, not by prefix") {
    // The right names in the wrong namespaces are not found...
    auto wrong = envelope_around(R"(
      <RequestSecurityTokenResponseCollection xmlns="http://schemas.xmlsoap.org/ws/2005/02/trust">
       <RequestSecurityTokenResponse><RequestID>1</RequestID></RequestSecurityTokenResponse>
      </RequestSecurityTokenResponseCollection>)");
    CHECK_FALSE(wstepns::read_token_response(soapns::soap_document(wrong)));
    auto misplaced = envelope_around(R"(
      <RequestSecurityTokenResponseCollection xmlns="http://docs.oasis-open.org/ws-sx/ws-trust/200512">
       <RequestSecurityTokenResponse><DispositionMessage>Issued</DispositionMessage>
        <RequestID>7</RequestID></RequestSecurityTokenResponse>
      </RequestSecurityTokenResponseCollection>)");
    auto r = wstepns::read_token_response(soapns::soap_document(misplaced));
    REQUIRE(r);
    CHECK(r->disposition_message.empty());  // in ws-trust's namespace, not enrollment's
    CHECK(r->request_id.empty());
    // ...a prefix bound to a SOAP 1.1 or unknown envelope is no SOAP 1.2 envelope...
    CHECK(
        refusal(
            R"(<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>)")
            .find("SOAP 1.1") != std::string::npos);
    CHECK(refusal(R"(<s:Envelope xmlns:s="urn:other"><s:Body/></s:Envelope>)")
              .find("not a SOAP 1.2 Envelope") != std::string::npos);
    CHECK(refusal(R"(<Envelope><Body/></Envelope>)").find("not a SOAP 1.2") != std::string::npos);
    // ...and any prefix, or none, bound to the right URI is.
    soapns::soap_document plain(
        R"(<Envelope xmlns="http://www.w3.org/2003/05/soap-envelope"><Header/><Body><x:Y xmlns:x="urn:y"/></Body></Envelope>)");
    CHECK(soapns::is_element(plain.header(), soapns::ns_envelope, "Header"));
    CHECK(soapns::find_element(plain.body(), "urn:y", "Y"));
    CHECK_FALSE(soapns::find_element(plain.body(), "", "Y"));
    CHECK(soapns::namespace_of(soapns::find_element(plain.body(), "urn:y", "Y")) == "urn:y");
    // An undeclared prefix is not namespace-well-formed.
    CHECK(refusal(envelope_around("<q:X/>")).find("undeclared") != std::string::npos);
    CHECK(refusal(envelope_around("<X q:a=\"1\"/>")).find("undeclared") != std::string::npos);
  }

  TEST_CASE("soap: faults without what SOAP 1.2 5.4 requires are refused") {
    using namespace std::string_literals;
    auto fault = [](std::string inner) {
      return soapns::soap_document(envelope_around("<s:Fault>" + inner + "</s:Fault>"));
    };
    auto reason = "<s:Reason><s:Text xml:lang=\"en\">no</s:Text></s:Reason>"s;
    CHECK_THROWS_AS(soapns::read_fault(fault(reason)), soapns::soap_error);
    CHECK_THROWS_AS(soapns::read_fault(fault("<s:Code><s:Value>s:Sender</s:Value></s:Code>")),
                    soapns::soap_error);
    CHECK_THROWS_AS(
        soapns::read_fault(fault("<s:Code><s:Value>zz:Sender</s:Value></s:Code>" + reason)),
        soapns::soap_error);
    auto nested = soapns::read_fault(fault(
        "<s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value xmlns:m=\"urn:m\">m:A</s:Value>"
        "<s:Subcode><s:Value xmlns:m=\"urn:m\">m:B</s:Value></s:Subcode></s:Subcode></s:Code>" +
        reason));
    REQUIRE(nested);
    REQUIRE(nested->subcodes.size() == 2);
    CHECK(nested->subcodes[1] == soapns::qname{"urn:m", "B"});
    CHECK(soapns::describe(*nested) == "Sender (A/B): no");
  }

  TEST_CASE("soap: round trip: every value comes back exactly, none becomes markup") {
    std::string tricky = "a&b<c>d\"e'f]]>g\r\nh\ti \xc3\xa9 \xf0\x9f\x94\x91";
    std::string injection = "</wsse:Password><Injected/><wsse:Password>";
    xml_element body("q:Body");
    body.attribute("xmlns:q", "urn:q").attribute("v", tricky).text(tricky);
    body.child("q:Inner").text(injection);
    soapns::envelope headers{
        .action = "urn:act&<>",
        .message_id = soapns::new_message_id(),
        .to = "https://ca.example/CA_CES_UsernamePassword/service.svc/CES?a=1&b=2",
        .security = soapns::username_token{"EXAMPLE\\svc<", injection}};
    auto text = soapns::write_envelope(headers, body);
    soapns::soap_document doc(text);
    auto header = doc.header();
    CHECK(soapns::element_text(soapns::child_element(header, soapns::ns_addressing, "Action")) ==
          "urn:act&<>");
    CHECK(soapns::element_text(soapns::child_element(header, soapns::ns_addressing, "To")) ==
          headers.to);
    auto to = soapns::child_element(header, soapns::ns_addressing, "To");
    CHECK(soapns::attribute_value(to, soapns::ns_envelope, "mustUnderstand") == "1");
    auto reply = soapns::child_element(header, soapns::ns_addressing, "ReplyTo");
    CHECK(soapns::element_text(soapns::child_element(reply, soapns::ns_addressing, "Address")) ==
          soapns::anonymous_address);
    auto security = soapns::child_element(header, soapns::ns_wsse, "Security");
    CHECK(soapns::attribute_value(security, soapns::ns_envelope, "mustUnderstand") == "1");
    auto user_token = soapns::child_element(security, soapns::ns_wsse, "UsernameToken");
    CHECK(soapns::element_text(soapns::child_element(user_token, soapns::ns_wsse, "Username")) ==
          "EXAMPLE\\svc<");
    auto password = soapns::child_element(user_token, soapns::ns_wsse, "Password");
    CHECK(soapns::element_text(password) == injection);
    CHECK(soapns::attribute_value(password, "", "Type") == soapns::password_text_type);
    CHECK_FALSE(soapns::find_element(doc.envelope(), "", "Injected"));
    auto q = soapns::child_element(doc.body(), "urn:q", "Body");
    CHECK(soapns::element_text(q) == tricky);              // CR survives as &#xD;
    CHECK(soapns::attribute_value(q, "", "v") == tricky);  // so do CR, LF, TAB in an attribute
    CHECK(soapns::element_text(soapns::child_element(q, "urn:q", "Inner")) == injection);

    // The template name goes into AdditionalContext as text, whatever it holds.
    auto issue = wstepns::build_issue_request(
        {.request = cbcs::crypto::as_bytes(std::string_view("\x30\x00", 2)),
         .value_type = wstepns::value_type_pkcs10,
         .certificate_template = "</Value></ContextItem><ContextItem Name=\"x\"><Value>y"});
    soapns::soap_document built(soapns::write_envelope({.action = "a", .message_id = "m"}, issue));
    auto context =
        soapns::find_element(built.body(), wstepns::ns_authorization, "AdditionalContext");
    auto items = soapns::child_elements(context, wstepns::ns_authorization, "ContextItem");
    REQUIRE(items.size() == 1);
    CHECK(soapns::attribute_value(items[0], "", "Name") == "CertificateTemplate");
    CHECK(
        soapns::element_text(soapns::child_element(items[0], wstepns::ns_authorization, "Value")) ==
        "</Value></ContextItem><ContextItem Name=\"x\"><Value>y");
    auto bst = soapns::find_element(built.body(), soapns::ns_wsse, "BinarySecurityToken");
    CHECK(soapns::attribute_value(bst, "", "ValueType") == wstepns::value_type_pkcs10);
    CHECK(soapns::element_text(bst) == "MAA=");
    CHECK(soapns::is_nil(soapns::find_element(built.body(), wstepns::ns_enrollment, "RequestID")));
  }

  TEST_CASE("soap: the password is written once, into the envelope, and never into the log form") {
    std::string secret = "s3cr3t-Passw0rd";
    soapns::envelope headers{
        .action = "a", .message_id = "m", .security = soapns::username_token{"D\\u", secret}};
    xml_element body("X");
    CHECK(soapns::write_envelope(headers, body).find(secret) != std::string::npos);
    auto logged = soapns::write_envelope_for_log(headers, body);
    CHECK(logged.find(secret) == std::string::npos);
    CHECK(logged.find("[redacted]") != std::string::npos);
    // A password XML cannot carry is refused, and the refusal does not show it.
    headers.security->password = "bad\x01" + secret;
    try {
      soapns::write_envelope(headers, body);
      FAIL("accepted a control character");
    } catch (const std::invalid_argument& e) {
      CHECK(std::string(e.what()).find(secret) == std::string::npos);
      CHECK(std::string(e.what()).find("wsse:Password") != std::string::npos);
    }
  }

  TEST_CASE("soap: the writer refuses what would not be XML") {
    CHECK_THROWS_AS(xml_element("a b"), std::invalid_argument);
    CHECK_THROWS_AS(xml_element("1a"), std::invalid_argument);
    CHECK_THROWS_AS(xml_element("a:b:c"), std::invalid_argument);
    CHECK_THROWS_AS(xml_element(""), std::invalid_argument);
    CHECK_THROWS_AS(xml_element("a>"), std::invalid_argument);
    xml_element e("a");
    CHECK_THROWS_AS(e.attribute("x=\"1\" y", "v"), std::invalid_argument);
    e.attribute("x", "1");
    CHECK_THROWS_AS(e.attribute("x", "2"), std::invalid_argument);
    for (std::string_view bad : {std::string_view("\x00", 1), std::string_view("\x1b"),
                                 std::string_view("\xc3"), std::string_view("\xed\xa0\x80"),
                                 std::string_view("\xef\xbf\xbe"), std::string_view("\xc0\xaf")})
      CHECK_THROWS_AS(xml_element("t").text(bad), std::invalid_argument);
    CHECK(xml_element("t").text("").str() == "<t></t>");
    CHECK(xml_element("t").str() == "<t/>");
  }

  TEST_CASE("soap: message ids are random version 4 UUIDs") {
    auto a = soapns::new_message_id(), b = soapns::new_message_id();
    CHECK(a != b);
    REQUIRE(a.size() == 45);
    CHECK(a.starts_with("urn:uuid:"));
    CHECK(a[17] == '-');
    CHECK(a[23] == '4');
    CHECK(std::string_view("89ab").find(a[28]) != std::string_view::npos);
    CHECK(a.find_first_not_of("urn:uid0123456789abcdef-") == std::string::npos);
  }

  TEST_CASE("soap: garbage, truncation and broken envelopes are refused with one line") {
    for (std::string_view junk :
         {std::string_view(""), std::string_view("   \n"), std::string_view("not xml"),
          std::string_view("{\"json\":1}"), std::string_view("\x00\x01\x02", 3),
          std::string_view("<"), std::string_view("<a><b></a>"), std::string_view("\xff\xfe<\x00")})
      refusal(junk);
    // Characters XML 1.0 does not allow, raw or as references (section 2.2,
    // WFC "Legal Character"), and text that is not UTF-8.
    for (std::string_view body :
         {"<x>&#1;</x>", "<x>&#x0;</x>", "<x>&#xFFFF;</x>", "<x>&#99999999999;</x>", "<x>\x01</x>",
          "<x>\xef\xbf\xbf</x>", "<x>\xc3</x>", "<x a=\"\xed\xa0\x80\"/>"})
      refusal(envelope_around(body));
    // Every cut of a real answer is refused (the envelope never closes).
    auto full = vector_text("standard_certificate_server_response.xml");
    for (std::size_t cut = 0; cut + 1 < full.size(); cut += 61) refusal(full.substr(0, cut));
    auto env = [](std::string_view inside) {
      return "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\">" +
             std::string(inside) + "</s:Envelope>";
    };
    CHECK(refusal(env("")).find("no Body") != std::string::npos);
    CHECK(refusal(env("<s:Header/>")).find("no Body") != std::string::npos);
    refusal(env("<s:Body/><s:Body/>"));
    refusal(env("<s:Body/><s:Header/>"));
    refusal(env("<s:Header/><s:Header/><s:Body/>"));
    refusal(env("<s:Body/><x/>"));
    refusal(env("text<s:Body/>"));
    refusal(env("<s:Body/>") + "<s:Envelope/>");
    refusal(env("<s:Body/>") + "trailing");
    soapns::soap_document ok("\xEF\xBB\xBF<?xml version=\"1.0\"?>\n" + env("<s:Body/>") + "\n");
    CHECK_FALSE(soapns::read_fault(ok));
    // More than one response in the collection, and a token that is not base64.
    auto collection = [&](std::string_view inside) {
      return envelope_around(
          "<RequestSecurityTokenResponseCollection "
          "xmlns=\"http://docs.oasis-open.org/ws-sx/ws-trust/200512\">" +
          std::string(inside) + "</RequestSecurityTokenResponseCollection>");
    };
    CHECK_THROWS_AS(wstepns::read_token_response(soapns::soap_document(collection(
                        "<RequestSecurityTokenResponse/><RequestSecurityTokenResponse/>"))),
                    soapns::soap_error);
    CHECK_THROWS_AS(wstepns::read_token_response(soapns::soap_document(collection(
                        "<RequestSecurityTokenResponse><BinarySecurityToken xmlns=\"" +
                        std::string(soapns::ns_wsse) +
                        "\">@@@@</BinarySecurityToken></RequestSecurityTokenResponse>"))),
                    soapns::soap_error);
  }

  TEST_CASE(
      "soap: no DTD, no entity: billion laughs and external entities are refused unexpanded") {
    std::string laughs =
        "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
        " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n";
    for (int i = 2; i <= 9; ++i)
      laughs += " <!ENTITY lol" + std::to_string(i) + " \"" + [&] {
        std::string s;
        for (int k = 0; k < 10; ++k) s += "&lol" + std::to_string(i - 1) + ";";
        return s;
      }() + "\">\n";
    laughs += "]>\n" + envelope_around("<x>&lol9;</x>");
    auto message = refusal(laughs);
    CHECK(message.find("lol") == std::string::npos);

    auto xxe = "<!DOCTYPE s:Envelope [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>" +
               envelope_around("<x>&x;</x>");
    CHECK(refusal(xxe).find("passwd") == std::string::npos);
    // A DOCTYPE alone is refused too (SOAP 1.2 Part 1 section 5), ...
    CHECK(refusal("<!DOCTYPE s:Envelope>" + envelope_around("")).find("document type") !=
          std::string::npos);
    // ... and so is a reference to an entity nobody declared.
    CHECK(refusal(envelope_around("<x>&lol9;</x>")).find("entity") != std::string::npos);
    CHECK(refusal(envelope_around("<x a=\"&x;\"/>")).find("entity") != std::string::npos);
    // The predefined ones and character references are text.
    soapns::soap_document fine(envelope_around(
        "<x>&amp;&lt;&gt;&quot;&apos;&#65;&#x42;<![CDATA[&raw;]]><!-- &c; --></x>"));
    CHECK(soapns::element_text(soapns::child_element(fine.body(), "", "x")) == "&<>\"'AB&raw;");
  }

  TEST_CASE("soap: size and depth are bounded") {
    std::string big =
        envelope_around("<x>" + std::string(soapns::soap_document::max_bytes, 'a') + "</x>");
    CHECK(refusal(big).find("larger than 4 MiB") != std::string::npos);
    std::string deep;
    for (int i = 0; i < 100; ++i) deep += "<d>";
    for (int i = 0; i < 100; ++i) deep += "</d>";
    CHECK(refusal(envelope_around(deep)).find("deeper") != std::string::npos);
    std::string fine;
    for (int i = 0; i < 40; ++i) fine += "<d>";
    for (int i = 0; i < 40; ++i) fine += "</d>";
    soapns::soap_document ok(envelope_around(fine));
    CHECK(soapns::find_element(ok.body(), "", "d"));
    // Element and attribute counts bound the namespace lookups.
    std::string many;
    for (std::size_t i = 0; i <= soapns::soap_document::max_elements; ++i) many += "<m/>";
    CHECK(refusal(envelope_around(many)).find("more than 100000 elements") != std::string::npos);
    std::string wide = "<w";
    for (std::size_t i = 0; i <= soapns::soap_document::max_attributes; ++i)
      wide += " a" + std::to_string(i) + "=\"\"";
    CHECK(refusal(envelope_around(wide + "/>")).find("attributes") != std::string::npos);
    // Namespaces 1.0: no prefix bound to "", no element in the xmlns prefix.
    refusal(envelope_around("<x xmlns:p=\"\"/>"));
    refusal(envelope_around("<xmlns:x xmlns:x=\"urn:x\"/>"));
    // A prefix is in scope below its declaration only.
    refusal(envelope_around("<a xmlns:p=\"urn:p\"/><p:b/>"));
    soapns::soap_document scoped(envelope_around("<a xmlns:p=\"urn:p\"><p:b/></a>"));
    CHECK(soapns::find_element(scoped.body(), "urn:p", "b"));
  }
  TEST_CASE("soap: [MS-XCEP] GetPolicies asks for everything") {
    soapns::envelope headers{
        .action = std::string(xcepns::action_get_policies),
        .message_id = "urn:uuid:00000000-0000-4000-8000-000000000000",
        .to = "https://ca.example.test/ADPolicyProvider_CEP_UsernamePassword/service.svc/CEP"};
    auto text = soapns::write_envelope(headers, xcepns::build_get_policies());
    CHECK(text.find(
              "<GetPolicies "
              "xmlns=\"http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy\">"
              "<client><lastUpdate xsi:nil=\"true\"/><preferredLanguage xsi:nil=\"true\"/></client>"
              "<requestFilter xsi:nil=\"true\"/></GetPolicies>") != std::string::npos);
    soapns::soap_document doc(text);
    auto get = soapns::child_element(doc.body(), xcepns::ns_policy, "GetPolicies");
    auto client = soapns::child_element(get, xcepns::ns_policy, "client");
    CHECK(soapns::is_nil(soapns::child_element(client, xcepns::ns_policy, "lastUpdate")));
    CHECK(soapns::is_nil(soapns::child_element(get, xcepns::ns_policy, "requestFilter")));
  }

  TEST_CASE("soap: [MS-XCEP] GetPoliciesResponse: templates by cn and OID, CAs by URI") {
    soapns::soap_document doc(policies_answer);
    CHECK_FALSE(wstepns::read_token_response(doc));
    auto p = xcepns::read_get_policies_response(doc);
    REQUIRE(p);
    CHECK(p->policy_id == "{5A4A2C4B-0000-4000-8000-000000000001}");
    CHECK(p->friendly_name == "Active Directory Enrollment Policy");
    CHECK_FALSE(p->not_changed);
    REQUIRE(p->templates.size() == 2);
    auto agent = p->find_template("MachineEnrollmentAgent");
    REQUIRE(agent);
    CHECK(agent->oid == "1.3.6.1.4.1.311.21.8.1.2.3");
    CHECK(agent->oid_default_name == "Enrollment Agent (Computer)");
    CHECK(agent->enroll);
    CHECK_FALSE(agent->auto_enroll);
    CHECK(agent->ra_signatures == 0);  // nil rARequirements
    CHECK(agent->minimal_key_length == 2048);
    CHECK(agent->ca_references == std::vector<std::int32_t>{0});
    auto user = p->find_template("OnBehalfUser");
    REQUIRE(user);
    CHECK_FALSE(user->enroll);
    CHECK(user->auto_enroll);
    CHECK(user->ra_signatures == 1);
    CHECK(user->ca_references == std::vector<std::int32_t>{0, 1});
    CHECK_FALSE(p->find_template("WebServer"));
    REQUIRE(p->cas.size() == 2);
    auto ca = p->find_ca(0);
    REQUIRE(ca);
    CHECK(ca->enroll_permission);
    CHECK(ca->certificate == cbcs::crypto::bytes{0x30, 0x82, 0x01, 0x00});
    REQUIRE(ca->uris.size() == 2);
    CHECK(ca->uris[0].authentication ==
          static_cast<std::uint32_t>(xcepns::client_authentication::username_password));
    CHECK(ca->uris[0].uri ==
          "https://ca.example.test/Example-CA_CES_UsernamePassword/service.svc/CES");
    CHECK(ca->uris[0].priority == 1u);
    CHECK_FALSE(ca->uris[0].renewal_only);
    CHECK(ca->uris[1].authentication == 8);
    CHECK_FALSE(ca->uris[1].priority);
    CHECK(ca->uris[1].renewal_only);
    CHECK_FALSE(p->find_ca(1)->enroll_permission);
    CHECK_FALSE(p->find_ca(7));

    for (auto [from, to] : {std::pair{"<commonName>OnBehalfUser", "<commonName>"},
                            {"<policyOIDReference>4", "<policyOIDReference>44"},
                            {"<enroll>0", "<enroll>no"},
                            {"<minimalKeyLength>3072", "<minimalKeyLength>-1"},
                            {"<cAReferenceID>1", "<cAReferenceID>x"},
                            {"<certificate>MAA=", "<certificate>M@A="}}) {
      std::string bad(policies_answer);
      bad.replace(bad.find(from), std::string_view(from).size(), to);
      soapns::soap_document bad_doc(bad);
      CHECK_THROWS_AS(xcepns::read_get_policies_response(bad_doc), soapns::soap_error);
    }
  }
}

}  // namespace soap_test
