#include "protocol/ca/acmpca/acmpca_type.hpp"

#include <algorithm>
#include <cctype>

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

}  // namespace

const backend_type& type() {
  static const backend_type t{.name = "acmpca",
                              .title = "AWS Private CA",
                              .options = {
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
                              }};
  return t;
}

}  // namespace cbcs::protocol::ca::acmpca
