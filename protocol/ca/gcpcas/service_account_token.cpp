#include "protocol/ca/gcpcas/service_account_token.hpp"

#include "protocol/ca/gcpcas/access_token.hpp"

namespace cbcs::protocol::ca::gcpcas {
namespace {

class token_fetch final : public credential_source<std::string> {
 public:
  token_fetch(service_account account, crypto::pkey_ptr key)
      : account_(std::move(account)), key_(std::move(key)) {}

  std::string what() const override { return "the service account's access token"; }

  http_request start(time_point now) override { return token_request(account_, key_.get(), now); }
  // Signed anew: the assertion's iat moves on.
  http_request again(time_point now) override { return start(now); }

  answer_step answer(const http_response& r, time_point now) override {
    auto got = read_token_answer(r, account_, now);
    if (auto* t = std::get_if<access_token>(&got))
      return fetched<std::string>{t->token, {t->token}, now + t->expires_in};
    return std::get<outcome>(std::move(got));
  }

 private:
  service_account account_;
  crypto::pkey_ptr key_;
};

}  // namespace

std::unique_ptr<credential_source<std::string>> service_account_token(service_account account,
                                                                      crypto::pkey_ptr key) {
  return std::make_unique<token_fetch>(std::move(account), std::move(key));
}

}  // namespace cbcs::protocol::ca::gcpcas
