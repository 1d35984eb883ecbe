// protocol::ca::read_vendor_error: reads every CA's error answers, which are
// untrusted bytes. Never throws; the message is one line within its limit;
// a code is printable ASCII without spaces within its limit.

#include "fuzz_check.hpp"
#include "protocol/ca/common/vendor_error.hpp"
#include "protocol/common/text.hpp"

using namespace cbcs;
namespace ca = protocol::ca;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto body = fuzz::as_text(data, size);
  static const ca::vendor_error_shape shapes[] = {
      {.at = {"errors", "error"}, .code = {"code"}, .message = {"message"}},
      {.at = {"error"}, .code = {"status", "code"}, .message = {"message"}},
      {.at = {""}, .code = {"__type", "code"}, .message = {"message", "Message"}},
  };
  for (const auto& shape : shapes) {
    ca::vendor_error e;
    try {
      e = ca::read_vendor_error(body, shape);
    } catch (const std::exception& ex) {
      fuzz::fail("read_vendor_error threw", ex.what());
    }
    fuzz::check(protocol::one_line(e.message, 400) == e.message,
                "the message is not one line within 400 bytes", e.message);
    for (char c : e.code)
      fuzz::check(c > ' ' && c < 0x7f, "the code holds a space or a control character", e.code);
  }
  return 0;
}
