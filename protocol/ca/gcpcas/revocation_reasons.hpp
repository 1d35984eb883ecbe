#pragma once
// CA Service's RevocationReason (privateca v1): its enum numbers follow
// RFC 5280 up to 6, then differ (PRIVILEGE_WITHDRAWN is 7, RFC 9;
// ATTRIBUTE_AUTHORITY_COMPROMISE 8, RFC 10), so the map goes by RFC code to
// GCP's name. removeFromCRL (RFC 8) has no counterpart and is refused.

#include <array>

#include "protocol/ca/common/revocation_reason.hpp"

namespace cbcs::protocol::ca::gcpcas {

inline constexpr std::array<reason_word, 9> revocation_reasons{{
    {0, "REVOCATION_REASON_UNSPECIFIED"},
    {1, "KEY_COMPROMISE"},
    {2, "CERTIFICATE_AUTHORITY_COMPROMISE"},
    {3, "AFFILIATION_CHANGED"},
    {4, "SUPERSEDED"},
    {5, "CESSATION_OF_OPERATION"},
    {6, "CERTIFICATE_HOLD"},
    {9, "PRIVILEGE_WITHDRAWN"},
    {10, "ATTRIBUTE_AUTHORITY_COMPROMISE"},
}};

}  // namespace cbcs::protocol::ca::gcpcas
