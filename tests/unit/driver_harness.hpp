#pragma once
// Drives a driver's job session through scripted exchanges, as the backend
// actor would: each request the session sends must match the next expected
// one, which is answered with a canned response (or with no answer: a
// network error or a lost reply); pending and retryable outcomes are called
// again with nullptr. For every driver's unit tests, no network.

#include <chrono>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "protocol/ca/driver.hpp"

namespace cbcs::test {

struct exchange {
  // What the session must send. "" = any method; a url ending in '*' is a prefix.
  std::string method;
  std::string url;
  std::vector<std::string> body_has;                         // substrings of the body
  std::vector<std::pair<std::string, std::string>> headers;  // present; value "" = any
  // The answer.
  protocol::ca::http_response answer{200, {}, ""};
  bool no_answer = false;  // a network error: the session is called with nullptr
};

struct drive_result {
  protocol::ca::outcome outcome;                 // the final one
  std::vector<protocol::ca::http_request> sent;  // every request, in order
  std::vector<protocol::ca::outcome> interim;    // pending and retryable ones
  int awaits = 0;                                // await_fetch steps
};

// Runs `session` until a final outcome (issued, done, or a failure that is
// not retryable). Its clock (ctx.now) moves on by each pending outcome's
// poll_after, as the actor waits that long. A request that does not match the next exchange, one
// more request than scripted, or an exchange left over fails the test with
// what was expected and what came.
drive_result drive(protocol::ca::job_session& session, std::span<const exchange> script,
                   protocol::ca::step_context ctx, int max_steps = 200);

}  // namespace cbcs::test
