#include <fmt/format.h>

#include "crypto/cms_request.hpp"
#include "crypto/pem.hpp"
#include "protocol/ca/common/order_job_checks.hpp"
#include "protocol/ca/common/ordering_session.hpp"
#include "protocol/ca/msca/ces_api.hpp"
#include "protocol/ca/msca/dcom_api.hpp"
#include "protocol/ca/msca/msca_sessions.hpp"
#include "protocol/ca/msca/wstep.hpp"

namespace cbcs::protocol::ca::msca {
namespace {

class request_session final : public ordering_session {
 public:
  request_session(std::shared_ptr<backend_state> backend, const job& j,
                  const std::string& resume_token)
      : ordering_session(resume_token, backend->settings.pending, lost_placement::ask_operator),
        backend_(std::move(backend)),
        settings_(backend_->settings),
        job_(j),
        agent_request_(setting(j.params, "agent") == "1"),
        template_(!j.profile.empty() ? j.profile
                  : agent_request_   ? std::string(default_agent_template)
                                     : settings_.template_name),
        requester_(!setting(j.params, "requester").empty() ? setting(j.params, "requester")
                                                           : settings_.requester) {}

 private:
  std::optional<outcome> check() override {
    if (!settings_.problem.empty())
      return outcome::failed(error_class::invalid_request, settings_.problem);
    if (template_.empty())
      return outcome::failed(error_class::invalid_request,
                             fmt::format("no template: give backend {} -template NAME (cbcs "
                                         "backend set) or the job a profile",
                                         settings_.name));
    if (auto bad = check_order_job(job_, names_)) return bad;
    auto der = crypto::openssl_pem_der(job_.csr_pem, "CERTIFICATE REQUEST");
    if (!der) return outcome::failed(error_class::invalid_request, "the CSR cannot be read");
    csr_der_ = std::move(*der);
    if (agent_request_) return std::nullopt;
    if (!backend_->agent_key || !backend_->agent_cert)
      return outcome::failed(
          error_class::invalid_request,
          fmt::format("backend {} has no enrollment agent certificate: run cbcs backend msca "
                      "enroll-agent-cert -name {} first",
                      settings_.name, settings_.name));
    if (requester_.empty())
      return outcome::failed(
          error_class::invalid_request,
          fmt::format("no requester for the request on behalf: give backend {} -requester "
                      "DOMAIN\\user (cbcs backend set) or the job a requester param",
                      settings_.name));
    return std::nullopt;
  }

  std::string where_to_look() const override {
    return fmt::format(
        "the CA's Pending Requests and Issued Certificates on {} (certsrv.msc, CA {}), requests "
        "from {} for template {}",
        settings_.server, settings_.ca, agent_request_ ? "this machine" : backend_->agent_subject,
        template_);
  }

  http_request place() override {
    polling_ = false;
    bool dcom = settings_.transport == "dcom";
    if (agent_request_)
      return dcom ? dcom_submit(settings_, csr_der_, request_format::pkcs10, template_)
                  : ces_issue(settings_, csr_der_, wstep::value_type_pkcs10, template_);
    // [WCCE] 3.1.1.4.3.3.2: the request on behalf, signed by the agent.
    auto cms = crypto::sign_on_behalf_request({.pkcs10_der = csr_der_,
                                               .agent_key = backend_->agent_key.get(),
                                               .agent_cert = backend_->agent_cert.get(),
                                               .requester_name = requester_});
    return dcom ? dcom_submit(settings_, cms, request_format::pkcs7, template_)
                : ces_issue(settings_, cms, wstep::value_type_pkcs7, template_);
  }

  http_request poll(const std::string& request_id) override {
    polling_ = true;
    resubmitting_ = approve_ == approval::due;
    if (resubmitting_) return dcom_resubmit(settings_, request_id);
    return settings_.transport == "dcom" ? dcom_retrieve(settings_, request_id)
                                         : ces_query(settings_, request_id);
  }

