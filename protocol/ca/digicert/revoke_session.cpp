#include "protocol/ca/digicert/revoke_session.hpp"

#include <fmt/format.h>

#include "crypto/serial_number.hpp"
#include "protocol/ca/common/http_session.hpp"
#include "protocol/ca/common/http_status.hpp"
#include "protocol/ca/digicert/revocation_reasons.hpp"
#include "protocol/common/json_writer.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::digicert {
namespace {

using namespace std::chrono_literals;

class revoke_session final : public http_session {
 public:
  revoke_session(std::shared_ptr<backend_state> backend, const job& j,
                 const std::string& resume_token)
      : backend_(std::move(backend)), settings_(backend_->settings), job_(j) {
    if (auto token = decode_order_token(resume_token);
        token && token->order_id.starts_with(request_token_prefix))
      request_ = token;
  }

  std::string resume_token() const override { return request_ ? encode(*request_) : ""; }

 private:
  enum class stage : std::uint8_t { lookup, revoke, approve, poll };

  step begin() override {
    if (!settings_.problem.empty())
      return outcome::failed(error_class::invalid_request, settings_.problem);
    auto reason = map_revocation_reason(job_.reason, revocation_reasons, "CertCentral");
    if (!reason.error.empty()) return outcome::failed(error_class::invalid_request, reason.error);
    reason_ = reason.word;
    std::string why;
    auto serial = crypto::serial_number::parse(job_.serial_hex, &why);
    if (!serial)
      return outcome::failed(
          error_class::invalid_request,
          one_line(fmt::format("the job's serial '{}': {}", one_line(job_.serial_hex, 80), why)));
    serial_ = serial->hex_upper();
    if (request_) return poll_request();
    return lookup();
  }

  step again() override {
    switch (stage_) {
      case stage::revoke:
        // Its answer was lost: see whether it was revoked before asking again.
        return lookup();
      case stage::poll:
        return poll_request();
      case stage::lookup:
      case stage::approve:
        break;
    }
    return http_session::again();
  }

  step on_answer(const http_response& a) override {
    switch (stage_) {
      case stage::lookup:
        return on_lookup(a);
      case stage::revoke:
        return on_revoke(a);
      case stage::approve:
        return on_approve(a);
      case stage::poll:
        return on_poll(a);
    }
    return outcome::failed(error_class::internal, "revoke: unknown stage");
  }

  step lookup() {
    stage_ = stage::lookup;
    return request("GET", fmt::format("/order/certificate/{}", serial_));
  }

  step on_lookup(const http_response& a) {
    if (a.status == 404)
      return outcome::failed(error_class::invalid_request,
                             fmt::format("CertCentral has no certificate with serial {}", serial_));
    if (!is_success(a.status))
      return error_outcome(a, "finding the certificate", settings_.api_key, now());
    order_info info;
    try {
      info = parse_order(a.body);
    } catch (const std::exception& e) {
      return outcome::failed(error_class::internal, one_line(e.what(), 256));
    }
    if (info.status == "revoked") return done(info.id, "revoked", false);
    if (info.certificate_id.empty() && !settings_.revoke_order)
      return outcome::failed(error_class::internal,
                             fmt::format("order {} names no certificate id", info.id));
    order_id_ = info.id;
    if (revoke_sent_ && refused_once_) return outcome::failed(error_class::rejected, refusal_);
    stage_ = stage::revoke;
    revoke_sent_ = true;
    json_writer w(false);
    w.begin_object()
        .member("revocation_reason", reason_)
        .member("comments", fmt::format("{}; reason {}", job_tag(job_.id),
                                        job_.reason.empty() ? "unspecified" : job_.reason))
        .member("skip_approval", settings_.skip_approval)
        .end_object();
    auto path = settings_.revoke_order ? fmt::format("/order/certificate/{}/revoke", info.id)
                                       : fmt::format("/certificate/{}/revoke", info.certificate_id);
    return request("PUT", path, w.str());
  }

