#pragma once
// The certificates a CA answers with (DigiCert's pem_all or its order
// answer, Entrust's chain) made into the job's leaf and its chain: any
// length, with or without the root, CRLF or LF line ends, duplicates once.
// The leaf is the certificate whose public key is the CSR's: never picked
// by its common name, which several certificates of a chain may share.

#include <optional>
#include <string>
#include <string_view>

namespace cbcs::protocol::ca {

struct issued_certificate {
  std::string leaf_pem;   // LF line ends, one trailing newline
  std::string chain_pem;  // the others in the CA's order, without the leaf; may be empty
  std::string serial_hex;
};

struct picked_leaf {
  std::optional<issued_certificate> certificate;
  std::string error;  // one line, when certificate is nullopt
};

// `bundle`: PEM certificates; `csr_pem`: the job's request.
picked_leaf pick_leaf(std::string_view bundle, std::string_view csr_pem);

}  // namespace cbcs::protocol::ca
