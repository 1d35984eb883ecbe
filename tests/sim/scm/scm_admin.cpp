// The admin API of the simulated SCM: plain JSON over HTTP on loopback, for
// tests to create connectors, submit jobs, read results, move the clock and
// inject faults. Routes: tests/sim/README.md.

#include <simdjson.h>

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "crypto/digest.hpp"
#include "crypto/random.hpp"
#include "protocol/ca/job_codec.hpp"
#include "tests/sim/common/json_out.hpp"
#include "tests/sim/scm/scm_state.hpp"

namespace cbcs::sim::scm {
namespace {

namespace dom = simdjson::dom;

http_answer fail(int status, std::string_view code, std::string_view message) {
  return {status, json_object{}.str("error", code).str("message", message).done()};
}

http_answer not_found() { return fail(404, "not_found", "no such resource"); }

// The body as a JSON object; an empty body reads as {}.
std::optional<dom::object> parse_body(dom::parser& parser, std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) body = "{}";
  dom::object obj;
  if (parser.parse(body.data(), body.size()).get_object().get(obj)) return std::nullopt;
  return obj;
}

std::string optional_string(dom::object obj, std::string_view key) {
  std::string_view v;
  if (obj[key].get_string().get(v)) return {};
  return std::string(v);
}

std::string backends_json(const std::vector<proto::backend_info>& backends) {
  json_array a;
  for (const auto& b : backends)
    a.raw(json_object{}
              .str("name", b.name)
              .str("type", b.type)
              .str("health", to_string(b.state))
              .str("message", b.message)
              .done());
  return a.done();
}

// Splits "a/b/c" off its first segment: returns "a", leaves "b/c" in rest.
std::string_view next_segment(std::string_view& rest) {
  auto slash = rest.find('/');
  auto head = rest.substr(0, slash);
  rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  return head;
}

}  // namespace

std::string scm_state::connector_json(const connector_record& c) const {
  return json_object{}
      .str("id", c.id)
      .str("name", c.name)
      .str("comments", c.comments)
      .str("status", to_string(c.status))
      .str("version", c.version)
      .str("hostname", c.hostname)
      .str("os", c.os)
      .str("os_version", c.os_version)
      .raw("backends", backends_json(c.backends))
      .num("registered_at_ms", c.registered_at_ms)
      .num("last_seen_ms", c.last_seen_ms)
      .num("offline_since_ms", c.offline_since_ms)
      .num("certificate_not_after_ms", c.cert_not_after_ms)
      .boolean("certificate_expired", c.cert_not_after_ms && c.cert_not_after_ms < now_ms())
      .num("sessions", c.sessions)
      .num("jobs", static_cast<std::int64_t>(c.jobs.size()))
      .done();
}

std::string scm_state::job_json(const job_record& j) const {
  json_object o;
  o.str("id", j.job.id)
      .str("state", to_string(j.st))
      .raw("job", protocol::ca::to_json(j.job))
      .str("lease_id", j.lease_id)
      .num("lease_expires_at_ms", j.lease_expires_at_ms)
      .num("deliveries", j.deliveries)
      .num("acks", j.acks)
      .str("refusal_reason", j.refusal_reason)
      .str("refusal_message", j.refusal_message)
      .num("pending_reports", j.pending_reports)
      .str("pending_message", j.pending_message)
      .str("pending_reason", j.pending_reason)
      .num("connector_errors", static_cast<std::int64_t>(j.connector_errors.size()))
      .str("last_connector_error",
           j.connector_errors.empty() ? std::string{} : j.connector_errors.back())
      .num("result_count", j.result_count);
  if (j.result_json) o.raw("result", *j.result_json);
  return o.done();
}

http_answer scm_state::admin(std::string_view method, std::string_view target,
                             std::string_view body) {
  target = target.substr(0, target.find('?'));
  if (target.size() > 1 && target.back() == '/') target.remove_suffix(1);
  if (target == "/health") return {200, R"({"ok":true})"};
  if (target == "/clock") return admin_clock(method, body);
  if (target == "/faults") return admin_faults(method, body);
  if (target == "/connectors") return admin_connectors(method, body);
  if (target.starts_with("/connectors/")) {
    auto rest = target.substr(12);
    auto id = next_segment(rest);
    auto* c = find(id);
    if (!c) return fail(404, "not_found", "no such connector");
    return admin_connector(method, *c, rest, body);
  }
  return not_found();
}

