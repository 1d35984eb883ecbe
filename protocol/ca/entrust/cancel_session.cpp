#include "protocol/ca/entrust/cancel_session.hpp"

#include <fmt/format.h>

#include "protocol/ca/common/http_session.hpp"
#include "protocol/ca/common/http_status.hpp"
#include "protocol/ca/common/pending_order.hpp"
#include "protocol/common/json_writer.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::entrust {
namespace {

class cancel_session final : public http_session {
 public:
  cancel_session(std::shared_ptr<backend_state> backend, const std::string& resume_token,
                 std::string reason)
      : backend_(std::move(backend)),
        settings_(backend_->settings),
        token_(decode_order_token(resume_token)),
        reason_(std::move(reason)) {}

 private:
  step begin() override {
    if (settings_.gateway)
      return outcome::failed(error_class::invalid_request,
                             "the CA Gateway holds no order to cancel: it answers enrollments at "
                             "once");
    if (!settings_.problem.empty())
      return outcome::failed(error_class::invalid_request, settings_.problem);
    // A placement in doubt has no trackingId yet: ECS cannot be asked by tag.
    if (!token_ || token_->order_id.empty() ||
        token_->order_id.find_first_not_of("0123456789") != std::string::npos)
      return outcome::failed(error_class::invalid_request,
                             "Entrust named no order for the job yet (trackingId unknown)");
    json_writer w(false);
    w.begin_object()
        .member("operation", "DECLINE")
        .member("declineReason",
                one_line(reason_.empty() ? "cancelled by SCM through cbcs" : reason_, 256))
        .end_object();
    return ecs_call(settings_, "PATCH", path(), w.str());
  }

  step on_answer(const http_response& a) override {
    if (reading_) return on_state(a);
    if (is_success(a.status)) return done(false);
    auto failed = ecs_failure(settings_, a, "declining the order at Entrust", now());
    if (failed.retryable || a.status == 401 || a.status == 403 || a.status == 404) return failed;
    // Refused: only a PENDING order can be declined. It may be DECLINED
    // already (an earlier cancel whose answer was lost) or issued meanwhile.
    refusal_ = std::move(failed);
    reading_ = true;
    return ecs_call(settings_, "GET", path());
  }

  step on_state(const http_response& a) {
    if (!is_success(a.status)) return refusal_;
    certificate_info c;
    try {
      c = parse_certificate(a.body);
    } catch (const std::exception&) {
      return refusal_;
    }
    if (c.status == "DECLINED") return done(true);
    refusal_.message += fmt::format(" (the order is {} at Entrust)", one_line(c.status, 64));
    return refusal_;
  }

  outcome done(bool already) const {
    json_writer w(false);
    w.begin_object().member("declined", token_->order_id);
    if (already) w.member("already", true);
    w.end_object();
    return outcome::done(w.str());
  }

  std::string path() const { return fmt::format("/certificates/{}", token_->order_id); }

  std::shared_ptr<backend_state> backend_;
  const entrust_settings& settings_;
  std::optional<order_token> token_;
  std::string reason_;
  bool reading_ = false;
  outcome refusal_;
};

}  // namespace

std::unique_ptr<job_session> start_cancel(std::shared_ptr<backend_state> backend,
                                          const std::string& resume_token,
                                          const std::string& reason) {
  return std::make_unique<cancel_session>(std::move(backend), resume_token, reason);
}

}  // namespace cbcs::protocol::ca::entrust
