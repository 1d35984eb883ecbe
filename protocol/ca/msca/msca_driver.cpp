#include "protocol/ca/msca/msca_driver.hpp"

#include <fmt/format.h>

#include "crypto/keytab.hpp"
#include "crypto/pem.hpp"
#include "protocol/ca/common/settings_problems.hpp"
#include "protocol/ca/msca/endpoints.hpp"
#include "protocol/ca/msca/msca_backend.hpp"
#include "protocol/ca/msca/msca_sessions.hpp"

namespace cbcs::protocol::ca::msca {
namespace {

// What cannot be done over CES, said before any request: revocation exists
// only through ICertAdmin (DCOM) or MS-CSRA [REF §5]. Never pretended.
class refusing_session final : public job_session {
 public:
  explicit refusing_session(outcome o) : outcome_(std::move(o)) {}
  step next(const http_response*, const step_context&) override { return outcome_; }

 private:
  outcome outcome_;
};

class msca_driver final : public driver,
                          public checks_settings,
                          public presents_client_certificate,
                          public presents_kerberos_identity {
 public:
  explicit msca_driver(const driver_config& config)
      : backend_(std::make_shared<backend_state>(msca_settings::from(config))) {}

  std::string settings_problem() const override { return backend_->settings.problem; }

  // -auth certificate: -cert; -auth agent: the agent certificate itself
  // (its template must add Client Authentication); otherwise none.
  std::optional<client_certificate_pair> client_certificate() const override {
    const auto& s = backend_->settings;
    if (s.auth == "certificate" && !s.client_cert_pem.empty())
      return client_certificate_pair{s.client_cert_pem, s.client_key_pem};
    if (s.auth == "agent" && !s.agent_cert_pem.empty())
      return client_certificate_pair{s.agent_cert_pem, s.agent_key_pem};
    // -auth agent before the agent exists: the bootstrap certificate.
    if (s.auth == "agent" && !s.client_cert_pem.empty())
      return client_certificate_pair{s.client_cert_pem, s.client_key_pem};
    return std::nullopt;
  }

  // -auth kerberos with a keytab that holds the principal's keys: the
  // transport adds Negotiate to every request.
  std::optional<kerberos_identity> kerberos() const override {
    const auto& s = backend_->settings;
    if (s.auth != "kerberos" || s.keytab.empty()) return std::nullopt;
    return kerberos_identity{s.principal, s.keytab};
  }

  std::unique_ptr<job_session> start(const job& j, const std::string& resume_token) override {
    switch (j.op) {
      case operation::enroll:
      case operation::renew:
        return start_request(backend_, j, resume_token);
      case operation::revoke:
        if (backend_->settings.transport == "dcom") return start_revoke(backend_, j);
        return std::make_unique<refusing_session>(outcome::failed(
            error_class::not_implemented,
            fmt::format("backend {} reaches AD CS through its enrollment web service (CES), "
                        "which cannot revoke: revoke in the CA's console (certsrv.msc), or use "
                        "-transport dcom on Windows",
                        backend_->settings.name)));
      case operation::inventory:
        return std::make_unique<refusing_session>(outcome::failed(
            error_class::not_implemented,
            backend_->settings.transport == "dcom"
                ? "listing a CA's certificates (ICertView) is not built for AD CS"
                : "CES cannot list a CA's certificates"));
      case operation::test:
        break;
    }
    return start_report(backend_);
  }

 private:
  std::shared_ptr<backend_state> backend_;
};

// -principal and the sealed -keytab; s.keytab stays empty unless the keytab
// holds the principal's keys.
void read_kerberos(msca_settings& s, const driver_config& config, settings_problems& problems) {
#ifndef CBCS_KERBEROS
  (void)s;
  problems.add(fmt::format(
      "-auth kerberos (the default) is not built in this cbcs{}: give backend {} -auth "
      "certificate -cert FILE -key FILE, or -auth username -username DOMAIN\\user -password - "
      "(cbcs backend set)",
#ifdef _WIN32
      " for Windows yet (SSPI)",
#else
      " (it needs MIT Kerberos, libkrb5-dev, at build time)",
#endif
      config.name));
#else
  s.principal = setting(config.settings, "principal");
  auto keytab = setting(config.secrets, "keytab");
  if (s.principal.empty() || keytab.empty()) {
    problems.add(fmt::format(
        "-auth kerberos (the default) needs the account's keys: give backend {} -keytab FILE "
        "-principal NAME@REALM (cbcs backend set), or another -auth",
        config.name));
    return;
  }
  try {
    for (const auto& e : crypto::parse_keytab(keytab))
      if (crypto::same_principal(e, s.principal)) {
        s.keytab = std::move(keytab);
        return;
      }
    problems.add(
        fmt::format("the sealed keytab holds no key for {}: cbcs backend set -name {} "
                    "-keytab FILE",
                    s.principal, config.name));
  } catch (const crypto::keytab_error& e) {
    problems.add(
        fmt::format("the sealed keytab cannot be read ({}): cbcs backend set -name {} "
                    "-keytab FILE",
                    e.what(), config.name));
  }
#endif
}

// What both transports read besides -server and -ca: the templates, the
// requester, the agent (the sealed options) and the pending policy.
void read_common(msca_settings& s, const driver_config& config) {
  s.template_name = setting(config.settings, "template");
  s.requester = setting(config.settings, "requester");
  s.agent_cert_pem = setting(config.secrets, agent_cert_option);
  s.agent_key_pem = setting(config.secrets, agent_key_option);
  s.pending = pending_policy::from(config);
}

}  // namespace

msca_settings msca_settings::from(const driver_config& config) {
  msca_settings s;
  s.name = config.name;
  settings_problems problems(config);
  s.server = problems.required("server");
  s.ca = problems.required("ca");
  if (setting(config.settings, "transport").empty()) {
    s.transport = std::string(default_transport);
    // A backend whose options are CES's, on Windows where DCOM is the default.
    for (auto key : ces_only_options)
      if (s.transport == "dcom" &&
          (!setting(config.settings, key).empty() || !setting(config.secrets, key).empty())) {
        problems.add(
            fmt::format("option -{} is CES's, and -transport is dcom by default on "
                        "Windows: cbcs backend set -name {} -transport ces",
                        key, config.name));
        break;
      }
  } else {
    s.transport = problems.choice("transport", {"ces", "dcom"});
  }
  if (s.transport == "dcom") {
#ifndef _WIN32
    problems.add("-transport dcom needs Windows (COM's ICertRequest and ICertAdmin): use "
                 "-transport ces here");
#endif
    // The service's own identity: no -auth, no CES or CEP.
    problems.flag("autoapprove", s.auto_approve);
    read_common(s, config);
    s.problem = problems.message();
    return s;
  }
  s.auth = problems.choice("auth", {"kerberos", "certificate", "username", "agent"});
  if (s.auth == "kerberos") read_kerberos(s, config, problems);
  s.ces_url = setting(config.settings, "ces");
  if (s.ces_url.empty()) s.ces_url = default_ces_url(s.server, s.ca, s.auth);
  s.cep_url = setting(config.settings, "cep");
  if (s.cep_url.empty()) s.cep_url = default_cep_url(s.server, s.auth);
  if (s.auth == "username") {
    s.username = problems.required("username");
    s.password = problems.required_secret("password", "the password");
  }
  if (s.auth == "agent" && setting(config.secrets, agent_cert_option).empty() &&
      setting(config.secrets, "cert").empty())
    problems.add(fmt::format("-auth agent needs the enrollment agent certificate, or -cert and "
                             "-key to enroll it with (cbcs backend set -name {})",
                             config.name));
  s.client_cert_pem = setting(config.secrets, "cert");
  s.client_key_pem = setting(config.secrets, "key");
  read_common(s, config);
  s.problem = problems.message();
  return s;
}

backend_state::backend_state(msca_settings s) : settings(std::move(s)) {
  if (settings.agent_cert_pem.empty() || settings.agent_key_pem.empty()) return;
  try {
    agent_cert = std::move(crypto::parse_certificates(settings.agent_cert_pem).front());
    agent_key = crypto::parse_private_key(settings.agent_key_pem);
    agent_subject = crypto::subject_line(agent_cert.get());
  } catch (const std::exception& e) {
    agent_cert.reset();
    agent_key.reset();
    settings.problem = fmt::format("the sealed enrollment agent certificate cannot be read ({}): "
                                   "run cbcs backend msca enroll-agent-cert -name {} again",
                                   e.what(), settings.name);
  }
}

std::unique_ptr<driver> make_driver(const driver_config& config) {
  return std::make_unique<msca_driver>(config);
}

}  // namespace cbcs::protocol::ca::msca
