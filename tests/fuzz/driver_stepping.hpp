#pragma once
// The loop every driver fuzz target runs: one session stepped for up to
// max_steps steps, every answer taken from the input, as the backend actor
// would step it. Whatever the CA (or something in between) answers, next()
// returns a request or an outcome and never throws.
//
// Input: one scenario byte (the target's), then answers separated by 0xff (a
// byte JSON text never holds). An answer is a status byte and the body; the
// last answer is repeated while the session asks for more, so a plain body is
// the answer to every step. Status byte: bits 0-3 pick the status from the
// target's `statuses` (-1 there: no answer, next(nullptr)); bit 6 also sends
// the body in the target's `body_headers` (Retry-After, ...); bit 7: the call
// was held back by the rate limit or the breaker and never went out
// (next(nullptr) with step_context::unsent), except a side call, which the
// actor never holds back (the bit is then ignored).
//
// Every outcome must survive the journal (to_json, then outcome_from_json),
// and its message must be one line of valid UTF-8 without the target's
// secrets (driver.hpp: "one line, no secrets"); a backend code is an
// identifier of at most 128 characters.

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <simdjson.h>

#include "crypto/certificate_authority.hpp"
#include "crypto/pem.hpp"
#include "fuzz_check.hpp"
#include "protocol/ca/driver.hpp"
#include "protocol/ca/job_codec.hpp"

