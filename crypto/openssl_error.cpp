#include "crypto/openssl_error.hpp"

#include <openssl/err.h>

namespace cbcs::crypto {

std::string drain_openssl_errors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

crypto_error::crypto_error(const std::string& step)
    : std::runtime_error([&] {
        auto detail = drain_openssl_errors();
        return detail.empty() ? step : step + ": " + detail;
      }()) {}

}  // namespace cbcs::crypto