http_answer scm_state::admin_connectors(std::string_view method, std::string_view body) {
  if (method == "GET") {
    json_array a;
    for (const auto& [id, c] : connectors_) a.raw(connector_json(c));
    return {200, a.done()};
  }
  if (method != "POST") return fail(405, "method_not_allowed", "use GET or POST");
  dom::parser parser;
  auto obj = parse_body(parser, body);
  if (!obj) return fail(400, "bad_request", "the body must be a JSON object");
  connector_record c;
  do c.id = "c-" + crypto::to_hex(crypto::random_bytes(4));
  while (connectors_.count(c.id));
  c.name = optional_string(*obj, "name");
  c.comments = optional_string(*obj, "comments");
  // Optional, for tests of token expiry: seconds until the token expires.
  std::int64_t ttl = 0;
  if ((*obj)["token_ttl_seconds"].get_int64().get(ttl)) ttl = 24 * 3600;
  auto token = new_token(c.id, false, std::chrono::seconds(ttl));
  auto id = c.id;
  connectors_.emplace(id, std::move(c));
  return {201, json_object{}.str("id", id).str("token", token).str("status", "Pending").done()};
}

http_answer scm_state::admin_connector(std::string_view method, connector_record& c,
                                       std::string_view rest, std::string_view body) {
  auto what = next_segment(rest);
  if (what.empty()) {
    if (method == "GET") return {200, connector_json(c)};
    if (method != "DELETE") return fail(405, "method_not_allowed", "use GET or DELETE");
    if (auto s = c.session.lock()) s->say_bye(proto::bye_reason::deregistered, "deleted in SCM");
    std::erase_if(tokens_, [&](const auto& kv) { return kv.second.connector_id == c.id; });
    auto id = c.id;
    connectors_.erase(id);
    return {200, json_object{}.str("deleted", id).done()};
  }
  if (what == "restore" && method == "POST" && rest.empty())
    return {200, json_object{}.str("token", new_token(c.id, true, std::chrono::hours(24))).done()};
  if (what == "jobs" && rest.empty()) {
    if (method == "POST") return admin_submit_jobs(c, body);
    json_array a;
    for (const auto& id : c.job_order) a.raw(job_json(c.jobs.at(id)));
    return {200, a.done()};
  }
  if (what == "jobs" && method == "POST" && rest.ends_with("/cancel")) {
    // POST /connectors/ID/jobs/JOB/cancel, the body the reason: SCM cancels it.
    auto job = std::string(rest.substr(0, rest.size() - 7));
    if (!c.jobs.count(job)) return fail(404, "not_found", "no such job");
    auto session = c.session.lock();
    if (!session) return fail(409, "offline", "the connector is not connected");
    // The reason: the body as text (a JSON string's quotes taken off).
    auto reason = body;
    if (reason.size() >= 2 && reason.front() == '"' && reason.back() == '"')
      reason = reason.substr(1, reason.size() - 2);
    session->send_cancel(job, std::string(reason));
    return {200, json_object{}.str("cancel_sent", job).done()};
  }
  if (what == "jobs" && method == "GET") {
    auto it = c.jobs.find(rest);
    if (it == c.jobs.end()) return fail(404, "not_found", "no such job");
    return {200, job_json(it->second)};
  }
  if (what == "stats" && method == "GET" && rest.empty()) {
    // Latency from the first job frame to the first result, per job, and
    // the span from the first frame sent to the last result received.
    std::vector<std::int64_t> latency;
    std::int64_t first_sent = 0, last_result = 0;
    for (const auto& [id, j] : c.jobs) {
      if (j.first_sent_us && (!first_sent || j.first_sent_us < first_sent))
        first_sent = j.first_sent_us;
      if (!j.first_result_us || !j.first_sent_us) continue;
      latency.push_back(j.first_result_us - j.first_sent_us);
      last_result = std::max(last_result, j.first_result_us);
    }
    std::sort(latency.begin(), latency.end());
    auto at = [&](double q) {
      return latency.empty() ? 0
                             : latency[std::min(latency.size() - 1,
                                                static_cast<std::size_t>(q * latency.size()))];
    };
    return {200, json_object{}
                     .num("jobs", static_cast<std::int64_t>(c.jobs.size()))
                     .num("results", static_cast<std::int64_t>(latency.size()))
                     .num("p50_us", at(0.50))
                     .num("p99_us", at(0.99))
                     .num("max_us", latency.empty() ? 0 : latency.back())
                     .num("span_us", last_result > first_sent ? last_result - first_sent : 0)
                     .done()};
  }
  // The counts a long run checks (a million results' certificates are
  // gigabytes): outcomes by word, results delivered more than once, and the
  // first jobs still without a result.
  if (what == "results_summary" && method == "GET" && rest.empty()) {
    std::map<std::string, std::int64_t> outcomes;
    std::int64_t with_result = 0, redelivered = 0;
    json_array missing;
    std::size_t missing_listed = 0;
    for (const auto& id : c.job_order) {
      const auto& j = c.jobs.at(id);
      if (!j.result_json) {
        if (missing_listed++ < 5) missing.str(id);
        continue;
      }
      ++with_result;
      if (j.result_count > 1) ++redelivered;
      constexpr std::string_view key = "\"outcome\":\"";
      std::string_view text(*j.result_json);
      auto at = text.find(key);
      auto word = at == std::string_view::npos
                      ? std::string_view("unknown")
                      : text.substr(at + key.size(), text.find('"', at + key.size()) - at - key.size());
      ++outcomes[std::string(word)];
    }
    json_object by_word;
    for (const auto& [word, n] : outcomes) by_word.num(word, n);
    return {200, json_object{}
                     .num("jobs", static_cast<std::int64_t>(c.job_order.size()))
                     .num("with_result", with_result)
                     .num("delivered_more_than_once", redelivered)
                     .raw("outcomes", by_word.done())
                     .raw("missing", missing.done())
                     .done()};
  }
  if (what == "results" && method == "GET" && rest.empty()) {
    json_array a;
    for (const auto& id : c.job_order) {
      const auto& j = c.jobs.at(id);
      if (j.result_json)
        a.raw(json_object{}
                  .str("job_id", id)
                  .raw("outcome", *j.result_json)
                  .num("count", j.result_count)
                  .done());
    }
    return {200, a.done()};
  }
  return not_found();
}

