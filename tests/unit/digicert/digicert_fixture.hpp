#pragma once
// A CertCentral account for the driver tests: an organization, keys and
// certificates made on the fly (a root, an intermediate, leaves for CSRs),
// and the answers CertCentral gives, as its documentation shows them.

#include <memory>
#include <string>
#include <vector>

#include "crypto/openssl_types.hpp"
#include "protocol/ca/driver.hpp"

namespace cbcs::test::digicert {

inline const std::string base = "https://dc.test/services/v2";
inline const std::string api_key = "A1B2C3D4E5F6G7H8I9J0KLMNOPQRSTUV";

// A driver for the account with the given extra settings.
std::unique_ptr<protocol::ca::driver> make_driver(
    std::map<std::string, std::string, std::less<>> settings = {});

struct keyed_csr {
  std::string csr_pem;
  crypto::pkey_ptr key;
};
keyed_csr make_csr(const std::string& common_name, const std::vector<std::string>& dns = {});

// A CA of two levels; leaves are signed by the intermediate, whose CN is
// the same as the leaves' to prove the leaf is chosen by its key.
struct test_ca {
  test_ca();
  std::string leaf_for(const std::string& csr_pem, std::uint8_t serial);
  std::string root_pem, intermediate_pem;
  crypto::pkey_ptr root_key, intermediate_key;
};

std::string organizations_json(const std::string& validation_status = "validated",
                               bool two = false);
// An order answer: {id, status, certificate{id, serial_number, csr}, requests, comments}.
std::string order_json(const std::string& id, const std::string& status,
                       const std::string& csr = {}, const std::string& request_status = {},
                       const std::string& comments = {});
std::string with_crlf(std::string pem);

}  // namespace cbcs::test::digicert