  step on_revoke(const http_response& a) {
    if (!is_success(a.status)) {
      auto failed = error_outcome(a, "revoking the certificate", settings_.api_key, now());
      // Refused: maybe revoked since (an answer lost before); look once.
      if (!failed.retryable && a.status < 500 && a.status != 401 && a.status != 403 &&
          !refused_once_) {
        refused_once_ = true;
        refusal_ = failed.message;
        return lookup();
      }
      return failed;
    }
    if (a.status == 204 || a.body.empty()) return done(order_id_, "revoked", false);
    request_info r;
    try {
      r = parse_request(a.body);
    } catch (const std::exception& e) {
      return outcome::failed(error_class::internal, one_line(e.what(), 256));
    }
    if (r.id.empty()) return done(order_id_, r.status, false);
    request_ = order_token{std::string(request_token_prefix) + r.id, now()};
    return on_request_state(r);
  }

  step on_request_state(const request_info& r) {
    if (r.status == "approved" || r.status == "revoked" || r.status == "issued")
      return done(order_id_, "revoked", false);
    if (r.status == "rejected" || r.status == "denied" || r.status == "canceled")
      return outcome::failed(
          error_class::rejected,
          one_line(fmt::format("the revocation request {} was {}{}", request_id(), r.status,
                               r.processor_comment.empty() ? "" : ": " + r.processor_comment)),
          r.status);
    if (settings_.auto_approve && !approve_refused_) {
      stage_ = stage::approve;
      json_writer w(false);
      w.begin_object()
          .member("status", "approved")
          .member("processor_comment", fmt::format("approved by cbcs for {}", job_tag(job_.id)))
          .end_object();
      return request("PUT", fmt::format("/request/{}/status", request_id()), w.str());
    }
    stage_ = stage::poll;
    return order_pending(
        *request_, pending_reason::needs_approval,
        fmt::format("the revocation request {} waits for an approver in "
                    "CertCentral{}",
                    request_id(),
                    approve_refused_ ? " (the API key's user may not approve it)" : ""),
        settings_.poll, settings_.pending, now());
  }

  step on_approve(const http_response& a) {
    if (is_success(a.status)) return done(order_id_, "revoked", true);
    if (a.status == 403) {
      approve_refused_ = true;
      return on_request_state({request_id(), "pending", ""});
    }
    auto failed = error_outcome(a, "approving the revocation", settings_.api_key, now());
    if (!failed.retryable && a.status >= 400 && a.status < 500 && a.status != 401 &&
        !approve_declined_) {
      // "The request has already been approved" (400): read the request and
      // go on from its state; still pending, it is left to an approver.
      approve_declined_ = true;
      approve_refused_ = true;
      return poll_request();
    }
    return failed;
  }

  step poll_request() {
    stage_ = stage::poll;
    return request("GET", fmt::format("/request/{}", request_id()));
  }

  step on_poll(const http_response& a) {
    if (!is_success(a.status))
      return error_outcome(a, "reading the revocation request", settings_.api_key, now());
    try {
      return on_request_state(parse_request(a.body));
    } catch (const std::exception& e) {
      return outcome::failed(error_class::internal, one_line(e.what(), 256));
    }
  }

  step done(const std::string& order_id, std::string_view status, bool approved) {
    json_writer w;
    w.begin_object()
        .member("serial", serial_)
        .member("order_id", order_id)
        .member("scope", settings_.revoke_order ? "order" : "certificate")
        .member("status", status);
    if (approved) w.member("approved_by", "cbcs");
    w.end_object();
    return outcome::done(w.str());
  }

  std::string request_id() const {
    return request_ ? request_->order_id.substr(request_token_prefix.size()) : std::string();
  }

  http_request request(std::string method, std::string_view path, std::string body = {}) {
    return api_request(std::move(method), settings_.base_url + std::string(path), settings_.api_key,
                       std::move(body));
  }