http_answer scm_state::admin_submit_jobs(connector_record& c, std::string_view body) {
  dom::parser parser;
  dom::element root;
  if (parser.parse(body.data(), body.size()).get(root))
    return fail(400, "bad_request", "the body must be a job or a list of jobs");
  std::vector<dom::element> elements;
  if (dom::array list; !root.get_array().get(list))
    for (auto e : list) elements.push_back(e);
  else
    elements.push_back(root);
  std::vector<protocol::ca::job> parsed;
  for (std::size_t i = 0; i < elements.size(); ++i) {
    try {
      parsed.push_back(protocol::ca::job_from_json(simdjson::minify(elements[i])));
    } catch (const std::exception& e) {
      return fail(400, "bad_request", fmt::format("job {}: {}", i, e.what()));
    }
  }
  json_array accepted;
  for (auto& j : parsed) {
    auto id = j.id;
    auto [it, fresh] = c.jobs.try_emplace(id);
    if (fresh) {
      it->second.job = std::move(j);
      c.job_order.push_back(id);
    } else if (it->second.st != job_record::state::leased) {
      // The same id again: deliver it again (at-least-once), the connector must not run it twice.
      it->second.st = job_record::state::queued;
      c.offer_from = 0;  // it may sit before the cursor
    }
    accepted.str(id);
  }
  if (auto s = c.session.lock()) s->offer_jobs();
  return {200, json_object{}.raw("accepted", accepted.done()).done()};
}

http_answer scm_state::admin_clock(std::string_view method, std::string_view body) {
  if (method == "POST") {
    dom::parser parser;
    auto obj = parse_body(parser, body);
    std::int64_t seconds = 0;
    if (!obj || (*obj)["advance_seconds"].get_int64().get(seconds))
      return fail(400, "bad_request", "expected {\"advance_seconds\": N}");
    clock_offset_ += std::chrono::seconds(seconds);
  }
  return {
      200,
      json_object{}.num("now_ms", now_ms()).num("offset_seconds", clock_offset_.count()).done()};
}

http_answer scm_state::admin_faults(std::string_view method, std::string_view body) {
  if (method == "POST") {
    dom::parser parser;
    auto obj = parse_body(parser, body);
    if (!obj) return fail(400, "bad_request", "the body must be a JSON object");
    bool flag = false;
    std::int64_t n = 0;
    if (!(*obj)["reset"].get_bool().get(flag) && flag) faults_ = {};
    if (!(*obj)["duplicate_frames"].get_bool().get(flag)) faults_.duplicate_frames = flag;
    if (!(*obj)["refuse_renewal"].get_bool().get(flag)) faults_.refuse_renewal = flag;
    if (!(*obj)["delay_ms"].get_int64().get(n)) faults_.delay_ms = static_cast<int>(n);
    if (!(*obj)["garbage_frames"].get_int64().get(n) && n > 0) {
      // Sent now to the sessions that are up; otherwise to the next one.
      bool sent = false;
      for_each_session([&](session_link& s) {
        s.send_garbage(static_cast<int>(n));
        sent = true;
      });
      if (!sent) faults_.garbage_pending += static_cast<int>(n);
    }
    if (!(*obj)["drop_session"].get_bool().get(flag) && flag)
      for_each_session([](session_link& s) { s.drop(); });
  }
  return {200, json_object{}
                   .boolean("duplicate_frames", faults_.duplicate_frames)
                   .num("delay_ms", faults_.delay_ms)
                   .num("garbage_pending", faults_.garbage_pending)
                   .boolean("refuse_renewal", faults_.refuse_renewal)
                   .done()};
}

}  // namespace cbcs::sim::scm
