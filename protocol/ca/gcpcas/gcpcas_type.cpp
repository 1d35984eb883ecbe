#include "protocol/ca/gcpcas/gcpcas_type.hpp"

#include <simdjson.h>

#include "protocol/ca/common/option_checks.hpp"
#include "protocol/ca/gcpcas/service_account.hpp"

namespace cbcs::protocol::ca::gcpcas {
namespace {

std::string check_key_file(std::string_view content) {
  try {
    parse_service_account(content);
    return {};
  } catch (const std::exception& e) {
    return std::string("is not a usable service-account key: ") + e.what();
  }
}

std::string summarize_key_file(std::string_view content) {
  auto account = parse_service_account(content);
  return "service account " + account.client_email;
}

}  // namespace

const backend_type& type() {
  static const backend_type t{
      .name = "gcpcas",
      .title = "Google Cloud Certificate Authority Service",
      .options =
          {
              {.name = "project",
               .required = true,
               .value_name = "PROJECT",
               .help = "Google Cloud project id",
               .check = check_identifier},
              {.name = "location",
               .required = true,
               .value_name = "LOCATION",
               .help = "location of the CA pools, e.g. europe-west1",
               .check = check_identifier},
              {.name = "key",
               .kind = option_kind::secret_file,
               .required = true,
               .value_name = "FILE",
               .help = "service-account key (.json) (read, checked and sealed; the file may be "
                       "deleted afterwards)",
               .check = check_key_file,
               .summary = summarize_key_file},
          },
      // Enterprise pools: 7 certificate creates per second per CA.
      .policy = {.limits = {{"", {{7}}}}}};
  return t;
}

}  // namespace cbcs::protocol::ca::gcpcas