  std::shared_ptr<backend_state> backend_;
  const certcentral_settings& settings_;
  job job_;
  std::string reason_;
  std::string serial_;
  std::string order_id_;
  std::optional<order_token> request_;
  stage stage_ = stage::lookup;
  bool revoke_sent_ = false;
  bool refused_once_ = false;
  std::string refusal_;
  bool approve_refused_ = false;
  bool approve_declined_ = false;  // CertCentral answered our approval with a refusal
};

class cancel_session final : public http_session {
 public:
  cancel_session(std::shared_ptr<backend_state> backend, const std::string& resume_token,
                 std::string reason)
      : backend_(std::move(backend)),
        token_(decode_order_token(resume_token)),
        reason_(std::move(reason)) {}

 private:
  step begin() override {
    const auto& s = backend_->settings;
    if (!token_)
      return outcome::failed(error_class::invalid_request, "the job has no order at CertCentral");
    json_writer w(false);
    auto note = one_line(reason_.empty() ? "canceled by SCM through cbcs" : reason_, 256);
    if (token_->order_id.starts_with(request_token_prefix)) {
      auto id = token_->order_id.substr(request_token_prefix.size());
      w.begin_object().member("status", "rejected").member("processor_comment", note).end_object();
      return api_request("PUT", fmt::format("{}/request/{}/status", s.base_url, id), s.api_key,
                         w.str());
    }
    w.begin_object().member("status", "canceled").member("note", note).end_object();
    return api_request("PUT",
                       fmt::format("{}/order/certificate/{}/status", s.base_url, token_->order_id),
                       s.api_key, w.str());
  }

  step on_answer(const http_response& a) override {
    const auto& s = backend_->settings;
    if (reading_) return on_state(a);
    if (is_success(a.status))
      return outcome::done(fmt::format("{{\"canceled\":\"{}\"}}", token_->order_id));
    auto failed = error_outcome(a, "canceling at CertCentral", s.api_key, now());
    if (failed.retryable || a.status == 401 || a.status == 403 || a.status >= 500) return failed;
    // Refused (400): it may be canceled or rejected already (an earlier
    // cancel whose answer was lost). Read its state; that is done too.
    refusal_ = failed;
    reading_ = true;
    if (is_request())
      return api_request("GET", fmt::format("{}/request/{}", s.base_url, id()), s.api_key);
    return api_request("GET", fmt::format("{}/order/certificate/{}", s.base_url, id()), s.api_key);
  }

  step on_state(const http_response& a) {
    if (!is_success(a.status)) return refusal_;
    std::string status;
    try {
      status = is_request() ? parse_request(a.body).status : parse_order(a.body).status;
    } catch (const std::exception&) {
      return refusal_;
    }
    if (status == "canceled" || status == "cancelled" || status == "rejected")
      return outcome::done(
          fmt::format("{{\"canceled\":\"{}\",\"already\":true}}", token_->order_id));
    return refusal_;
  }

  bool is_request() const { return token_->order_id.starts_with(request_token_prefix); }
  std::string id() const {
    return is_request() ? token_->order_id.substr(request_token_prefix.size()) : token_->order_id;
  }

  std::shared_ptr<backend_state> backend_;
  std::optional<order_token> token_;
  std::string reason_;
  bool reading_ = false;
  outcome refusal_;
};

}  // namespace

std::unique_ptr<job_session> start_revoke(std::shared_ptr<backend_state> backend, const job& j,
                                          const std::string& resume_token) {
  return std::make_unique<revoke_session>(std::move(backend), j, resume_token);
}

std::unique_ptr<job_session> start_cancel(std::shared_ptr<backend_state> backend, const job&,
                                          const std::string& resume_token,
                                          const std::string& reason) {
  return std::make_unique<cancel_session>(std::move(backend), resume_token, reason);
}

}  // namespace cbcs::protocol::ca::digicert
