#pragma once
// The revocation reasons CertCentral takes in a revoke request
// (`revocation_reason`): the five a subscriber may give under the CA/B
// Forum's rules. The others (certificateHold, cACompromise, ...) are
// refused before any request goes out.

#include <array>

#include "protocol/ca/common/revocation_reason.hpp"

namespace cbcs::protocol::ca::digicert {

inline constexpr std::array<reason_word, 5> revocation_reasons{{
    {0, "unspecified"},
    {1, "key_compromise"},
    {3, "affiliation_changed"},
    {4, "superseded"},
    {5, "cessation_of_operation"},
}};

}  // namespace cbcs::protocol::ca::digicert
