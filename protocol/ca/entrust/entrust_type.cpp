#include "protocol/ca/entrust/entrust_type.hpp"

#include "protocol/ca/common/option_checks.hpp"
#include "protocol/ca/entrust/entrust_driver.hpp"

namespace cbcs::protocol::ca::entrust {
namespace {

std::string check_api(std::string_view v) {
  return v == "ecs" || v == "cagw" ? "" : "must be ecs or cagw";
}
std::string check_renewal(std::string_view v) {
  return v == "renew" || v == "reissue" ? "" : "must be renew or reissue";
}
std::string check_revoke_reason(std::string_view v) {
  return v == "strict" || v == "map" ? "" : "must be strict or map";
}

bool is_gateway(const option_values& values) {
  auto api = values.find("api");
  return api != values.end() && api->second == "cagw";
}

// ECS authenticates with username:apikey (the client certificate belongs to
// the key, and "Basic Auth only" keys have none); the CA Gateway with the
// client certificate alone.
std::string check_combination(const option_values& values) {
  auto given = [&](std::string_view name) { return values.find(name) != values.end(); };
  if (is_gateway(values)) {
    for (std::string_view key : {"username", "apikey", "certtype", "clientid", "requestername",
                                 "requesteremail", "requesterphone"})
      if (given(key))
        return "option -" + std::string(key) +
               " does not go with -api cagw (the CA Gateway takes the client certificate only)";
    if (!given("caid")) return "missing required option -caid (with -api cagw)";
    for (std::string_view key : {"cert", "key"})
      if (!given(key))
        return "missing required option -" + std::string(key) +
               " (with -api cagw; or -pkcs12 FILE for both)";
    return {};
  }
  for (std::string_view key : {"caid", "profile"})
    if (given(key)) return "option -" + std::string(key) + " needs -api cagw";
  for (std::string_view key : {"username", "apikey"})
    if (!given(key)) return "missing required option -" + std::string(key) + " (with -api ecs)";
  if (given("cert") != given("key")) return "options -cert and -key go together";
  return {};
}

// A requester's name, email or phone: one printable line (names have spaces).
std::string check_requester_text(std::string_view value) {
  if (value.empty() || value.size() > 128) return "must be 1 to 128 characters";
  for (unsigned char c : value)
    if (c < 0x20 || c == 0x7f) return "must be one line of printable text";
  return {};
}

// PKIaaS publishes 100 requests per 10 s; ECS publishes no numbers (it
// answers 429 with Retry-After, which is honoured).
rate_limits limits_for(const option_values& options) {
  if (is_gateway(options)) return {{"", {{100, std::chrono::seconds(10), true}}}};
  return {};
}

}  // namespace

const backend_type& type() {
  static const backend_type t{
      .name = "entrust",
      .title = "Entrust Certificate Services",
      .options =
          {
              {.name = "api",
               .value_name = "ecs|cagw",
               .help = "ECS API v2 (the default; endpoint https://api.entrust.net/enterprise/v2) "
                       "or the CA Gateway (endpoint https://cagw.pkiaas.entrust.com/cagw)",
               .check = check_api},
              {.name = "username",
               .value_name = "USER",
               .help = "ECS API user name (required with -api ecs)",
               .check = check_token_text},
              {.name = "apikey",
               .kind = option_kind::secret,
               .value_name = "KEY",
               .help = "API key of that user (sealed in the vault; required with -api ecs)",
               .check = check_token_text},
              client_certificate_option(
                  "client certificate for mutual TLS, " CBCS_CLIENT_CERTIFICATE_FORMS
                  "; required with -api cagw, and with ECS keys made for certificate "
                  "authentication"),
              client_key_option("its private key: " CBCS_CLIENT_KEY_FORMS),
              {.name = "caid",
               .value_name = "ID",
               .help = "CA Gateway: the certificate authority's id (required with -api cagw)",
               .check = check_token_text},
              {.name = "profile",
               .value_name = "ID",
               .help = "CA Gateway: the enrollment profile id; a job's profile overrides it",
               .check = check_token_text},
              {.name = "certtype",
               .value_name = "TYPE",
               .help = "ECS certificate type, e.g. STANDARD_SSL (the default), ADVANTAGE_SSL, "
                       "PRIVATE_SSL; a job's profile overrides it",
               .check = check_identifier},
              {.name = "clientid",
               .value_name = "ID",
               .help = "ECS client to order for (default: the account's only approved one)",
               .check = check_positive_count},
              // Entrust requires the requester on every new order and renewal
              // (tracking.requesterName/Email/Phone: required in Entrust's
              // ansible module ecs_certificate, and in Keyfactor's ECS plugin's
              // Tracking model); not asked at backend add, so that the
              // documented command line stays valid, but an order fails naming
              // them until they are set (cbcs backend set).
              {.name = "requestername",
               .value_name = "NAME",
               .help = "ECS: the requester's name sent with each order (default: -username)",
               .check = check_requester_text},
              {.name = "requesteremail",
               .value_name = "EMAIL",
               .help = "ECS: the requester's email sent with each order (Entrust requires it)",
               .check = check_requester_text},
              {.name = "requesterphone",
               .value_name = "PHONE",
               .help = "ECS: the requester's phone sent with each order (Entrust requires it)",
               .check = check_requester_text},
              {.name = "renewal",
               .value_name = "renew|reissue",
               .help = "ECS: renew (the default; refused by Entrust within 30 days of issuance) "
                       "or reissue (keeps the expiry; the old certificate becomes REISSUED)",
               .check = check_renewal},
              {.name = "revokereason",
               .value_name = "strict|map",
               .help = "ECS accepts keyCompromise and unspecified only: strict (the default) "
                       "refuses other reasons, map sends unspecified with the reason in the "
                       "comment",
               .check = check_revoke_reason},
          },
      .check_combination = check_combination,
      .check_all = [](const option_values& v) { return check_key_pair(v, "cert", "key"); },
      .make_driver = make_driver,
      .policy = {.limits_for = limits_for,
                 .client_identity = {.certificate = "cert", .key = "key"}}};
  return t;
}

}  // namespace cbcs::protocol::ca::entrust
