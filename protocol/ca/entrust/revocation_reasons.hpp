#pragma once
// Entrust Certificate Services' crlReason accepts keyCompromise and
// unspecified only; any other reason is refused here, before a request.

#include <array>

#include "protocol/ca/common/revocation_reason.hpp"

namespace cbcs::protocol::ca::entrust {

inline constexpr std::array<reason_word, 2> revocation_reasons{{
    {0, "unspecified"},
    {1, "keyCompromise"},
}};

}  // namespace cbcs::protocol::ca::entrust
