#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "crypto/base64.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/pem.hpp"
#include "protocol/ca/common/client_certificate.hpp"
#include "protocol/ca/common/http_session.hpp"
#include "protocol/ca/common/report_checks.hpp"
#include "protocol/ca/msca/ces_api.hpp"
#include "protocol/ca/msca/dcom_api.hpp"
#include "protocol/ca/msca/msca_sessions.hpp"
#include "protocol/common/json_writer.hpp"

namespace cbcs::protocol::ca::msca {
namespace {

// The agent certificate: present, its subject and end.
void add_agent_line(report_checks& lines, const backend_state& backend,
                    std::chrono::system_clock::time_point now) {
  const auto& s = backend.settings;
  if (!backend.agent_cert) {
    lines.add("agent certificate", "fail",
              fmt::format("none yet: run cbcs backend msca enroll-agent-cert -name {}", s.name));
  } else if (auto c = read_watched_certificate(
                 s.agent_cert_pem, "the enrollment agent certificate",
                 fmt::format("renew it with cbcs backend msca enroll-agent-cert -name {}", s.name),
                 now)) {
    check_certificate(lines, "agent certificate", *c);
  }
}

// The report's checks closed into its JSON object, and said in the message.
outcome finish_report(json_writer& w, const report_checks& lines) {
  lines.write(w);
  w.end_object();
  auto out = outcome::done(w.str());
  out.message = lines.words();
  return out;
}

// false (after a warning line) when the backend has no template of that role.
bool template_given(report_checks& lines, std::string_view role, const std::string& name) {
  if (!name.empty()) return true;
  lines.add(std::string(role), "warn", "no -template: every job must name one as its profile");
  return false;
}

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
      if (!template_given(lines, role, name)) return;
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
    add_agent_line(lines, *backend_, now());
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
    return finish_report(w, lines);
  }

  std::shared_ptr<backend_state> backend_;
  const msca_settings& settings_;
};

// backend test over DCOM: GetCAProperty for the CA's name, its current
// certificate and the templates it publishes, one call after the other.
class dcom_report_session final : public http_session {
 public:
  explicit dcom_report_session(std::shared_ptr<backend_state> backend)
      : backend_(std::move(backend)), settings_(backend_->settings) {}

 private:
  step begin() override {
    if (!settings_.problem.empty())
      return outcome::failed(error_class::invalid_request, settings_.problem);
    return dcom_property(settings_, cr_prop_caname);
  }

  step on_answer(const http_response& answer) override {
    static constexpr std::string_view asked[] = {"the CA's name", "the CA's certificate",
                                                 "the CA's templates"};
    auto v = read_dcom_value(answer, settings_, asked[answers_.size()]);
    if (v.failure) return *v.failure;
    answers_.push_back(std::move(v.value));
    // PropIndex -1: the CA's current certificate.
    if (answers_.size() == 1) return dcom_property(settings_, cr_prop_cacert, -1);
    if (answers_.size() == 2) return dcom_property(settings_, cr_prop_templates);
    return report();
  }

  outcome report() {
    report_checks lines;
    const auto& name = answers_[0];
    lines.add("CA", name == settings_.ca ? "ok" : "warn",
              name == settings_.ca
                  ? fmt::format("{} answers over DCOM", config_string(settings_))
                  : fmt::format("{} answers over DCOM with the name '{}'",
                                config_string(settings_), name));
    std::string subject;
    if (auto der = crypto::base64_decode(answers_[1]); der && !der->empty()) {
      try {
        subject = crypto::subject_line(
            crypto::parse_certificates(crypto::der_to_pem("CERTIFICATE", *der)).front().get());
      } catch (const std::exception&) {
      }
    }
    lines.add("CA certificate", subject.empty() ? "warn" : "ok",
              subject.empty() ? "the CA's certificate cannot be read" : subject);
    // CR_PROP_TEMPLATES: "name\nOID\n" for each template the CA publishes.
    std::vector<std::string> published;
    std::string_view rest = answers_[2];
    for (bool is_name = true; !rest.empty(); is_name = !is_name) {
      auto end = rest.find('\n');
      if (is_name) published.emplace_back(rest.substr(0, end));
      rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    }
    auto template_line = [&](std::string_view role, const std::string& t) {
      if (!template_given(lines, role, t)) return;
      bool found = std::find(published.begin(), published.end(), t) != published.end();
      lines.add(std::string(role), found ? "ok" : "fail",
                found ? fmt::format("template {} is published by the CA", t)
                      : fmt::format("the CA does not publish template {}", t));
    };
    template_line("agent template", std::string(default_agent_template));
    template_line("job template", settings_.template_name);
    add_agent_line(lines, *backend_, now());
    json_writer w;
    w.begin_object()
        .member("transport", "dcom")
        .member("config", config_string(settings_))
        .member("ca", subject);
    w.key("templates").begin_array();
    for (const auto& t : published) w.value(t);
    w.end_array();
    return finish_report(w, lines);
  }

  std::shared_ptr<backend_state> backend_;
  const msca_settings& settings_;
  std::vector<std::string> answers_;
};

}  // namespace

std::unique_ptr<job_session> start_report(std::shared_ptr<backend_state> backend) {
  if (backend->settings.transport == "dcom")
    return std::make_unique<dcom_report_session>(std::move(backend));
  return std::make_unique<report_session>(std::move(backend));
}

}  // namespace cbcs::protocol::ca::msca
