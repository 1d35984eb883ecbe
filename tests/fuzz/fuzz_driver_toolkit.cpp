// The small parsers of the driver toolkit that read outside input: the
// Retry-After header (delta-seconds and HTTP-dates), XML error bodies, the
// -ratelimit and -maxpending options, and order tokens read back from the
// journal. The first byte picks the parser. Properties: nothing throws; a
// wait is never more than an hour; an accepted rate limit and an accepted
// order token read back from their own text.

#include <string>

#include "fuzz_check.hpp"
#include "protocol/ca/common/pending_order.hpp"
#include "protocol/ca/common/rate_limits.hpp"
#include "protocol/ca/common/retry_after.hpp"
#include "protocol/common/xml.hpp"

using namespace cbcs;
namespace ca = protocol::ca;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto text = fuzz::as_text(data + 1, size - 1);
  try {
    switch (data[0] % 5) {
      case 0: {
        auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'750'000'000));
        auto wait = ca::parse_retry_after(text, now);
        fuzz::check(!wait || (wait->count() >= 0 && *wait <= ca::max_retry_after),
                    "a Retry-After wait outside 0 .. 1 h", text);
        ca::parse_http_date(text);
        break;
      }
      case 1:
        for (auto name : {"Code", "Message"}) {
          auto found = protocol::xml_first_text(text, name);
          fuzz::check(!found || found->size() <= text.size(), "XML text longer than the input");
        }
        break;
      case 2: {
        std::string error;
        auto limits = ca::parse_rate_limits(text, &error);
        fuzz::check(limits.has_value() == error.empty(), "a limit with an error, or neither");
        if (limits) {
          auto again = ca::parse_rate_limits(ca::format_rate_limits(*limits));
          fuzz::check(again && *again == *limits, "rate limits do not read back",
                      ca::format_rate_limits(*limits));
        }
        break;
      }
      case 3: {
        auto token = ca::decode_order_token(text);
        if (token) {
          auto again = ca::decode_order_token(ca::encode(*token));
          fuzz::check(again && *again == *token, "an order token does not read back", text);
        }
        break;
      }
      case 4:
        if (auto d = ca::parse_duration(text))
          fuzz::check(d->count() > 0, "a duration that is not positive", text);
        break;
    }
  } catch (const std::exception& e) {
    fuzz::fail("a toolkit parser threw", e.what());
  }
  return 0;
}
