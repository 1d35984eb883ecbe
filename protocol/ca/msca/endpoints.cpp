#include "protocol/ca/msca/endpoints.hpp"

#include <fmt/format.h>

#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::msca {

std::string_view url_auth_word(std::string_view auth) {
  if (auth == "certificate" || auth == "agent") return "Certificate";
  if (auth == "username") return "UsernamePassword";
  return "Kerberos";
}

std::string default_ces_url(std::string_view server, std::string_view ca, std::string_view auth) {
  return fmt::format("https://{}/{}_CES_{}/service.svc/CES", server, url_encode(ca),
                     url_auth_word(auth));
}

std::string default_cep_url(std::string_view server, std::string_view auth) {
  return fmt::format("https://{}/ADPolicyProvider_CEP_{}/service.svc/CEP", server,
                     url_auth_word(auth));
}

}  // namespace cbcs::protocol::ca::msca
