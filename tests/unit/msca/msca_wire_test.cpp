// AD CS's small wire facts: HRESULTs named as Microsoft names them (a CES
// fault's ErrorCode is the signed decimal), and the CES/CEP URLs derived
// from -server, -ca and -auth as Microsoft's installers publish them.

#include <doctest/doctest.h>

#include "protocol/ca/msca/endpoints.hpp"
#include "protocol/ca/msca/hresult.hpp"

namespace msca_wire = cbcs::protocol::ca::msca;
using cbcs::protocol::ca::error_class;

TEST_SUITE("msca wire") {
  TEST_CASE("a CES fault's ErrorCode reads as the HRESULT it is") {
    std::uint32_t code = 0;
    // -2146875374 is 0x80094812 (CERTSRV_E_SUBJECT_EMAIL_REQUIRED), as CA
    // event logs print both.
    REQUIRE(msca_wire::parse_hresult("-2146875374", code));
    CHECK(code == 0x80094812u);
    REQUIRE(msca_wire::parse_hresult("0x8009480B", code));
    CHECK(code == 0x8009480Bu);
    REQUIRE(msca_wire::parse_hresult("0", code));
    CHECK(code == 0u);
    for (auto bad : {"", "0x", "abc", "-", "0x123456789", "99999999999", "-2147483649", "12 "})
      CHECK_FALSE(msca_wire::parse_hresult(bad, code));
  }

  TEST_CASE("a refusal names the HRESULT and says what it means") {
    auto text = msca_wire::describe_hresult(0x80094012);
    CHECK(text.find("CERTSRV_E_TEMPLATE_DENIED (0x80094012)") == 0);
    CHECK(text.find("permissions") != std::string::npos);
    CHECK(msca_wire::describe_hresult(0x80091234) == "HRESULT 0x80091234");
    CHECK(msca_wire::class_of_hresult(0x80094012) == error_class::auth);
    CHECK(msca_wire::class_of_hresult(0x80094014) == error_class::rejected);  // a manager denied
    CHECK(msca_wire::class_of_hresult(0x800706BA) == error_class::unavailable);
    CHECK(msca_wire::class_of_hresult(0x80091234) == error_class::rejected);  // never retried blindly
    CHECK(msca_wire::describe_hresult(0x8009480B).find("CERTSRV_E_SIGNATURE_REJECTED") == 0);
    CHECK(msca_wire::describe_hresult(0x80094809).find("CERTSRV_E_SIGNATURE_POLICY_REQUIRED") == 0);
  }

  TEST_CASE("CES and CEP URLs, one pair per authentication") {
    CHECK(msca_wire::default_ces_url("ca01.corp.example", "Corp Issuing CA 1", "kerberos") ==
          "https://ca01.corp.example/Corp%20Issuing%20CA%201_CES_Kerberos/service.svc/CES");
    CHECK(msca_wire::default_ces_url("ca01", "local-SectigoTestCA-CA", "certificate") ==
          "https://ca01/local-SectigoTestCA-CA_CES_Certificate/service.svc/CES");
    CHECK(msca_wire::default_cep_url("ca01", "username") ==
          "https://ca01/ADPolicyProvider_CEP_UsernamePassword/service.svc/CEP");
  }
}
