#pragma once

#include <stdexcept>
#include <string>

namespace cbcs::crypto {

// Drains OpenSSL's error queue into one line (empty when the queue is empty).
std::string drain_openssl_errors();

// A failure inside OpenSSL; what() says which step and OpenSSL's reason.
class crypto_error : public std::runtime_error {
 public:
  explicit crypto_error(const std::string& step);
};

}  // namespace cbcs::crypto
