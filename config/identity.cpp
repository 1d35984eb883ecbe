#include "config/identity.hpp"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <fmt/format.h>
#include <simdjson.h>

#include "config/atomic_file.hpp"
#include "config/config_error.hpp"
#include "config/data_dir.hpp"
#include "config/vault.hpp"
#include "crypto/pem.hpp"
#include "crypto/utc_time.hpp"
#include "protocol/common/json_writer.hpp"

namespace cbcs::config {
namespace {

namespace dom = simdjson::dom;
constexpr int identity_schema_version = 1;

crypto::x509_ptr first_certificate(std::string_view pem) {
  auto certs = crypto::parse_certificates(pem);
  return std::move(certs.front());
}

// True when key_pem is the private half of the certificate; false for any
// unreadable input (the caller decides what that means).
bool key_fits(const std::optional<std::string>& key_pem, X509* cert) {
  if (!key_pem) return false;
  try {
    auto key = crypto::parse_private_key(*key_pem);
    return crypto::key_matches_certificate(key.get(), cert);
  } catch (const std::exception&) {
    return false;
  }
}

std::string serialize(const connector_identity& id) {
  protocol::json_writer w;
  w.begin_object()
      .member("schema_version", identity_schema_version)
      .member("connector_id", id.connector_id)
      .member("scm_url", id.scm_url)
      .member("session_url", id.session_url)
      .member("group", id.group)
      .member("registered_at", id.registered_at)
      .member("scm_ca", id.scm_ca_pem)
      .member("certificate", id.certificate_pem)
      .member("chain", id.chain_pem)
      .end_object();
  return w.str() + "\n";
}

}  // namespace

std::filesystem::path identity_file(const data_dir& dir) { return dir.root() / "identity.json"; }

std::optional<connector_identity> read_identity_file(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::nullopt;
  auto text = read_file(file, 1 << 20);
  auto fail = [&](std::string_view what) -> config_error {
    return config_error(fmt::format(
        "identity file {} is damaged: {} (register again: cbcs register -token T -force)",
        file.string(), what));
  };
  dom::parser parser;
  dom::object top;
  if (parser.parse(simdjson::padded_string(text)).get_object().get(top))
    throw fail("not a JSON object");
  std::int64_t version = 0;
  if (top["schema_version"].get_int64().get(version) || version != identity_schema_version)
    throw fail("unknown schema_version");
  connector_identity id;
  auto str = [&](std::string_view key, std::string& out, bool required) {
    std::string_view v;
    if (top[key].get_string().get(v)) {
      if (required) throw fail(fmt::format("\"{}\" is missing", key));
      return;
    }
    out = std::string(v);
  };
  str("connector_id", id.connector_id, true);
  str("scm_url", id.scm_url, false);
  str("session_url", id.session_url, true);
  str("group", id.group, false);
  str("scm_ca", id.scm_ca_pem, true);
  str("certificate", id.certificate_pem, true);
  str("chain", id.chain_pem, false);
  std::int64_t at = 0;
  if (!top["registered_at"].get_int64().get(at)) id.registered_at = at;
  if (id.connector_id.empty() || id.session_url.empty()) throw fail("an empty required field");
  return id;
}

std::optional<connector_identity> load_identity(const data_dir& dir, const vault& v) {
  auto file = identity_file(dir);
  auto id = read_identity_file(file);
  if (!id) return std::nullopt;
  crypto::x509_ptr cert;
  try {
    cert = first_certificate(id->certificate_pem);
  } catch (const std::exception&) {
    throw config_error(fmt::format(
        "identity file {} holds no readable certificate (register again: cbcs register -token T "
        "-force)",
        file.string()));
  }
  // The committed key, or the one save_identity sealed before a crash cut it
  // short after the commit point.
  for (auto record : {identity_key_record, identity_next_key_record}) {
    auto key = v.get(record);
    if (key_fits(key, cert.get())) {
      id->key_pem = *key;
      return id;
    }
  }
  throw config_error(fmt::format(
      "the vault holds no key for the certificate in {} (register again: cbcs register -token T "
      "-force)",
      file.string()));
}

void save_identity(const data_dir& dir, vault& v, const connector_identity& id,
                   const std::function<void()>& after_seal) {
  auto cert = first_certificate(id.certificate_pem);
  if (!key_fits(id.key_pem, cert.get()))
    throw std::invalid_argument("the certificate is not for this identity's key");
  // 1. The new key is sealed, but nothing points at it yet.
  v.put(std::string(identity_next_key_record), id.key_pem);
  v.save();
  if (after_seal) after_seal();
  // 2. Commit: identity.json names the new certificate; load_identity finds
  //    its key under either record.
  write_file_atomic(identity_file(dir), serialize(id));
  // 3. Tidy up: the key under its own name.
  v.put(std::string(identity_key_record), id.key_pem);
  v.erase(identity_next_key_record);
  v.save();
}

certificate_validity validity_of(std::string_view certificate_pem) {
  auto cert = first_certificate(certificate_pem);
  return {crypto::to_utc_time(X509_get0_notBefore(cert.get())),
          crypto::to_utc_time(X509_get0_notAfter(cert.get()))};
}

std::string common_name_of(std::string_view certificate_pem) {
  auto cert = first_certificate(certificate_pem);
  X509_NAME* name = X509_get_subject_name(cert.get());
  int at = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (at < 0) return {};
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at));
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, data);
  if (n < 0) {
    ERR_clear_error();
    return {};
  }
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

}  // namespace cbcs::config
