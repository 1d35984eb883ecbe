#pragma once
// The revocation reasons CertCentral takes in a revoke request
// (`revocation_reason`): the five a subscriber may give under the CA/B
// Forum's rules. The others (certificateHold, cACompromise, ...) are
// refused before any request goes out.
//
// dev.digicert.com, "Revoke order certificates" / "Revoke certificate",
// request parameters: "revocation_reason ... Allowed values: unspecified,
// keyCompromise, affiliationChanged, superseded, cessationOfOperation"
// (default unspecified). The snake_case words (key_compromise, ...) are
// DigiCert ONE's IoT API; CertCentral refuses them.

#include <array>

#include "protocol/ca/common/revocation_reason.hpp"

namespace cbcs::protocol::ca::digicert {

inline constexpr std::array<reason_word, 5> revocation_reasons{{
    {0, "unspecified"},
    {1, "keyCompromise"},
    {3, "affiliationChanged"},
    {4, "superseded"},
    {5, "cessationOfOperation"},
}};

}  // namespace cbcs::protocol::ca::digicert