  order_state read_order(const http_response& answer) override {
    if (resubmitting_) return read_resubmit(answer);
    auto a = settings_.transport == "dcom" ? read_dcom_answer(answer, settings_)
                                           : read_ces_answer(answer, settings_);
    switch (a.what) {
      case ces_answer::kind::issued:
        return {.what = order_state::kind::issued,
                .order_id = a.request_id,
                .result = outcome::issued(a.certificate_pem, a.chain_pem, a.serial_hex)};
      case ces_answer::kind::pending:
        // -autoapprove (DCOM): the machine issues it as a CA manager, once.
        if (settings_.auto_approve && approve_ == approval::none) {
          approve_ = approval::due;
          return {.what = order_state::kind::pending,
                  .order_id = a.request_id,
                  .reason = pending_reason::needs_approval,
                  .message = fmt::format("request {} is taken under submission at {}; cbcs issues "
                                         "it (-autoapprove: ICertAdmin2::ResubmitRequest)",
                                         a.request_id, settings_.ca),
                  .poll_hint = std::chrono::seconds(1)};
        }
        return {.what = order_state::kind::pending,
                .order_id = a.request_id,
                .reason = pending_reason::needs_approval,
                .message = fmt::format("request {} is taken under submission at {}: a CA manager "
                                       "must issue it (certsrv.msc, Pending Requests){}",
                                       a.request_id, settings_.ca, approve_note_)};
      case ces_answer::kind::refused:
      case ces_answer::kind::failed:
        break;
    }
    return {.what = order_state::kind::failed, .order_id = a.request_id, .result = a.failure};
  }

  // ResubmitRequest's answer: issued, fetched by the next poll
  // (RetrievePending); otherwise the request waits for a CA manager, and why.
  order_state read_resubmit(const http_response& answer) {
    approve_ = approval::done;
    auto id = order() ? order()->order_id : std::string();
    auto r = read_dcom_resubmit(answer, settings_, id);
    auto waiting = [&](std::string note) {
      approve_note_ = "; " + note;
      return order_state{.what = order_state::kind::pending,
                         .order_id = id,
                         .reason = pending_reason::needs_approval,
                         .message = fmt::format("request {} is taken under submission at {}: a CA "
                                                "manager must issue it (certsrv.msc, Pending "
                                                "Requests){}",
                                                id, settings_.ca, approve_note_)};
    };
    switch (r.what) {
      case resubmit_answer::kind::issued:
        return {.what = order_state::kind::pending,
                .order_id = id,
                .reason = pending_reason::processing,
                .message = fmt::format("request {} issued by cbcs (-autoapprove); fetching it", id),
                .poll_hint = std::chrono::milliseconds(1)};
      case resubmit_answer::kind::not_pending:
        return {.what = order_state::kind::pending,
                .order_id = id,
                .reason = pending_reason::processing,
                .message = fmt::format("request {} is no longer pending at {} (an earlier "
                                       "ResubmitRequest may have issued it); fetching it",
                                       id, settings_.ca),
                .poll_hint = std::chrono::milliseconds(1)};
      case resubmit_answer::kind::pending:
        return waiting("cbcs resubmitted it (-autoapprove) and the CA still holds it");
      case resubmit_answer::kind::not_allowed:
        return waiting("cbcs may not issue it: " + r.failure.message);
      case resubmit_answer::kind::denied:
        return {.what = order_state::kind::failed, .order_id = id, .result = r.failure};
      case resubmit_answer::kind::failed:
        break;
    }
    // A retryable failure (RPC unavailable) resubmits again; another leaves
    // the request to a CA manager, saying why.
    if (r.failure.retryable) {
      approve_ = approval::due;
      return {.what = order_state::kind::failed, .order_id = id, .result = r.failure};
    }
    return waiting("cbcs could not issue it: " + r.failure.message);
  }

  // -autoapprove: none tried yet, a ResubmitRequest due at the next poll, done.
  enum class approval : std::uint8_t { none, due, done };

  std::shared_ptr<backend_state> backend_;
  const msca_settings& settings_;
  job job_;
  bool agent_request_;
  std::string template_;
  std::string requester_;
  crypto::requested_names names_;
  crypto::bytes csr_der_;
  bool polling_ = false;
  bool resubmitting_ = false;
  approval approve_ = approval::none;
  std::string approve_note_;  // why a manager must still issue it
};

}  // namespace

std::unique_ptr<job_session> start_request(std::shared_ptr<backend_state> backend, const job& j,
                                           const std::string& resume_token) {
  return std::make_unique<request_session>(std::move(backend), j, resume_token);
}

}  // namespace cbcs::protocol::ca::msca
