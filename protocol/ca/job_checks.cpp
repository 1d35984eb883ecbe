#include "protocol/ca/job_checks.hpp"

#include <array>
#include <functional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "crypto/certificate_request.hpp"
#include "crypto/pem.hpp"

namespace cbcs::protocol::ca {
namespace {

// Any PEM private key (PKCS#8, encrypted PKCS#8, RSA, EC, OpenSSH ...) has
// this in its armour line, whatever precedes it.
bool holds_private_key(std::string_view text) {
  return text.find("PRIVATE KEY-----") != std::string_view::npos;
}

bool printable_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id)
    if (c <= ' ' || c > '~') return false;
  return true;
}

}  // namespace

std::optional<std::string> refuse_job_inputs(const job& j) {
  // The secret check comes first: a key must not even be quoted in an error.
  std::array<std::pair<std::string_view, const std::string*>, 7> fields{{
      {"id", &j.id},
      {"backend", &j.backend},
      {"CSR", &j.csr_pem},
      {"certificate", &j.cert_pem},
      {"serial", &j.serial_hex},
      {"reason", &j.reason},
      {"profile", &j.profile},
  }};
  for (const auto& [name, value] : fields)
    if (holds_private_key(*value))
      return fmt::format("the job's {} holds a private key; refused and not stored", name);
  for (const auto& [key, value] : j.params)
    if (holds_private_key(key) || holds_private_key(value))
      return std::string("a parameter of the job holds a private key; refused and not stored");
  if (!printable_id(j.id)) return std::string("the job id is not 1-128 printable characters");
  switch (j.op) {
    case operation::enroll:
    case operation::renew:
      try {
        crypto::check_certificate_request(j.csr_pem);
      } catch (const crypto::csr_error& e) {
        return std::string(e.what());
      }
      break;
    default:
      break;
  }
  if (!j.cert_pem.empty()) {
    try {
      if (crypto::parse_certificates(j.cert_pem).empty())
        return std::string("the job's certificate is not a PEM certificate");
    } catch (const std::exception&) {
      return std::string("the job's certificate is not a PEM certificate");
    }
  }
  return std::nullopt;
}

// What the request is about: the operation, where, and on which key or
// certificate. Options around it (validity, profile, parameters) may be left
// out when a command is run again to collect its result.
bool same_request(const job& a, const job& b) {
  return a.id == b.id && a.op == b.op && a.backend == b.backend && a.csr_pem == b.csr_pem &&
         a.cert_pem == b.cert_pem && a.serial_hex == b.serial_hex;
}

std::size_t request_digest(const job& j) {
  // Each field with its length in front: no two jobs' fields run together.
  std::string all;
  auto add = [&all](std::string_view field) {
    all += std::to_string(field.size());
    all += ':';
    all += field;
  };
  add(j.id);
  add(std::to_string(static_cast<int>(j.op)));
  for (const auto* field : {&j.backend, &j.csr_pem, &j.cert_pem, &j.serial_hex}) add(*field);
  return std::hash<std::string>{}(all);
}

}  // namespace cbcs::protocol::ca
