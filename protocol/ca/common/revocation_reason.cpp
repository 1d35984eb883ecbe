#include "protocol/ca/common/revocation_reason.hpp"

#include <array>
#include <utility>

#include "protocol/common/text.hpp"

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

mapped_reason map_revocation_reason(std::string_view name, std::span<const reason_word> table,
                                    std::string_view ca_title) {
  std::optional<int> code;
  if (name.empty()) code = 0;
  for (const auto& [n, c] : reasons)
    if (iequals(n, name)) code = c;
  if (!code)
    return {{},
            "unknown revocation reason '" + one_line(name, 64) +
                "' (expected an RFC 5280 name such as keyCompromise)"};
  std::string accepted;
  for (const auto& entry : table) {
    if (entry.code == *code) return {entry.word, {}};
    for (const auto& [n, c] : reasons)
      if (c == entry.code) accepted += (accepted.empty() ? "" : ", ") + std::string(n);
  }
  std::string_view rfc_name;
  for (const auto& [n, c] : reasons)
    if (c == *code) rfc_name = n;
  return {{},
          std::string(ca_title) + " does not accept the revocation reason " +
              std::string(rfc_name) + "; it accepts " + accepted};
}

}  // namespace cbcs::protocol::ca
