#include <fmt/format.h>

#include "crypto/serial_number.hpp"
#include "protocol/ca/common/http_session.hpp"
#include "protocol/ca/common/revocation_reason.hpp"
#include "protocol/ca/msca/dcom_api.hpp"
#include "protocol/ca/msca/msca_sessions.hpp"
#include "protocol/ca/msca/revocation_reasons.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::msca {
namespace {

// ICertAdmin2::RevokeCertificate, effective now. Sent again as it is when
// its answer was lost: revoking twice only sets the same reason and date.
class revoke_session final : public http_session {
 public:
  revoke_session(std::shared_ptr<backend_state> backend, const job& j)
      : backend_(std::move(backend)), settings_(backend_->settings), job_(j) {}

 private:
  step begin() override {
    if (!settings_.problem.empty())
      return outcome::failed(error_class::invalid_request, settings_.problem);
    auto mapped = map_revocation_reason(job_.reason, revocation_reasons, "AD CS");
    if (!mapped.error.empty()) return outcome::failed(error_class::invalid_request, mapped.error);
    std::string why;
    auto serial = crypto::serial_number::parse(job_.serial_hex, &why);
    if (!serial)
      return outcome::failed(error_class::invalid_request,
                             one_line(fmt::format("the job's serial '{}' cannot be read: {}",
                                                  one_line(job_.serial_hex, 80), why)));
    // An even number of hex digits, at most one leading zero (ICertAdmin).
    serial_ = serial->hex();
    return dcom_revoke(settings_, serial_, mapped.word.front() - '0');
  }

  step on_answer(const http_response& answer) override {
    if (auto failure = read_dcom_status(answer, settings_, "revocation of " + serial_))
      return *failure;
    return outcome::done();
  }

  std::shared_ptr<backend_state> backend_;
  const msca_settings& settings_;
  job job_;
  std::string serial_;
};

}  // namespace

std::unique_ptr<job_session> start_revoke(std::shared_ptr<backend_state> backend, const job& j) {
  return std::make_unique<revoke_session>(std::move(backend), j);
}

}  // namespace cbcs::protocol::ca::msca
