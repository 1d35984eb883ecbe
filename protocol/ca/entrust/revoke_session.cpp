#include "protocol/ca/entrust/revoke_session.hpp"

#include <fmt/format.h>

#include "protocol/ca/common/http_status.hpp"
#include "protocol/ca/common/order_lookup.hpp"
#include "protocol/ca/entrust/entrust_api.hpp"
#include "protocol/ca/entrust/lookup_revoke_session.hpp"
#include "protocol/ca/entrust/revocation_reasons.hpp"
#include "protocol/common/json_writer.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::entrust {
namespace {

class revoke_session final : public lookup_revoke_session {
 public:
  revoke_session(std::shared_ptr<backend_state> backend, const job& j)
      : backend_(std::move(backend)), settings_(backend_->settings), job_(j) {}

 private:
  std::optional<outcome> prepare() override {
    if (!settings_.problem.empty())
      return outcome::failed(error_class::invalid_request, settings_.problem);
    if (auto reason = revocation_word(); !reason.empty())
      return outcome::failed(error_class::invalid_request, reason);
    auto serial = entrust_serial(job_.serial_hex);
    if (!serial)
      return outcome::failed(error_class::invalid_request,
                             one_line(fmt::format("the job's serial '{}' is not hexadecimal",
                                                  one_line(job_.serial_hex, 80))));
    serial_ = *serial;
    return std::nullopt;
  }

  // Sets reason_ and comment_; "" or why the job's reason cannot go.
  std::string revocation_word() {
    auto given = job_.reason.empty() ? std::string("unspecified") : job_.reason;
    comment_ = fmt::format("{}; reason {}", job_tag(job_.id), one_line(given, 64));
    auto mapped = map_revocation_reason(job_.reason, revocation_reasons, "Entrust");
    if (mapped.error.empty()) {
      reason_ = mapped.word;
      return {};
    }
    // -revokereason map: a known RFC 5280 reason Entrust lacks goes as
    // unspecified, the original kept in the comment.
    bool known = revocation_reason_code(job_.reason).has_value();
    if (settings_.map_reasons && known) {
      reason_ = "unspecified";
      comment_ += " (sent as unspecified: Entrust accepts keyCompromise and unspecified only)";
      return {};
    }
    return known ? mapped.error + " (-revokereason map sends it as unspecified)" : mapped.error;
  }

  http_request lookup_request() override {
    return ecs_call(settings_, "GET", fmt::format("/certificates?serialNumber={}", serial_));
  }

  step read_lookup(const http_response& a) override {
    if (!is_success(a.status)) return failure(a, "finding the certificate");
    certificate_list list;
    try {
      list = parse_certificate_list(a.body);
    } catch (const std::exception& e) {
      return outcome::failed(error_class::internal, one_line(e.what(), 256));
    }
    const certificate_info* found = nullptr;
    for (const auto& c : list.certificates)
      if (c.tracking_id > 0 && (!found || c.tracking_id > found->tracking_id)) found = &c;
    if (!found) {
      if (list.certificates.empty())
        return outcome::failed(error_class::invalid_request,
                               fmt::format("Entrust has no certificate with serial {}", serial_));
      return outcome::failed(error_class::rejected,
                             fmt::format("the certificate with serial {} was not ordered through "
                                         "the ECS API (trackingId 0); revoke it in the Enterprise "
                                         "Portal",
                                         serial_));
    }
    tracking_id_ = found->tracking_id;
    if (found->status == "REVOKED") return revoked(true);
    return ecs_call(settings_, "POST", fmt::format("/certificates/{}/revocations", tracking_id_),
                    revocation_body(reason_, comment_));
  }

  outcome failure(const http_response& a, std::string_view what) override {
    return ecs_failure(settings_, a, what, now());
  }

  outcome revoked(bool already) override {
    json_writer w;
    w.begin_object()
        .member("serial", serial_)
        .member("tracking_id", tracking_id_)
        .member("status", "REVOKED")
        .member("reason", reason_);
    if (already) w.member("already", true);
    w.end_object();
    return outcome::done(w.str());
  }

  std::shared_ptr<backend_state> backend_;
  const entrust_settings& settings_;
  job job_;
  std::string reason_;
  std::string comment_;
  std::string serial_;
  std::int64_t tracking_id_ = 0;
};

}  // namespace

std::unique_ptr<job_session> start_revoke(std::shared_ptr<backend_state> backend, const job& j) {
  return std::make_unique<revoke_session>(std::move(backend), j);
}

}  // namespace cbcs::protocol::ca::entrust
