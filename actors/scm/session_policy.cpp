#include "actors/scm/session_policy.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <simdjson.h>

#include "protocol/common/json_writer.hpp"

namespace cbcs::actors::scm_policy {

std::chrono::milliseconds backoff_delay(unsigned attempt, double u) {
  u = std::clamp(u, 0.0, 1.0);
  auto cap = std::chrono::duration_cast<std::chrono::milliseconds>(backoff_cap).count();
  std::int64_t ceiling = attempt >= 16 ? cap : std::min<std::int64_t>(cap, 1000LL << attempt);
  return std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>(ceiling) * u));
}

std::chrono::milliseconds bye_delay(std::int64_t reconnect_after_ms, double u) {
  u = std::clamp(u, 0.0, 1.0);
  auto base = std::clamp<std::int64_t>(reconnect_after_ms, 0, 24LL * 3600 * 1000);
  return std::chrono::milliseconds(base +
                                   static_cast<std::int64_t>(static_cast<double>(base) * 0.1 * u));
}

std::chrono::milliseconds heartbeat_interval(std::int64_t from_scm_ms) {
  return std::chrono::milliseconds(std::clamp<std::int64_t>(from_scm_ms, 100, 300'000));
}

std::chrono::system_clock::time_point renewal_time(
    std::chrono::system_clock::time_point not_before,
    std::chrono::system_clock::time_point not_after) {
  if (not_after <= not_before) return not_before;
  return not_before + (not_after - not_before) * 2 / 3;
}

bool malformed_limit::record(std::chrono::steady_clock::time_point now) {
  seen_.push_back(now);
  while (!seen_.empty() && now - seen_.front() > 60s) seen_.pop_front();
  return seen_.size() > 10;
}

std::string link_status_line(link_state s, std::int64_t offline_since_ms,
                             std::string_view message) {
  auto since =
      fmt::format("{:%Y-%m-%d %H:%M:%S} UTC",
                  std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::time_point(
                      std::chrono::milliseconds(std::max<std::int64_t>(offline_since_ms, 0)))));
  auto why = message.empty() ? std::string{} : fmt::format(": {}", message.substr(0, 200));
  switch (s) {
    case link_state::ready:
      return "connected to SCM";
    case link_state::draining:
      return "connected to SCM, draining";
    case link_state::connecting:
    case link_state::hello_sent:
      return fmt::format("connecting to SCM (offline since {})", since);
    case link_state::waiting:
    case link_state::closed:
      return fmt::format("offline since {}{}", since, why);
    case link_state::not_registered:
      return fmt::format("not registered{}", why);
    case link_state::certificate_expired:
      return fmt::format("offline since {}, certificate expired{}", since, why);
    case link_state::deregistered:
      return fmt::format("offline since {}, deregistered by SCM{}", since, why);
    case link_state::stopped:
      return "stopped";
  }
  return to_string(s);
}

const char* to_string(link_state s) {
  switch (s) {
    case link_state::not_registered:
      return "not_registered";
    case link_state::waiting:
      return "waiting";
    case link_state::connecting:
      return "connecting";
    case link_state::hello_sent:
      return "hello_sent";
    case link_state::ready:
      return "ready";
    case link_state::draining:
      return "draining";
    case link_state::closed:
      return "closed";
    case link_state::certificate_expired:
      return "certificate_expired";
    case link_state::deregistered:
      return "deregistered";
    case link_state::stopped:
      return "stopped";
  }
  return "unknown";
}

std::string encode_status(const status_record& s) {
  protocol::json_writer w;
  w.begin_object()
      .member("state", s.state)
      .member("connector_id", s.connector_id)
      .member("session_url", s.session_url)
      .member("pid", s.pid)
      .member("updated_at_ms", s.updated_at_ms)
      .member("since_ms", s.since_ms)
      .member("last_heartbeat_ms", s.last_heartbeat_ms)
      .member("connected_since_ms", s.connected_since_ms)
      .member("jobs_received", s.jobs_received)
      .member("results_sent", s.results_sent)
      .member("results_acked", s.results_acked)
      .member("message", s.message)
      .member("journal", s.journal);
  w.key("backends").begin_array();
  for (const auto& b : s.backends) {
    w.begin_object()
        .member("name", b.name)
        .member("type", b.type)
        .member("health", protocol::scm::to_string(b.state));
    if (!b.message.empty()) w.member("message", b.message);
    w.end_object();
  }
  w.end_array();
  w.key("pending_at_ca").begin_object();
  for (const auto& [name, jobs] : s.pending_at_ca) w.member(name, jobs);
  w.end_object().end_object();
  return w.str() + "\n";
}

std::optional<status_record> decode_status(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(simdjson::padded_string(text)).get_object().get(obj)) return std::nullopt;
  status_record s;
  std::string_view v;
  if (obj["state"].get_string().get(v)) return std::nullopt;
  s.state = std::string(v);
  auto str = [&](const char* k, std::string& out) {
    if (!obj[k].get_string().get(v)) out = std::string(v);
  };
  auto i64 = [&](const char* k, std::int64_t& out) {
    std::int64_t n = 0;
    if (!obj[k].get_int64().get(n)) out = n;
  };
  auto u64 = [&](const char* k, std::uint64_t& out) {
    std::uint64_t n = 0;
    if (!obj[k].get_uint64().get(n)) out = n;
  };
  str("connector_id", s.connector_id);
  str("session_url", s.session_url);
  str("message", s.message);
  str("journal", s.journal);
  i64("pid", s.pid);
  i64("updated_at_ms", s.updated_at_ms);
  i64("since_ms", s.since_ms);
  i64("last_heartbeat_ms", s.last_heartbeat_ms);
  i64("connected_since_ms", s.connected_since_ms);
  u64("jobs_received", s.jobs_received);
  u64("results_sent", s.results_sent);
  u64("results_acked", s.results_acked);
  simdjson::dom::object pending;
  if (!obj["pending_at_ca"].get_object().get(pending))
    for (auto [key, value] : pending) {
      std::uint64_t n = 0;
      if (!value.get_uint64().get(n)) s.pending_at_ca[std::string(key)] = n;
    }
  simdjson::dom::array backends;
  if (!obj["backends"].get_array().get(backends)) {
    for (auto element : backends) {
      simdjson::dom::object b;
      if (element.get_object().get(b)) continue;
      protocol::scm::backend_info info;
      std::string_view field;
      if (b["name"].get_string().get(field)) continue;
      info.name = std::string(field);
      if (!b["type"].get_string().get(field)) info.type = std::string(field);
      if (!b["health"].get_string().get(field))
        info.state = protocol::scm::health_from_string(field);
      if (!b["message"].get_string().get(field)) info.message = std::string(field);
      s.backends.push_back(std::move(info));
    }
  }
  return s;
}

}  // namespace cbcs::actors::scm_policy
