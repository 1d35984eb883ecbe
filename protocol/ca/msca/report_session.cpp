#include <fmt/format.h>

#include "crypto/certificate_authority.hpp"
#include "crypto/pem.hpp"
#include "protocol/ca/common/client_certificate.hpp"
#include "protocol/ca/common/http_session.hpp"
#include "protocol/ca/common/report_checks.hpp"
#include "protocol/ca/msca/ces_api.hpp"
#include "protocol/ca/msca/msca_sessions.hpp"
#include "protocol/common/json_writer.hpp"

namespace cbcs::protocol::ca::msca {
namespace {

class report_session final : public http_session {
 public:
  explicit report_session(std::shared_ptr<backend_state> backend)
      : backend_(std::move(backend)), settings_(backend_->settings) {}

 private:
  step begin() override {
    if (!settings_.problem.empty())
      return outcome::failed(error_class::invalid_request, settings_.problem);
    return cep_get_policies(settings_);
  }

  step on_answer(const http_response& answer) override {
    auto a = read_cep_answer(answer, settings_);
    if (!a.policies) return a.failure;
    const auto& p = *a.policies;
    report_checks lines;
    lines.add("CEP", "ok",
              fmt::format("{} answered with {} templates and {} CAs", settings_.cep_url,
                          p.templates.size(), p.cas.size()));
    // The CA: its certificate's subject names it; this CES among its URIs.
    const xcep::certification_authority* ours = nullptr;
    std::string ca_subject;
    for (const auto& ca : p.cas) {
      std::string subject;
      try {
        auto pem = crypto::der_to_pem("CERTIFICATE", ca.certificate);
        subject = crypto::subject_line(crypto::parse_certificates(pem).front().get());
      } catch (const std::exception&) {
      }
      bool ces_listed = false;
      for (const auto& u : ca.uris) ces_listed = ces_listed || u.uri == settings_.ces_url;
      if (ces_listed || subject.find("CN=" + settings_.ca) != std::string::npos) {
        ours = &ca;
        ca_subject = subject;
        lines.add("CA", ces_listed ? "ok" : "warn",
                  ces_listed ? fmt::format("{} lists this CES", subject)
                             : fmt::format("{} is listed, but not with {} among its CES "
                                           "URIs",
                                           subject, settings_.ces_url));
        break;
      }
    }
    if (!ours)
      lines.add("CA", "fail",
                fmt::format("CEP lists no CA named {} and none with {}", settings_.ca,
                            settings_.ces_url));
    auto template_line = [&](std::string_view role, const std::string& name) {
      if (name.empty()) {
        lines.add(std::string(role), "warn",
                  "no -template: every job must name one as its profile");
        return;
      }
      const auto* t = p.find_template(name);
      if (!t)
        lines.add(std::string(role), "fail",
                  fmt::format("template {} is not offered to this account", name));
      else if (!t->enroll)
        lines.add(std::string(role), "fail",
                  fmt::format("template {} is offered, but this account may not enroll "
                              "(Enroll permission)",
                              name));
      else
        lines.add(std::string(role), "ok",
                  fmt::format("template {} ({}) is offered and enrollable{}", name, t->oid,
                              t->ra_signatures
                                  ? fmt::format(", with {} agent signature", t->ra_signatures)
                                  : ""));
    };
    template_line("agent template", std::string(default_agent_template));
    template_line("job template", settings_.template_name);
    // The agent certificate: present, its subject and end.
    if (!backend_->agent_cert) {
      lines.add("agent certificate", "fail",
                fmt::format("none yet: run cbcs backend msca enroll-agent-cert -name {}",
                            settings_.name));
    } else if (auto c = read_watched_certificate(
                   settings_.agent_cert_pem, "the enrollment agent certificate",
                   fmt::format("renew it with cbcs backend msca enroll-agent-cert -name {}",
                               settings_.name),
                   now())) {
      check_certificate(lines, "agent certificate", *c);
    }
    json_writer w;
    w.begin_object()
        .member("transport", "ces")
        .member("ces", settings_.ces_url)
        .member("cep", settings_.cep_url)
        .member("ca", ca_subject);
    w.key("templates").begin_array();
    for (const auto& t : p.templates)
      w.begin_object()
          .member("name", t.common_name)
          .member("oid", t.oid)
          .member("enroll", t.enroll)
          .member("ra_signatures", static_cast<std::int64_t>(t.ra_signatures))
          .end_object();
    w.end_array();
    lines.write(w);
    w.end_object();
    auto out = outcome::done(w.str());
    out.message = lines.words();
    return out;
  }

  std::shared_ptr<backend_state> backend_;
  const msca_settings& settings_;
};

}  // namespace

std::unique_ptr<job_session> start_report(std::shared_ptr<backend_state> backend) {
  return std::make_unique<report_session>(std::move(backend));
}

}  // namespace cbcs::protocol::ca::msca
