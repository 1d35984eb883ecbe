#include "crypto/random.hpp"

#include <openssl/rand.h>

#include "crypto/openssl_error.hpp"

namespace cbcs::crypto {

bytes random_bytes(std::size_t n) {
  bytes out(n);
  if (n != 0 && RAND_bytes(out.data(), static_cast<int>(n)) != 1)
    throw crypto_error("random number generator failed");
  return out;
}

}  // namespace cbcs::crypto
