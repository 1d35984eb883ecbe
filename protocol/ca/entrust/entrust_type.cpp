#include "protocol/ca/entrust/entrust_type.hpp"

#include "crypto/pem.hpp"
#include "protocol/ca/common/option_checks.hpp"

namespace cbcs::protocol::ca::entrust {
namespace {

std::string check_pair(const option_values& values) {
  auto cert = values.find("cert");
  auto key = values.find("key");
  if (cert == values.end() || key == values.end()) return {};
  auto certs = crypto::parse_certificates(cert->second);
  auto pkey = crypto::parse_private_key(key->second);
  if (!crypto::key_matches_certificate(pkey.get(), certs.front().get()))
    return "option -key: the private key does not belong to the certificate given with -cert";
  return {};
}

}  // namespace

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
      .check_all = check_pair,
      .policy = {.client_identity = {.certificate = "cert", .key = "key"}}};
  return t;
}

}  // namespace cbcs::protocol::ca::entrust
