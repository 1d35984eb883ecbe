#include "protocol/ca/registry.hpp"

#include <array>
#include <vector>

#include <fmt/format.h>

#include "protocol/ca/acmpca/acmpca_type.hpp"
#include "protocol/ca/common/option_checks.hpp"
#include "protocol/ca/digicert/digicert_type.hpp"
#include "protocol/ca/entrust/entrust_type.hpp"
#include "protocol/ca/gcpcas/gcpcas_type.hpp"
#include "protocol/ca/local/local_type.hpp"
#include "protocol/ca/msca/msca_type.hpp"

namespace cbcs::protocol::ca {

namespace {

std::vector<const backend_type*>& registry() {
  // One line per backend type.
  static std::vector<const backend_type*> types{
      &acmpca::type(),  //
      &digicert::type(), &entrust::type(), &gcpcas::type(), &msca::type(), &local::type(),
  };
  return types;
}

}  // namespace

std::span<const backend_type* const> backend_types() { return registry(); }

void add_backend_type(const backend_type& type) { registry().push_back(&type); }

void remove_backend_type(const backend_type& type) { std::erase(registry(), &type); }

const backend_type* find_backend_type(std::string_view name) {
  for (auto* t : backend_types())
    if (t->name == name) return t;
  return nullptr;
}

std::span<const option_spec> common_options() {
  static const std::array<option_spec, 7> options{{
      {.name = "endpoint",
       .value_name = "URL",
       .help = "override the service's base URL (simulators, private endpoints)",
       .check = check_https_url,
       .remote_only = true},
      {.name = "cacert",
       .kind = option_kind::pem_file,
       .value_name = "FILE",
       .help = "file of extra trusted root certificates for this backend (PEM, DER or PKCS#7)",
       .check = check_pem_certificates,
       .summary = summarize_certificates,
       .form = file_form::certificates,
       .remote_only = true},
      {.name = "ratelimit",
       .value_name = "LIMITS",
       .help = "requests per call class: per second (issue=25,get=75), or windows that all "
               "apply (default=100/5s+1000/3m); 'off' for none (default: the service's "
               "published quotas, see below)",
       .check = check_rate_limits},
      {.name = "maxinflight",
       .value_name = "N",
       .help = "jobs this backend works on at once (default: the type's, see below; else 256)",
       .check = check_positive_count},
      {.name = "maxconnections",
       .value_name = "N",
       .help = "connections to the CA open at once, whatever the jobs in flight; more "
               "requests wait for one to come free (default 16)",
       .check = check_positive_count,
       .remote_only = true},
      {.name = "maxpending",
       .value_name = "AGE",
       .help = "how long an order may wait at the CA (approval, queue, validation) before the "
               "job fails, e.g. 30d, 12h (default 30d; the order stays at the CA)",
       .check = check_duration,
       .remote_only = true},
      {.name = "requesttimeout",
       .value_name = "TIME",
       .help = "how long one request to the CA may take before its answer is given up, e.g. "
               "30s (default 30s; connecting takes at most 10s more). A placement whose answer "
               "was lost is looked for once this has surely passed",
       .check = check_duration,
       .remote_only = true},
  }};
  return options;
}

std::size_t max_in_flight_of(const backend_type& type) {
  return type.policy.max_in_flight > 0 ? type.policy.max_in_flight : default_max_in_flight;
}

std::string policy_summary(const backend_type& type) {
  return fmt::format("-ratelimit {} -maxinflight {}", format_rate_limits(type.policy.limits),
                     max_in_flight_of(type));
}

std::span<const option_spec> identity_input_options() {
  static const std::array<option_spec, 3> options{{
      {.name = "keypassword",
       .kind = option_kind::input_secret,
       .value_name = "-",
       .help = "the password of an encrypted -key file, read from standard input; used once "
               "to open the key, never kept"},
      {.name = "pkcs12",
       .kind = option_kind::input_file,
       .value_name = "FILE",
       .help = "a PKCS#12 file (.p12, .pfx) with the client certificate, its chain and key, in "
               "place of -cert and -key (read and sealed; the file may be deleted afterwards)"},
      {.name = "pkcs12password",
       .kind = option_kind::input_secret,
       .value_name = "-",
       .help = "the PKCS#12 file's password, read from standard input; never kept"},
  }};
  return options;
}

std::vector<option_spec> all_options(const backend_type& type) {
  std::vector<option_spec> out = type.options;
  for (const auto& opt : common_options())
    if (type.policy.remote || !opt.remote_only) out.push_back(opt);
  if (!type.policy.client_identity.empty())
    out.insert(out.end(), identity_input_options().begin(), identity_input_options().end());
  return out;
}

}  // namespace cbcs::protocol::ca
