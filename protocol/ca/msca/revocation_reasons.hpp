#pragma once
// ICertAdmin::RevokeCertificate takes the RFC 5280 codes themselves (0-6 and
// 8: removeFromCRL takes a certificate off hold); AD CS documents no
// privilegeWithdrawn or aACompromise, so those are refused.

#include <array>

#include "protocol/ca/common/revocation_reason.hpp"

namespace cbcs::protocol::ca::msca {

inline constexpr std::array<reason_word, 8> revocation_reasons{{
    {0, "0"},
    {1, "1"},
    {2, "2"},
    {3, "3"},
    {4, "4"},
    {5, "5"},
    {6, "6"},
    {8, "8"},
}};

}  // namespace cbcs::protocol::ca::msca
