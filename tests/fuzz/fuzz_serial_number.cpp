// crypto::serial_number, the parser of serials typed by operators (-serial)
// and sent by SCM and the CAs: any text is accepted or refused with a
// one-line reason, never a crash; an accepted serial reads back as itself
// from every form cbcs writes it in, and has no leading zero byte.

#include <string>

#include "crypto/serial_number.hpp"
#include "fuzz_check.hpp"

using namespace cbcs;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = fuzz::as_text(data, size);
  std::string error;
  auto serial = crypto::serial_number::parse(text, &error);
  if (!serial) {
    fuzz::check(!error.empty() && error.find('\n') == std::string::npos,
                "a refusal without a one-line reason", text);
    return 0;
  }
  const auto& v = serial->value();
  fuzz::check(!v.empty() && v.front() != 0, "leading zero byte or empty value", text);
  for (const auto& form :
       {serial->hex(), serial->hex_upper(), serial->hex_minimal(), serial->colon_upper()}) {
    auto again = crypto::serial_number::parse(form);
    fuzz::check(again && *again == *serial, "a written form does not read back", form);
  }
  fuzz::check(serial->hex().size() == 2 * v.size(), "hex is not two digits per byte", text);
  return 0;
}
