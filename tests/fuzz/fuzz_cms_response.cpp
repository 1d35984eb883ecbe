// The AD CS answer reader (crypto::read_ca_response): certs-only PKCS #7 and
// CMC Full PKI Responses as CES returns them, the same input as base64 text
// (read_ca_response_base64), and the request-side reader of name-value pairs
// (signed_name_value_pairs, which the simulator's CA runs on what clients
// send). Each throws cms_error with one non-empty line, or returns: at most
// 64 certificates, each PEM that OpenSSL reads back as one certificate; a
// status `unknown` only with the reason, `absent` for a certs-only answer.

#include <openssl/err.h>

#include <vector>

#include "crypto/cms_request.hpp"
#include "crypto/pem.hpp"
#include "fuzz_check.hpp"

using namespace cbcs;

namespace {

void check_line(const std::exception& e) {
  std::string_view what = e.what();
  fuzz::check(!what.empty(), "an empty error message");
  fuzz::check(what.find('\n') == std::string_view::npos, "a message of more than one line", what);
}

void check_response(const crypto::ca_response& r) {
  fuzz::check(r.certificates.size() <= 64, "more than 64 certificates returned");
  for (const auto& pem : r.certificates) {
    try {
      fuzz::check(crypto::parse_certificates(pem).size() == 1, "a PEM that is not one certificate");
    } catch (const std::exception& e) {
      fuzz::fail("a returned certificate does not read back", e.what());
    }
  }
  fuzz::check(r.cmc || r.status == crypto::cmc_status::absent,
              "a certs-only answer with a CMC status");
  fuzz::check(r.cmc || !r.certificates.empty(), "a certs-only answer without a certificate");
  fuzz::check(r.status != crypto::cmc_status::unknown || !r.problem.empty(),
              "status unknown without a reason");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ERR_clear_error();
  crypto::byte_view der{data, size};
  try {
    check_response(crypto::read_ca_response(der));
  } catch (const crypto::cms_error& e) {
    check_line(e);
  } catch (const std::exception& e) {
    fuzz::fail("read_ca_response threw something other than cms_error", e.what());
  }
  try {
    check_response(crypto::read_ca_response_base64(fuzz::as_text(data, size)));
  } catch (const crypto::cms_error& e) {
    check_line(e);
  } catch (const std::exception& e) {
    fuzz::fail("read_ca_response_base64 threw something other than cms_error", e.what());
  }
  std::vector<crypto::name_value_pair> pairs;
  try {
    pairs = crypto::signed_name_value_pairs(der);
  } catch (const crypto::cms_error& e) {
    check_line(e);
  } catch (const std::exception& e) {
    fuzz::fail("signed_name_value_pairs threw something other than cms_error", e.what());
  }
  // What was read as BMPStrings encodes again (UTF-8 within the BMP).
  for (const auto& pair : pairs) {
    try {
      crypto::encode_name_value_pair(pair);
    } catch (const std::exception& e) {
      fuzz::fail("a name-value pair read does not encode again", e.what());
    }
  }
  fuzz::check(ERR_peek_error() == 0, "OpenSSL's error queue left filled");
  ERR_clear_error();
  return 0;
}
