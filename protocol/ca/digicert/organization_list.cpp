#include "protocol/ca/digicert/organization_list.hpp"

#include "protocol/ca/common/http_status.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::digicert {
namespace {

class organization_fetch final : public credential_source<organization_list> {
 public:
  organization_fetch(std::string base_url, std::string api_key)
      : base_url_(std::move(base_url)), api_key_(std::move(api_key)) {}

  std::string what() const override { return "CertCentral's organization list"; }

  http_request start(time_point) override {
    return api_request("GET", base_url_ + "/organization", api_key_);
  }
  http_request again(time_point now) override { return start(now); }

  answer_step answer(const http_response& r, time_point now) override {
    if (!is_success(r.status)) return error_outcome(r, "reading the organizations", api_key_, now);
    try {
      return fetched<organization_list>{parse_organizations(r.body), {},
                                        now + organization_list_life};
    } catch (const std::exception& e) {
      return outcome::failed(error_class::internal, one_line(e.what(), 256));
    }
  }

 private:
  std::string base_url_;
  std::string api_key_;
};

}  // namespace

std::unique_ptr<credential_source<organization_list>> organization_source(std::string base_url,
                                                                          std::string api_key) {
  return std::make_unique<organization_fetch>(std::move(base_url), std::move(api_key));
}

}  // namespace cbcs::protocol::ca::digicert