namespace cbcs::fuzz {

struct scripted_answer {
  std::uint8_t status_byte = 0;
  std::string_view body;
};

inline std::vector<scripted_answer> split_answers(std::string_view rest) {
  std::vector<scripted_answer> out;
  while (true) {
    auto cut = rest.find('\xff');
    auto part = rest.substr(0, cut);
    scripted_answer a;
    if (!part.empty()) {
      a.status_byte = static_cast<std::uint8_t>(part.front());
      a.body = part.substr(1);
    }
    out.push_back(a);
    if (cut == std::string_view::npos) break;
    rest.remove_prefix(cut + 1);
  }
  return out;
}

// One line of UTF-8 without any of `secrets`; an identifier as the code;
// and the journal reads it back (it stores every outcome as JSON).
inline void check_driver_outcome(const protocol::ca::outcome& o,
                                 const std::vector<std::string>& secrets) {
  for (const auto& s : secrets)
    check(o.message.find(s) == std::string::npos, "an outcome message carries a credential",
          o.message);
  for (unsigned char c : o.message)
    check(c >= 0x20 && c != 0x7f, "an outcome message is not one line", o.message);
  // Checked here, not only through the journal, which repairs bad UTF-8.
  check(simdjson::validate_utf8(o.message), "an outcome message is not UTF-8", o.message);
  check(o.backend_code.size() <= 128 &&
            std::all_of(o.backend_code.begin(), o.backend_code.end(),
                        [](char c) {
                          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                                 c == '.' || c == '-';
                        }),
        "a backend code is not an identifier", o.backend_code);
  auto json = protocol::ca::to_json(o);
  try {
    (void)protocol::ca::outcome_from_json(json);
  } catch (const std::exception& e) {
    fail("the journal could not read this outcome back", std::string(e.what()) + " in " + json);
  }
}

// What a target says about its driver; the loop does the rest.
struct stepping_rules {
  // Bits 0-3 of the status byte pick one; -1: no answer.
  std::array<int, 16> statuses{};
  int max_steps = 24;
  // step_context::now of every step: time stands still in a fuzzed session.
  std::chrono::system_clock::time_point now =
      std::chrono::sys_days{std::chrono::year{2024} / 5 / 17} + std::chrono::hours(8);
  // Headers that carry the body when bit 6 of the status byte is set.
  std::vector<std::string> body_headers{"Retry-After"};
  // Texts no outcome message may hold (keys, tokens); a target may add to it
  // while the session runs (a token an answer handed out).
  std::vector<std::string> secrets;
  // The target's properties of every request (fuzz::check inside).
  std::function<void(const protocol::ca::http_request&)> check_request;
  // Sees each answer, with its request, before the session does.
  std::function<void(const protocol::ca::http_request&, const protocol::ca::http_response&)>
      on_answer;
};

// Steps `session` with the answers in `answers_text` (the input after the
// scenario byte) until it closes or max_steps have passed.
inline void step_session(protocol::ca::job_session& session, std::string_view answers_text,
                         stepping_rules& rules) {
  namespace ca = protocol::ca;
  auto answers = split_answers(answers_text);
  const ca::http_response* previous = nullptr;
  ca::http_response response;
  bool unsent = false;
  std::size_t answered = 0;
  for (int i = 0; i < rules.max_steps; ++i) {
    auto step = session.next(previous, {.now = rules.now, .unsent = unsent});
    unsent = false;
    previous = nullptr;
    if (auto* o = std::get_if<ca::outcome>(&step)) {
      check_driver_outcome(*o, rules.secrets);
      bool open = o->what == ca::outcome::kind::pending ||
                  (o->what == ca::outcome::kind::failed && o->retryable);
      if (!open) break;
      continue;  // the actor calls again after the pause
    }
    // One session alone never waits for another's credential.
    check(!std::holds_alternative<ca::await_fetch>(step),
          "a lone session awaits another session's credential");
    const auto& request = std::get<ca::http_request>(step);
    if (rules.check_request) rules.check_request(request);
    const auto& a = answers[std::min(answered++, answers.size() - 1)];
    int status = rules.statuses[a.status_byte & 15];
    if (status < 0) continue;
    if ((a.status_byte & 0x80) && !request.side_call) {
      unsent = true;
      continue;
    }
    response = ca::http_response{status, {}, std::string(a.body)};
    if (a.status_byte & 0x40)
      for (const auto& name : rules.body_headers)
        response.headers.push_back({name, std::string(a.body)});
    if (rules.on_answer) rules.on_answer(request, response);
    previous = &response;
  }
}

// --- The job a target's scenario byte picks, set up alike in every target.

// The job, where an earlier run left it, and whether SCM cancels it (the
// driver's cancels_orders session runs in place of the job's).
struct scenario {
  protocol::ca::job job;
  std::string resume_token;
  bool cancel = false;
};

// An enroll of the one job id every target uses.
inline scenario enroll_scenario(std::string backend, std::string csr_pem) {
  scenario s;
  s.job.id = "fuzz-job-1";
  s.job.backend = std::move(backend);
  s.job.csr_pem = std::move(csr_pem);
  return s;
}

// Made once: a CSR for web.example and a certificate (a renewal names one).
struct test_material {
  std::string csr_pem;
  std::string cert_pem;
};
inline const test_material& web_example_material() {
  static const test_material m = [] {
    using namespace std::chrono_literals;
    auto now = std::chrono::system_clock::now();
    auto root = crypto::create_root_ca("ecdsa-p256", "web.example", now, 24h * 30);
    auto key = crypto::generate_key("ecdsa-p256");
    return test_material{crypto::create_csr(key.get(), "web.example", {"web.example"}),
                         root.cert_pem};
  }();
  return m;
}

// The job made a revoke of the targets' one serial.
inline void make_revoke(scenario& s, std::string reason) {
  s.job.op = protocol::ca::operation::revoke;
  s.job.serial_hex = "0a1b2c3d";
  s.job.reason = std::move(reason);
}

// The resume token of the order every target's CA holds for the job.
inline constexpr std::string_view waiting_order = "order:1715930000:4001";

// SCM cancels the job while its order waits at the CA.
inline void make_cancel(scenario& s) {
  s.cancel = true;
  s.resume_token = waiting_order;
}

// The picks every CA that takes orders shares (DigiCert, Entrust): 1 the
// job resumed, polling its order; 2 a renewal; 3 a revoke for
// keyCompromise; 5 backend test; any other an enroll, for the target's own.
inline scenario ordering_scenario(std::string backend, std::uint8_t pick) {
  const auto& m = web_example_material();
  auto s = enroll_scenario(std::move(backend), m.csr_pem);
  switch (pick) {
    case 1:
      s.resume_token = waiting_order;
      break;
    case 2:
      s.job.op = protocol::ca::operation::renew;
      s.job.cert_pem = m.cert_pem;
      break;
    case 3:
      make_revoke(s, "keyCompromise");
      break;
    case 5:
      s.job.op = protocol::ca::operation::test;
      break;
    default:
      break;
  }
  return s;
}

// The session the actor would run for `s`.
inline std::unique_ptr<protocol::ca::job_session> start_scenario(protocol::ca::driver& driver,
                                                                 const scenario& s) {
  if (!s.cancel) return driver.start(s.job, s.resume_token);
  auto* canceller = dynamic_cast<protocol::ca::cancels_orders*>(&driver);
  check(canceller != nullptr, "a cancel scenario for a driver that cannot cancel orders");
  return canceller->cancel(s.job, s.resume_token, "fuzz");
}

// Runs `body` (making the driver and stepping its session): a driver that
// throws violates the property.
template <class F>
void expect_no_throw(std::string_view driver, F&& body) {
  try {
    body();
  } catch (const std::exception& e) {
    fail(std::string("the ") + std::string(driver) + " driver threw", e.what());
  } catch (...) {
    fail(std::string("the ") + std::string(driver) +
         " driver threw something that is not a std::exception");
  }
}

}  // namespace cbcs::fuzz
