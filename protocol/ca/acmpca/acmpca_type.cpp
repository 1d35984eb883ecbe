#include "protocol/ca/acmpca/acmpca_type.hpp"

#include <algorithm>
#include <cctype>

#include "protocol/ca/acmpca/acmpca_driver.hpp"
#include "protocol/ca/common/option_checks.hpp"

namespace cbcs::protocol::ca::acmpca {
namespace {

std::string check_access_key_id(std::string_view v) {
  // AWS documents 16 to 128 characters of [A-Z0-9] (AKIA..., ASIA...).
  bool ok = v.size() >= 16 && v.size() <= 128 &&
            std::all_of(v.begin(), v.end(),
                        [](unsigned char c) { return std::isupper(c) || std::isdigit(c); });
  return ok ? std::string{} : "must be an AWS access key id (16 to 128 of A-Z and 0-9)";
}

std::string check_true_false(std::string_view v) {
  return v == "true" || v == "false" ? std::string{} : "must be true or false";
}

std::string check_arn(std::string_view v) {
  if (!v.starts_with("arn:")) return "must be an ARN (arn:aws:acm-pca:REGION:ACCOUNT:...)";
  return check_token_text(v);
}

}  // namespace

const backend_type& type() {
  static const backend_type t{
      .name = "acmpca",
      .title = "AWS Private CA",
      .options =
          {
              {.name = "accesskeyid",
               .required = true,
               .value_name = "ID",
               .help = "AWS access key id of an IAM user allowed acm-pca:*",
               .check = check_access_key_id},
              {.name = "secretaccesskey",
               .kind = option_kind::secret,
               .required = true,
               .value_name = "KEY",
               .help = "the access key's secret (sealed in the vault)",
               .check = check_token_text},
              {.name = "region",
               .required = true,
               .value_name = "REGION",
               .help = "AWS region of the private CAs, e.g. eu-west-1",
               .check = check_identifier},
              {.name = "sessiontoken",
               .kind = option_kind::secret,
               .value_name = "TOKEN",
               .help = "STS session token, with temporary credentials "
                       "(sealed in the vault)",
               .check = check_token_text},
              {.name = "fips",
               .value_name = "true|false",
               .help = "use the FIPS endpoint acm-pca-fips.REGION.amazonaws.com",
               .check = check_true_false},
              {.name = "ca_arn",
               .value_name = "ARN",
               .help = "ARN of the private CA that jobs without a ca_arn "
                       "parameter use",
               .check = check_arn},
          },
      .make_driver = make_driver};
  return t;
}

}  // namespace cbcs::protocol::ca::acmpca
