#pragma once
// What an AD CS backend's sessions share: its settings, read once, and the
// enrollment agent's certificate and key (sealed by `cbcs backend msca
// enroll-agent-cert`), parsed once.

#include <array>
#include <string>

#include "crypto/openssl_types.hpp"
#include "protocol/ca/common/pending_order.hpp"
#include "protocol/ca/driver.hpp"

namespace cbcs::protocol::ca::msca {

// The sealed options `enroll-agent-cert` writes: the agent's key (made on
// this machine, never leaving it) and the certificate the CA issued for it.
inline constexpr std::string_view agent_key_option = "agentkey";
inline constexpr std::string_view agent_cert_option = "agentcert";
// The template the agent certificate comes from unless -template says
// ("Enrollment Agent (Computer)", [REF §5]).
inline constexpr std::string_view default_agent_template = "MachineEnrollmentAgent";

// -transport when none is given: on Windows DCOM, as the service's own
// identity (the computer account), the way Windows' own tools reach AD CS;
// elsewhere CES (DCOM needs Windows).
#ifdef _WIN32
inline constexpr std::string_view default_transport = "dcom";
#else
inline constexpr std::string_view default_transport = "ces";
#endif
// The options only CES uses: none goes with -transport dcom.
inline constexpr std::array<std::string_view, 9> ces_only_options{
    "ces", "cep", "auth", "username", "password", "cert", "key", "keytab", "principal"};

// Named for the service: the actors have a backend_settings of their own.
struct msca_settings {
  std::string name;
  std::string server, ca;
  std::string transport;  // ces or dcom (dcom_api.hpp)
  std::string auth;       // certificate, username, kerberos (ces only)
  std::string ces_url, cep_url;
  std::string username, password;  // -auth username
  std::string template_name;       // -template: a job's default
  std::string requester;           // -requester: a job's default
  bool auto_approve = false;       // -autoapprove (dcom only): ResubmitRequest our own
  std::string agent_cert_pem, agent_key_pem;
  std::string client_cert_pem, client_key_pem;  // -cert, -key (-auth certificate)
  std::string principal, keytab;  // -auth kerberos: -principal, -keytab's bytes (sealed)
  pending_policy pending;
  // A setting that makes every job fail (invalid_request), naming it.
  std::string problem;

  static msca_settings from(const driver_config& config);
};

struct backend_state {
  explicit backend_state(msca_settings s);

  msca_settings settings;
  crypto::pkey_ptr agent_key;  // null until enroll-agent-cert sealed one
  crypto::x509_ptr agent_cert;
  std::string agent_subject;
};

}  // namespace cbcs::protocol::ca::msca
