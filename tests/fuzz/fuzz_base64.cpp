// crypto::base64_decode (AWS blobs, PEM bodies) and base64_encode: decoding
// any text never crashes; decode(encode(x)) == x; and decoding is strict, so
// an accepted text is exactly the encoding of what it decodes to.

#include <algorithm>
#include <string>

#include "crypto/base64.hpp"
#include "fuzz_check.hpp"

using namespace cbcs;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  crypto::byte_view bytes{data, size};
  auto encoded = crypto::base64_encode(bytes);
  fuzz::check(encoded.size() == (size + 2) / 3 * 4, "encoded length is wrong", encoded);
  auto decoded = crypto::base64_decode(encoded);
  fuzz::check(decoded.has_value(), "base64_decode refused base64_encode's output", encoded);
  fuzz::check(decoded->size() == size && std::equal(decoded->begin(), decoded->end(), data),
              "decode(encode(x)) != x", encoded);

  auto text = fuzz::as_text(data, size);
  if (auto garbage = crypto::base64_decode(text)) {
    fuzz::check(crypto::base64_encode(*garbage) == text,
                "an accepted text is not the encoding of what it decodes to", text);
  }
  return 0;
}
