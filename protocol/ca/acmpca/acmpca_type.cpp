#include "protocol/ca/acmpca/acmpca_type.hpp"

#include "protocol/ca/acmpca/acmpca_api.hpp"
#include "protocol/ca/acmpca/acmpca_driver.hpp"
#include "protocol/ca/common/option_checks.hpp"

namespace cbcs::protocol::ca::acmpca {
namespace {

std::string check_access_key_id(std::string_view v) {
  return is_access_key_id(v) ? std::string{}
                             : "must be an AWS access key id (16 to 128 of A-Z and 0-9)";
}

std::string check_true_false(std::string_view v) {
  return v == "true" || v == "false" ? std::string{} : "must be true or false";
}

std::string check_credentials(std::string_view v) {
  return v == "static" || v == "instance" ? std::string{} : "must be static or instance";
}

// The metadata service is plain http on a link-local address; anything else
// is a loopback simulator. Only an authority: the paths are the service's.
std::string check_imds_endpoint(std::string_view v) {
  constexpr std::string_view problem =
      "must be http://169.254.169.254, http://[fd00:ec2::254] or a loopback simulator's "
      "http://127.0.0.1:PORT, without a path";
  if (!v.starts_with("http://")) return std::string(problem);
  auto authority = v.substr(7);
  if (authority.ends_with('/')) authority.remove_suffix(1);
  if (authority.empty() || authority.find_first_of("/?#@") != std::string_view::npos)
    return std::string(problem);
  for (std::string_view known :
       {"169.254.169.254", "169.254.169.254:80", "[fd00:ec2::254]", "[fd00:ec2::254]:80"})
    if (authority == known) return {};
  return check_https_url(v).empty() ? std::string{} : std::string(problem);
}

// Static keys, or the instance role's: never both, never neither.
std::string check_combination(const option_values& values) {
  auto given = [&](std::string_view name) { return values.find(name) != values.end(); };
  auto source = values.find("credentials");
  if (source != values.end() && source->second == "instance") {
    for (std::string_view key : {"accesskeyid", "secretaccesskey", "sessiontoken"})
      if (given(key))
        return "option -" + std::string(key) +
               " does not go with -credentials instance (the keys come from the instance's "
               "IAM role)";
    return {};
  }
  if (given("imds_endpoint")) return "option -imds_endpoint needs -credentials instance";
  for (std::string_view key : {"accesskeyid", "secretaccesskey"})
    if (!given(key))
      return "missing required option -" + std::string(key) +
             " (or -credentials instance on an EC2 instance with an IAM role)";
  return {};
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
               .value_name = "ID",
               .help = "AWS access key id of an IAM user allowed acm-pca:* "
                       "(required unless -credentials instance)",
               .check = check_access_key_id},
              {.name = "secretaccesskey",
               .kind = option_kind::secret,
               .value_name = "KEY",
               .help = "the access key's secret (sealed in the vault; "
                       "required unless -credentials instance)",
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
              {.name = "credentials",
               .value_name = "static|instance",
               .help = "static: the keys above (default); instance: the keys of the EC2 "
                       "instance's IAM role, from instance metadata (IMDSv2), nothing sealed",
               .check = check_credentials},
              {.name = "imds_endpoint",
               .value_name = "URL",
               .help = "instance metadata service (default http://169.254.169.254)",
               .check = check_imds_endpoint},
              {.name = "ca_arn",
               .value_name = "ARN",
               .help = "ARN of the private CA that jobs without a ca_arn "
                       "parameter use",
               .check = check_arn},
          },
      .check_combination = check_combination,
      .make_driver = make_driver,
      // The published quotas per account and region. 16 jobs at once: AWS
      // issues ~25 certificates/s and a job holds its slot for an issue and a
      // get (~0.1-0.3 s each), so 16 cover 25-80 jobs/s; more only queue at
      // AWS (against moto, 32 cost 5-10 % more wall time and CPU than 16).
      .policy = {.limits = {{"issue", {{25}}}, {"get", {{75}}}, {"revoke", {{20}}}, {"", {{20}}}},
                 .max_in_flight = 16}};
  return t;
}

}  // namespace cbcs::protocol::ca::acmpca
