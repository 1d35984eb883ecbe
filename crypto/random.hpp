#pragma once

#include "crypto/bytes.hpp"

namespace cbcs::crypto {

// Bytes from OpenSSL's CSPRNG; throws crypto_error if it cannot deliver.
bytes random_bytes(std::size_t n);

}  // namespace cbcs::crypto
