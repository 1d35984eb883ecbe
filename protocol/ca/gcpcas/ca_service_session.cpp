#include "protocol/ca/gcpcas/ca_service_session.hpp"

#include "protocol/ca/common/http_status.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::gcpcas {

ca_service_session::ca_service_session(std::shared_ptr<backend_state> backend, const job& j)
    : backend_(std::move(backend)),
      settings_(backend_->settings),
      job_(j),
      token_(backend_->token) {}

step ca_service_session::begin() {
  if (!settings_.problem.empty())
    return outcome::failed(error_class::invalid_request, settings_.problem);
  profile_ = parse_profile(job_.profile);
  if (!profile_.error.empty()) return outcome::failed(error_class::invalid_request, profile_.error);
  pool_ = !profile_.pool.empty() ? profile_.pool : settings_.pool;
  return start();
}

// Also after await_fetch: the token held now, or the fetch's request again.
step ca_service_session::again() { return send(last_); }

step ca_service_session::on_answer(const http_response& answer) {
  if (token_.fetching()) return with_token(token_.on_answer(answer, now()));
  if (!is_success(answer.status)) return on_error(answer);
  try {
    return listing_pools_ ? on_pools(answer.body) : on_reply(answer.body);
  } catch (const answer_error& e) {
    return internal(e.what());
  } catch (const std::exception& e) {
    return internal(std::string("CA Service's answer cannot be read: ") + e.what());
  }
}

std::optional<step> ca_service_session::on_refusal(const http_response&, const google_error&) {
  return std::nullopt;
}

step ca_service_session::on_error(const http_response& answer) {
  auto e = parse_error(answer.body);
  // A token Google no longer takes (expired early, revoked): one new token, once.
  if (answer.status == 401 && token_.refused()) return send(last_);
  if (!listing_pools_)
    if (auto s = on_refusal(answer, e)) return std::move(*s);
  auto o = classify_error(
      answer, listing_pools_ ? "list the CA pools of " + settings_.location_path() : what(), now());
  o.message = scrub(o.message);
  return o;
}

step ca_service_session::send(api_call call) {
  last_ = std::move(call);
  return with_token(token_.get(now()));
}

step ca_service_session::with_token(credential_use<std::string>::result got) {
  if (auto* token = std::get_if<const std::string*>(&got)) return authorized(last_, **token);
  auto& s = std::get<step>(got);
  if (auto* o = std::get_if<outcome>(&s)) o->message = scrub(std::move(o->message));
  return std::move(s);
}

std::string ca_service_session::scrub(std::string message) const {
  return one_line(token_.redacted(std::move(message)));
}

outcome ca_service_session::internal(std::string message) const {
  return outcome::failed(error_class::internal, scrub(std::move(message)));
}

// --- The pool

step ca_service_session::with_pool(std::function<step()> then) {
  if (pool_.empty()) pool_ = backend_->learnt_pool;
  if (!pool_.empty()) return then();
  after_pool_ = std::move(then);
  return find_pools();
}

step ca_service_session::find_pools() {
  listing_pools_ = true;
  return send(list_pools(settings_.base, settings_.location_path(), page_token_));
}

step ca_service_session::on_pools(std::string_view body) {
  auto page = read_pools(body, settings_.location_path());
  for (auto& p : page.pools) {
    if (!p.tier.empty()) backend_->tiers[p.id] = p.tier;
    pools_.push_back(std::move(p));
  }
  if (!page.next_page_token.empty()) {
    if (++pages_ > 100 || page.next_page_token == page_token_)
      return internal("caPools keeps returning pages");
    page_token_ = std::move(page.next_page_token);
    return find_pools();
  }
  page_token_.clear();
  listing_pools_ = false;
  return pools_listed();
}

step ca_service_session::pools_listed() {
  if (pools_.size() == 1) {
    pool_ = pools_.front().id;
    backend_->learnt_pool = pool_;
    return after_pool_();
  }
  if (pools_.empty())
    return outcome::failed(error_class::invalid_request,
                           scrub("there is no CA pool in " + settings_.location_path() +
                                 ": create one, or name one with -pool"));
  std::string names;
  for (const auto& p : pools_) names += (names.empty() ? "" : ", ") + p.id;
  return outcome::failed(
      error_class::invalid_request,
      scrub(settings_.location_path() + " has " + std::to_string(pools_.size()) + " CA pools (" +
            names + "): name one with -pool, or in the job's profile as pool:NAME"));
}

}  // namespace cbcs::protocol::ca::gcpcas
