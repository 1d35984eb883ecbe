#include "tests/sim/common/sim_pki.hpp"

#include <openssl/x509v3.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "crypto/certificate_authority.hpp"
#include "crypto/openssl_error.hpp"
#include "crypto/pem.hpp"
#include "crypto/random.hpp"

namespace cbcs::sim {

namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const fs::path& p, const std::string& text, fs::perms perms) {
  {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    if (!out || !(out << text)) throw std::runtime_error("cannot write " + p.string());
  }
  fs::permissions(p, perms);
}

std::vector<std::uint8_t> fresh_serial() {
  auto serial = crypto::random_bytes(16);
  serial[0] = static_cast<std::uint8_t>((serial[0] & 0x7f) | 0x01);  // positive, 16 bytes
  return serial;
}

crypto::x509_req_ptr template_request(EVP_PKEY* key, std::string_view cn, const char* san) {
  crypto::x509_req_ptr req{X509_REQ_new()};
  X509_REQ_set_pubkey(req.get(), key);
  std::string name(cn);
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req.get()), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  if (san) {
    STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, san);
    if (!ext) throw crypto::crypto_error("cannot build subjectAltName");
    sk_X509_EXTENSION_push(exts, ext);
    X509_REQ_add_extensions(req.get(), exts);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  }
  return req;
}

sim_pki::sim_pki(const std::string& state_dir, std::string_view prefix, std::string_view ca_name) {
  fs::path dir(state_dir);
  fs::create_directories(dir);
  std::string base(prefix);
  auto ca_cert_file = dir / (base + "-ca.pem"), ca_key_file = dir / (base + "-ca.key");
  auto server_file = dir / "server.pem", server_key_file = dir / "server.key";
  ca_file_ = ca_cert_file.string();
  auto now = std::chrono::system_clock::now();

  if (fs::exists(ca_cert_file) && fs::exists(ca_key_file)) {
    ca_pem_ = read_file(ca_cert_file);
    ca_key_ = crypto::parse_private_key(read_file(ca_key_file));
  } else {
    auto ca = crypto::create_root_ca("ecdsa-p256", ca_name, now, std::chrono::hours(24 * 365 * 5));
    write_file(ca_key_file, ca.key_pem);
    write_file(ca_cert_file, ca.cert_pem,
               fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                   fs::perms::others_read);
    ca_pem_ = ca.cert_pem;
    ca_key_ = crypto::parse_private_key(ca.key_pem);
    fs::remove(server_file);  // signed by the old CA, if any
  }
  auto certs = crypto::parse_certificates(ca_pem_);
  ca_cert_ = std::move(certs.front());
  if (!crypto::key_matches_certificate(ca_key_.get(), ca_cert_.get()))
    throw std::runtime_error(ca_key_file.string() + " does not match " + ca_file_);

  bool have_server = false;
  if (fs::exists(server_file) && fs::exists(server_key_file)) {
    server_pem_ = read_file(server_file);
    server_key_pem_ = read_file(server_key_file);
    auto leaf = crypto::parse_certificates(server_pem_);
    // Reissue a server certificate close to its end rather than serve an expired one.
    have_server = crypto::is_signed_by(leaf.front().get(), ca_cert_.get()) &&
                  crypto::not_after(leaf.front().get()) > now + std::chrono::hours(24);
  }
  if (!have_server) {
    auto key = crypto::generate_key("ecdsa-p256");
    auto req = template_request(key.get(), "localhost", "DNS:localhost,IP:127.0.0.1");
    server_pem_ = crypto::issue_certificate(ca_key_.get(), ca_cert_.get(), req.get(),
                                            {fresh_serial(), now, std::chrono::hours(24 * 365)});
    server_key_pem_ = crypto::private_key_to_pem(key.get());
    write_file(server_key_file, server_key_pem_);
    write_file(server_file, server_pem_);
  }
}

}  // namespace cbcs::sim
