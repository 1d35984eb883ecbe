#include "protocol/ca/digicert/digicert_type.hpp"

#include "protocol/ca/common/option_checks.hpp"

namespace cbcs::protocol::ca::digicert {

const backend_type& type() {
  static const backend_type t{.name = "digicert",
                              .title = "DigiCert CertCentral",
                              .options =
                                  {
                                      {.name = "apikey",
                                       .kind = option_kind::secret,
                                       .required = true,
                                       .value_name = "KEY",
                                       .help = "CertCentral API key (sealed in the vault)",
                                       .check = check_token_text},
                                  },
                              // Per API key: 100 requests per 5 s and 1,000 per 3 min.
                              .policy = {.limits = {{"",
                                                     {{100, std::chrono::seconds(5), true},
                                                      {1000, std::chrono::minutes(3), true}}}}}};
  return t;
}

}  // namespace cbcs::protocol::ca::digicert
