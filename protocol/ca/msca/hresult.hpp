#pragma once
// The HRESULTs AD CS answers with (a CES fault's ErrorCode, DCOM's
// GetLastStatus): the symbolic name and Microsoft's words, so a failure says
// "CERTSRV_E_TEMPLATE_DENIED (0x80094012): ..." rather than a number, and
// the error class the connector treats it as. Values from winerror.h.

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/ca/driver.hpp"

namespace cbcs::protocol::ca::msca {

struct hresult_info {
  std::uint32_t code;
  std::string_view name;     // "CERTSRV_E_TEMPLATE_DENIED"
  std::string_view meaning;  // Microsoft's message, shortened
  error_class treat_as;
};

// nullptr for a code not in the table (it is still shown in hex).
const hresult_info* find_hresult(std::uint32_t code);

// "CERTSRV_E_TEMPLATE_DENIED (0x80094012): the template's permissions do not
// allow this account to enroll"; an unknown code: "HRESULT 0x80091234".
std::string describe_hresult(std::uint32_t code);

// How the connector treats a refusal with this code: a CA that said no is
// `rejected`, a server that cannot now is `unavailable`, an identity it
// refuses is `auth`; an unknown code is `rejected` (never retried blindly).
error_class class_of_hresult(std::uint32_t code);

// A CES fault's ErrorCode is the HRESULT as a signed decimal int
// ("-2146875374"); also takes "0x80094012". false when it is neither.
bool parse_hresult(std::string_view text, std::uint32_t& code);

}  // namespace cbcs::protocol::ca::msca
