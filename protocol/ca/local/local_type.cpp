#include "protocol/ca/local/local_type.hpp"

#include "crypto/certificate_authority.hpp"
#include "protocol/ca/common/option_checks.hpp"
#include "protocol/ca/local/local_driver.hpp"

namespace cbcs::protocol::ca::local {
namespace {

std::string check_algorithm(std::string_view v) {
  return crypto::is_supported_key_algorithm(v)
             ? std::string{}
             : "must be one of ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096";
}

std::string check_ca_name(std::string_view v) {
  if (v.empty() || v.size() > 64) return "must be 1 to 64 characters";
  for (unsigned char c : v)
    if (c < 0x20 || c == 0x7f) return "must hold no control characters";
  return {};
}

}  // namespace

const backend_type& type() {
  static const backend_type t{
      .name = "local",
      .title = "built-in local CA (OpenSSL, kept in the data directory)",
      .options =
          {
              {.name = "key-algorithm",
               .value_name = "ALG",
               .help = "CA key: ecdsa-p256 (default), ecdsa-p384, rsa-2048, rsa-3072, rsa-4096",
               .check = check_algorithm},
              {.name = "ca-name",
               .value_name = "CN",
               .help = "common name of the CA certificate (default \"cbcs local CA\")",
               .check = check_ca_name},
              {.name = "workers",
               .value_name = "N",
               .help = "actors that sign at once (default: one per CPU core, at most 8)",
               .check = check_positive_count},
              {.name = "ca_key",
               .kind = option_kind::secret,
               .help = "the CA's private key, generated at backend add",
               .summary = summarize_private_key,
               .generated = true},
              {.name = "ca_cert",
               .kind = option_kind::pem_file,
               .help = "the CA's certificate, generated at backend add",
               .summary = summarize_certificates,
               .generated = true},
          },
      .make_driver = make_driver,
      .provision = provision,
      .policy = {.computes = true, .remote = false}};
  return t;
}

}  // namespace cbcs::protocol::ca::local
