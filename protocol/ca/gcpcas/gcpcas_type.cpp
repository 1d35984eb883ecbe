#include "protocol/ca/gcpcas/gcpcas_type.hpp"

#include <simdjson.h>

#include "protocol/ca/common/option_checks.hpp"
#include "protocol/ca/gcpcas/gcpcas_driver.hpp"
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

std::string check_tier(std::string_view value) {
  if (value == "enterprise" || value == "devops") return {};
  return "must be enterprise or devops";
}

// A template: its id, or its full name projects/P/locations/L/certificateTemplates/T.
std::string check_template(std::string_view value) {
  auto id = value.substr(value.rfind('/') == std::string_view::npos ? 0 : value.rfind('/') + 1);
  if (value.find('/') != std::string_view::npos &&
      value.find("/certificateTemplates/") == std::string_view::npos)
    return "must be a template id or projects/P/locations/L/certificateTemplates/T";
  return check_identifier(id);
}

// Published quotas: 7 certificate creates per second per CA on Enterprise
// pools, 25 on DevOps pools.
rate_limits limits_for(const option_values& options) {
  auto tier = options.find("tier");
  double creates = tier != options.end() && tier->second == "devops" ? 25 : 7;
  return {{"create", {{creates}}}};
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
              {.name = "pool",
               .value_name = "POOL",
               .help = "CA pool id (default: the location's only pool; a job's profile may "
                       "name another as pool:NAME)",
               .check = check_identifier},
              {.name = "ca",
               .value_name = "CA",
               .help = "CA id inside the pool to issue from (default: CA Service picks one)",
               .check = check_identifier},
              {.name = "template",
               .value_name = "TEMPLATE",
               .help = "certificate template id or full name (a job's profile may name "
                       "another as template:NAME or just NAME)",
               .check = check_template},
              {.name = "tier",
               .value_name = "TIER",
               .help = "the pool's tier, enterprise or devops (default: learnt from the pool; "
                       "sets the create quota, 7/s or 25/s; DevOps pools keep no certificates, "
                       "so cannot revoke)",
               .check = check_tier},
          },
      .make_driver = make_driver,
      .policy = {.limits = {{"create", {{7}}}}, .limits_for = limits_for}};
  return t;
}

}  // namespace cbcs::protocol::ca::gcpcas
