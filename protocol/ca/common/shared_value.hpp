#pragma once
// A value a backend's sessions fetch once for all: a credential (instance-role
// keys, an OAuth access token) or shared state of the account (DigiCert's
// organization list). Fetched by one session for all (single flight: while a
// fetch is under way the others await_fetch, or use the one held), fetched
// again ahead of its expiry, used until shortly before it and after a failed
// refresh, and kept out of every message: its secrets and those of the values
// it replaced are redacted. Sessions use it through credential_source.hpp.
//
// Pure like the drivers: the session that fetches holds a fetch_guard and
// stores what it got; times come from the caller. The sessions of a backend
// run on one actor, so no two threads touch it.

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca {

struct fetch_timing {
  std::chrono::seconds refresh_before_expiry{15 * 60};
  std::chrono::seconds stop_before_expiry{60};
  std::chrono::seconds retry_failed_refresh{60};
  std::chrono::seconds longest_refresh{12 * 3600};
  std::size_t retired_secrets = 8;  // of replaced credentials, still redacted
};

template <class Value>
class shared_value {
 public:
  using time_point = std::chrono::system_clock::time_point;

  explicit shared_value(fetch_timing timing = {}) : timing_(timing) {}

  // The credential to use at `now`, or nullptr when the caller must fetch
  // (none, or its refresh time has come and nobody fetches: while someone
  // does, the one held serves the others until it expires).
  const Value* get(time_point now) const {
    if (!usable(now)) return nullptr;
    if (now >= refresh_at_ && !fetching()) return nullptr;
    return &*value_;
  }
  // Held and still good to use at `now`, refresh due or not.
  bool usable(time_point now) const { return value_ && now < usable_until_; }
  const Value* held() const { return value_ ? &*value_ : nullptr; }
  bool fetching() const { return fetches_ > 0; }

  // Held by the session that fetches, for as long as it does.
  class fetch_guard {
   public:
    explicit fetch_guard(shared_value& c) : cache_(&c) { ++cache_->fetches_; }
    ~fetch_guard() {
      if (cache_) --cache_->fetches_;
    }
    fetch_guard(fetch_guard&& o) noexcept : cache_(std::exchange(o.cache_, nullptr)) {}
    fetch_guard(const fetch_guard&) = delete;
    fetch_guard& operator=(const fetch_guard&) = delete;
    fetch_guard& operator=(fetch_guard&&) = delete;

   private:
    shared_value* cache_;
  };

  // A fresh credential, valid until `expires`; `secrets` are the parts of it
  // that must never appear in a message. One that lives less than an hour
  // is fetched again half-way and used until three quarters of its life.
  void store(Value c, std::vector<std::string> secrets, time_point expires, time_point now) {
    if (secrets != secrets_) retire();
    value_ = std::move(c);
    secrets_ = std::move(secrets);
    auto life = expires - now;
    refresh_at_ = std::min(std::max(expires - timing_.refresh_before_expiry, now + life / 2),
                           now + timing_.longest_refresh);
    // (life - life / 4: life * 3 would overflow for an expiry centuries ahead)
    usable_until_ = std::max(expires - timing_.stop_before_expiry, now + (life - life / 4));
  }

  // A refresh failed: use the one held, try again a little later.
  void postpone_refresh(time_point now) {
    refresh_at_ = std::min(now + timing_.retry_failed_refresh, usable_until_);
  }

  // The service refused it: gone (its secrets stay redacted).
  void retire() {
    if (!value_) return;
    for (auto& s : secrets_) retired_.push_back(std::move(s));
    while (retired_.size() > timing_.retired_secrets) retired_.erase(retired_.begin());
    value_.reset();
    secrets_.clear();
    refresh_at_ = usable_until_ = {};
  }

  // Every secret held, or held lately, in `message` becomes "[redacted]": a
  // call made with a credential since replaced may still be answered.
  void redact(std::string& message) const {
    for (const auto& s : secrets_) protocol::redact(message, s);
    for (const auto& s : retired_) protocol::redact(message, s);
  }

 private:
  fetch_timing timing_;
  std::optional<Value> value_;
  std::vector<std::string> secrets_;
  std::vector<std::string> retired_;
  time_point refresh_at_{};
  time_point usable_until_{};
  int fetches_ = 0;
};

}  // namespace cbcs::protocol::ca
