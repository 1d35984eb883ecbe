#pragma once
// Entrust Certificate Services' crlReason accepts keyCompromise and
// unspecified only; any other reason is refused here, before a request.
// The CA Gateway's RevokeAction takes the RFC 5280 names of the reasons a
// CA may revoke for (certificateHold is its HoldAction, not a reason).

#include <array>

#include "protocol/ca/common/revocation_reason.hpp"

namespace cbcs::protocol::ca::entrust {

inline constexpr std::array<reason_word, 2> revocation_reasons{{
    {0, "unspecified"},
    {1, "keyCompromise"},
}};

inline constexpr std::array<reason_word, 6> gateway_revocation_reasons{{
    {0, "unspecified"},
    {1, "keyCompromise"},
    {2, "caCompromise"},
    {3, "affiliationChanged"},
    {4, "superseded"},
    {5, "cessationOfOperation"},
}};

}  // namespace cbcs::protocol::ca::entrust
