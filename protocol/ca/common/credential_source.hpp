#pragma once
// Where a backend's sessions get what they must fetch before their own call
// (the shape of Envoy's CredentialsProvider and step-ca's issuer packages):
// a credential_source knows the requests of one fetch and reads their
// answers; a fetched_value holds the result for every session of the backend
// (a shared_value: single flight, refresh ahead of expiry, redaction); a
// session asks through a credential_use, which is the one copy of
//
//   get the value held, await another session's fetch, or fetch it itself;
//   after the service refused the value the session used (a 401), retire it
//   and fetch once more, never in a loop;
//   a non-retryable fetch failure is remembered for a while so that the
//   jobs after it fail at once instead of asking again;
//   every message redacted of the value's secrets, held or replaced.
//
// Ported: GCP's access token, AWS's instance-role keys, DigiCert's
// organization list (account state, not a credential: no secrets, no 401).
// Pure like the drivers: requests and answers, times from the caller.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "protocol/ca/common/shared_value.hpp"
#include "protocol/ca/driver.hpp"

namespace cbcs::protocol::ca {

// What one fetch brought.
template <class Value>
struct fetched {
  Value value;
  std::vector<std::string> secrets;  // parts never to appear in a message
  std::chrono::system_clock::time_point expires;
};

// The requests of a fetch and the reading of their answers. A backend has at
// most one fetch under way (single flight), so a source may keep the state
// of that fetch (a metadata token, a stage) between its calls.
template <class Value>
class credential_source {
 public:
  using time_point = std::chrono::system_clock::time_point;
  using answer_step = std::variant<http_request, fetched<Value>, outcome>;

  virtual ~credential_source() = default;
  // What is fetched, for the trace and await_fetch: "the instance role's keys".
  virtual std::string what() const = 0;
  // The first request of a fetch (side calls unless the CA itself answers).
  virtual http_request start(time_point now) = 0;
  // An answer to the fetch's last request: its next request, the value, or a
  // failure (retryable when the service was busy).
  virtual answer_step answer(const http_response& r, time_point now) = 0;
  // The fetch's last request again (no answer, a retry); signed anew if need be.
  virtual http_request again(time_point now) = 0;
  // Secrets the source itself keeps between fetches (a metadata token).
  virtual void redact(std::string& message) const { (void)message; }
};

// What a refresh that fails, while the value held is still good, leaves in use.
enum class failed_refresh : std::uint8_t {
  // A busy answer: the value held; any other failure fails the session.
  held_if_busy,
  // Any failure and a lost answer: the value held, good minutes ago (AWS's
  // instance-role keys; AWS refuses them itself once they are not).
  held_always,
};

// The value of a backend and its source, shared by the backend's sessions.
template <class Value>
class fetched_value {
 public:
  fetched_value(std::unique_ptr<credential_source<Value>> source, fetch_timing timing = {},
                std::chrono::seconds refusal_memory = std::chrono::seconds(0),
                failed_refresh on_failed_refresh = failed_refresh::held_if_busy)
      : source_(std::move(source)),
        cache_(timing),
        refusal_memory_(refusal_memory),
        on_failed_refresh_(on_failed_refresh) {}

  credential_source<Value>& source() { return *source_; }
  shared_value<Value>& cache() { return cache_; }
  const shared_value<Value>& cache() const { return cache_; }

  void redact(std::string& message) const {
    cache_.redact(message);
    source_->redact(message);
  }

 private:
  template <class>
  friend class credential_use;

  std::unique_ptr<credential_source<Value>> source_;
  shared_value<Value> cache_;
  std::chrono::seconds refusal_memory_;
  failed_refresh on_failed_refresh_;
  std::optional<outcome> refusal_;  // the last non-retryable fetch failure
  std::chrono::system_clock::time_point refused_at_{};
};

// One session's use of a fetched_value.
template <class Value>
class credential_use {
 public:
  using time_point = std::chrono::system_clock::time_point;
  // The value to go on with, or the step the session returns first.
  using result = std::variant<const Value*, step>;

  explicit credential_use(fetched_value<Value>& shared) : shared_(&shared) {}

  // Before the session's own call at `now`.
  result get(time_point now) {
    auto& cache = shared_->cache();
    if (guard_) {  // our fetch got no answer
      if (shared_->on_failed_refresh_ == failed_refresh::held_always && cache.usable(now))
        return keep_held(now);
      return step{shared_->source().again(now)};
    }
    if (const Value* v = cache.get(now)) return used(v);
    // Another session fetches it already: one fetch serves every job.
    if (cache.fetching()) return step{await_fetch{shared_->source().what()}};
    if (shared_->refusal_ && now - shared_->refused_at_ < shared_->refusal_memory_)
      return step{*shared_->refusal_};
    guard_.emplace(cache);
    return step{shared_->source().start(now)};
  }

  // True while this session's fetch is under way: its answers go to on_answer().
  bool fetching() const { return guard_.has_value(); }

  // An answer to this session's fetch.
  result on_answer(const http_response& r, time_point now) {
    auto got = shared_->source().answer(r, now);
    if (auto* next = std::get_if<http_request>(&got)) return step{std::move(*next)};
    guard_.reset();
    auto& cache = shared_->cache();
    if (auto* f = std::get_if<fetched<Value>>(&got)) {
      cache.store(std::move(f->value), std::move(f->secrets), f->expires, now);
      shared_->refusal_.reset();
      return used(cache.held());
    }
    auto& failure = std::get<outcome>(got);
    // The service is busy (held_always: or failed): the value held is still good for a while.
    bool keep = failure.retryable || shared_->on_failed_refresh_ == failed_refresh::held_always;
    if (keep && cache.usable(now)) return keep_held(now);
    if (failure.retryable)
      cache.postpone_refresh(now);
    else if (shared_->refusal_memory_.count() > 0) {
      shared_->refusal_ = failure;
      shared_->refused_at_ = now;
    }
    failure.message = redacted(std::move(failure.message));
    return step{std::move(failure)};
  }

  // The fetch's last request again.
  step again(time_point now) { return shared_->source().again(now); }

  // The service refused the value this session used: retired when it is still
  // the one held (another session may have replaced it). True the first time
  // in this session only: fetch once more, then give up.
  bool refused() {
    if (refetched_) return false;
    refetched_ = true;
    auto& cache = shared_->cache();
    if (used_ && cache.held() && *cache.held() == *used_) cache.retire();
    return true;
  }

  // The value this session last went on with; nullptr before.
  const Value* last_used() const { return used_ ? &*used_ : nullptr; }

  std::string redacted(std::string message) const {
    shared_->redact(message);
    return message;
  }

 private:
  // A refresh failed: go on with the value held, fetch again a little later.
  result keep_held(time_point now) {
    guard_.reset();
    shared_->cache().postpone_refresh(now);
    return used(shared_->cache().held());
  }

  result used(const Value* v) {
    used_ = *v;
    return v;
  }

  fetched_value<Value>* shared_;
  std::optional<typename shared_value<Value>::fetch_guard> guard_;
  std::optional<Value> used_;
  bool refetched_ = false;
};

}  // namespace cbcs::protocol::ca
