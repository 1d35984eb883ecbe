#include "protocol/ca/entrust/entrust_type.hpp"

#include "protocol/ca/common/option_checks.hpp"

namespace cbcs::protocol::ca::entrust {
const backend_type& type() {
  static const backend_type t{
      .name = "entrust",
      .title = "Entrust Certificate Services",
      .options =
          {
              {.name = "username",
               .required = true,
               .value_name = "USER",
               .help = "API user name",
               .check = check_token_text},
              {.name = "apikey",
               .kind = option_kind::secret,
               .required = true,
               .value_name = "KEY",
               .help = "API key of that user (sealed in the vault)",
               .check = check_token_text},
              {.name = "cert",
               .kind = option_kind::secret_file,
               .required = true,
               .value_name = "FILE",
               .help = "PEM client certificate for mutual TLS (read and sealed; "
                       "the file may be deleted afterwards)",
               .check = check_pem_certificates,
               .summary = summarize_certificates},
              {.name = "key",
               .kind = option_kind::secret_file,
               .required = true,
               .value_name = "FILE",
               .help = "PEM private key of that certificate (read, checked against -cert "
                       "and sealed; the file may be deleted afterwards)",
               .check = check_private_key,
               .summary = summarize_private_key},
          },
      .check_all = [](const option_values& v) { return check_key_pair(v, "cert", "key"); },
      .policy = {.client_identity = {.certificate = "cert", .key = "key"}}};
  return t;
}

}  // namespace cbcs::protocol::ca::entrust
