#pragma once
// Rate limits of a backend: per call class ("issue", "get"; "" for every other
// call), one or more windows that all apply at once (DigiCert: 100 requests
// per 5 s AND 1,000 per 3 min on the same key). A type declares the service's
// published quotas; `-ratelimit` replaces them.
//
// Text form (the -ratelimit option, and what help prints):
//   off
//   CLASS=SPEC[,CLASS=SPEC...]     CLASS "default" names every other call
//   SPEC = RATE                    requests per second, e.g. issue=25 or default=0.5
//        | N/DURATION[+N/DURATION...]   at most N in any DURATION (sliding),
//                                       e.g. default=100/5s+1000/3m
//   DURATION = a number with s, m or h (a bare "s", "m", "h" means one)

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cbcs::protocol::ca {

// A sustained rate (`requests` per `window` on average, bursts up to
// `requests`: a token bucket, how AWS states its quotas), or with `sliding`
// at most `requests` calls in any `window` (how DigiCert states its limits).
struct rate_window {
  double requests = 0;
  std::chrono::milliseconds window{1000};
  bool sliding = false;

  double per_second() const { return requests * 1000.0 / static_cast<double>(window.count()); }
  bool operator==(const rate_window&) const = default;
};

struct call_class_limit {
  std::string call_class;  // "" = every call whose class has no limit of its own
  std::vector<rate_window> windows;
  bool operator==(const call_class_limit&) const = default;
};

// Empty: no limit at all.
using rate_limits = std::vector<call_class_limit>;

// Parses the text form; nullopt with `error` set (never the value) when it is wrong.
std::optional<rate_limits> parse_rate_limits(std::string_view text, std::string* error = nullptr);

// The text form of `limits` ("off" when empty); parse_rate_limits reads it back.
std::string format_rate_limits(const rate_limits& limits);

}  // namespace cbcs::protocol::ca
