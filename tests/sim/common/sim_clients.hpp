#pragma once
// A simulator's client PKI for mutual TLS, kept in its state dir: a client
// CA (DIR/client-ca.pem, .key) that its TLS port trusts, a client
// certificate it issued (DIR/client.pem, .key), and one with the same
// subject from another CA (DIR/other-client.pem, .key) for tests that must
// be refused. A restarted simulator keeps the CA and makes fresh clients.

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include "crypto/openssl_types.hpp"

namespace cbcs::sim {

// Readable by the tests that run the connector as another user.
extern const std::filesystem::perms public_perms;

struct client_files {
  std::string ca_pem;  // what the TLS port trusts for client certificates
  std::filesystem::path ca_file, ca_key_file, cert_file, key_file, other_ca_file, other_cert_file,
      other_key_file;
};

// A CA kept across restarts (cert_file, key_file), made when absent.
std::pair<crypto::pkey_ptr, crypto::x509_ptr> load_or_create_ca(
    const std::filesystem::path& cert_file, const std::filesystem::path& key_file,
    std::string_view name);

client_files make_client_files(const std::string& dir, std::string_view ca_name,
                               std::string_view client_cn);

}  // namespace cbcs::sim
