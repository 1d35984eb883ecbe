#include "protocol/ca/digicert/digicert_type.hpp"

#include "protocol/ca/common/option_checks.hpp"
#include "protocol/ca/digicert/digicert_driver.hpp"

namespace cbcs::protocol::ca::digicert {
namespace {

std::string check_region(std::string_view v) {
  return v == "us" || v == "eu" ? "" : "must be us or eu";
}
std::string check_renewal(std::string_view v) {
  return v == "reissue" || v == "renew" ? "" : "must be reissue or renew";
}
std::string check_revoke(std::string_view v) {
  return v == "certificate" || v == "order" ? "" : "must be certificate or order";
}

}  // namespace

const backend_type& type() {
  static const backend_type t{
      .name = "digicert",
      .title = "DigiCert CertCentral",
      .options =
          {
              {.name = "apikey",
               .kind = option_kind::secret,
               .required = true,
               .value_name = "KEY",
               .help = "CertCentral API key (sealed in the vault)",
               .check = check_token_text},
              {.name = "region",
               .value_name = "us|eu",
               .help = "CertCentral's US (www.digicert.com, the default) or EU "
                       "(certcentral.digicert.eu) service",
               .check = check_region},
              {.name = "orgid",
               .value_name = "ID",
               .help = "organization to order for (default: the account's only active, validated "
                       "one)",
               .check = check_positive_count},
              {.name = "product",
               .value_name = "PRODUCT",
               .help = "product name id, e.g. ssl_plus (the default), ssl_multi_domain, "
                       "private_ssl_plus; a job's profile overrides it",
               .check = check_identifier},
              {.name = "skipapproval",
               .value_name = "true|false",
               .help = "ask CertCentral to skip the approval step (default false)",
               .check = check_flag},
              {.name = "autoapprove",
               .value_name = "true|false",
               .help = "approve our own pending requests when the key's user may (default false)",
               .check = check_flag},
              {.name = "renewal",
               .value_name = "reissue|renew",
               .help = "renew by reissuing the order (the default) or by a new order that "
                       "renews it",
               .check = check_renewal},
              {.name = "revoke",
               .value_name = "certificate|order",
               .help = "revoke only the certificate (the default) or its whole order",
               .check = check_revoke},
              {.name = "poll",
               .value_name = "DURATION",
               .help = "how often a waiting order is asked about (default 1m)",
               .check = check_duration},
          },
      .make_driver = make_driver,
      // Per API key: 100 requests per 5 s and 1,000 per 3 min.
      .policy = {.limits = {{"",
                             {{100, std::chrono::seconds(5), true},
                              {1000, std::chrono::minutes(3), true}}}}}};
  return t;
}

}  // namespace cbcs::protocol::ca::digicert
