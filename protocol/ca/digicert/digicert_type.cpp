#include "protocol/ca/digicert/digicert_type.hpp"

#include "protocol/ca/common/option_checks.hpp"

namespace cbcs::protocol::ca::digicert {

const backend_type& type() {
  static const backend_type t{.name = "digicert",
                              .title = "DigiCert CertCentral",
                              .options = {
                                  {.name = "apikey",
                                   .kind = option_kind::secret,
                                   .required = true,
                                   .value_name = "KEY",
                                   .help = "CertCentral API key (sealed in the vault)",
                                   .check = check_token_text},
                              }};
  return t;
}

}  // namespace cbcs::protocol::ca::digicert
