#include "protocol/ca/common/revocation_reason.hpp"

#include <array>
#include <utility>

namespace cbcs::protocol::ca {
namespace {

constexpr std::array<std::pair<std::string_view, int>, 10> reasons{{
    {"unspecified", 0},
    {"keyCompromise", 1},
    {"cACompromise", 2},
    {"affiliationChanged", 3},
    {"superseded", 4},
    {"cessationOfOperation", 5},
    {"certificateHold", 6},
    {"removeFromCRL", 8},
    {"privilegeWithdrawn", 9},
    {"aACompromise", 10},
}};

}  // namespace

std::optional<int> revocation_reason_code(std::string_view name) {
  if (name.empty()) return 0;
  for (const auto& [n, code] : reasons)
    if (n == name) return code;
  return std::nullopt;
}

std::string_view revocation_reason_names() {
  return "unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, "
         "cessationOfOperation, certificateHold, removeFromCRL, privilegeWithdrawn, aACompromise";
}

}  // namespace cbcs::protocol::ca
