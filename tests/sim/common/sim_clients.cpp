#include "tests/sim/common/sim_clients.hpp"

#include <chrono>

#include "crypto/certificate_authority.hpp"
#include "crypto/pem.hpp"
#include "tests/sim/common/sim_pki.hpp"

namespace cbcs::sim {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;
}  // namespace

const fs::perms public_perms = fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                          fs::perms::others_read;

std::pair<crypto::pkey_ptr, crypto::x509_ptr> load_or_create_ca(const fs::path& cert_file,
                                                                const fs::path& key_file,
                                                                std::string_view name) {
  auto now = std::chrono::system_clock::now();
  if (!fs::exists(cert_file) || !fs::exists(key_file)) {
    auto ca = crypto::create_root_ca("ecdsa-p256", name, now - 1h, 24h * 365 * 5);
    write_file(key_file, ca.key_pem);
    write_file(cert_file, ca.cert_pem, public_perms);
  }
  auto key = crypto::parse_private_key(read_file(key_file));
  auto cert = std::move(crypto::parse_certificates(read_file(cert_file)).front());
  if (!crypto::key_matches_certificate(key.get(), cert.get()))
    throw std::runtime_error(key_file.string() + " does not match " + cert_file.string());
  return {std::move(key), std::move(cert)};
}

namespace {

// A client certificate (serverAuth + clientAuth) for CN, made afresh.
void write_client(EVP_PKEY* ca_key, X509* ca_cert, std::string_view cn, const fs::path& cert_file,
                  const fs::path& key_file) {
  auto key = crypto::generate_key("ecdsa-p256");
  auto req = template_request(key.get(), cn, nullptr);
  auto pem = crypto::issue_certificate(
      ca_key, ca_cert, req.get(),
      {fresh_serial(), std::chrono::system_clock::now() - 1h, std::chrono::hours(24 * 365)});
  write_file(key_file, crypto::private_key_to_pem(key.get()));
  write_file(cert_file, pem, public_perms);
}

}  // namespace

client_files make_client_files(const std::string& dir, std::string_view ca_name,
                               std::string_view client_cn) {
  client_files f;
  fs::path d(dir);
  f.ca_file = d / "client-ca.pem";
  f.ca_key_file = d / "client-ca.key";
  f.cert_file = d / "client.pem";
  f.key_file = d / "client.key";
  f.other_ca_file = d / "other-ca.pem";
  f.other_cert_file = d / "other-client.pem";
  f.other_key_file = d / "other-client.key";
  auto [ca_key, ca_cert] = load_or_create_ca(f.ca_file, f.ca_key_file, ca_name);
  write_client(ca_key.get(), ca_cert.get(), client_cn, f.cert_file, f.key_file);
  auto [other_key, other_cert] =
      load_or_create_ca(f.other_ca_file, d / "other-ca.key", "cbcs-sim some other CA");
  write_client(other_key.get(), other_cert.get(), client_cn, f.other_cert_file,
               f.other_key_file);
  f.ca_pem = read_file(f.ca_file);
  return f;
}

}  // namespace cbcs::sim
