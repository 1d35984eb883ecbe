#pragma once
// The connector's identity towards SCM (protocol/scm/PROTOCOL.md §2, §8):
// who it is, where SCM is, which CA to trust for it, and its client
// certificate. The non-secret part is identity.json in the data directory;
// the private key is sealed in the vault. Both change together or not at all.

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace cbcs::config {

class data_dir;
class vault;

inline constexpr std::string_view identity_key_record = "identity/key";
// Where a new key waits until identity.json names its certificate (see save_identity).
inline constexpr std::string_view identity_next_key_record = "identity/key.next";

struct connector_identity {
  std::string connector_id;
  std::string scm_url;             // https origin registration went to
  std::string session_url;         // wss:// URL of the session
  std::string scm_ca_pem;          // the only trust anchor for the session
  std::string certificate_pem;     // the connector's client certificate
  std::string chain_pem;           // optional intermediates sent with it
  std::string group;               // optional pool
  std::int64_t registered_at = 0;  // unix seconds of the registration or last renewal
  std::string key_pem;             // from the vault only; never written to identity.json
};

std::filesystem::path identity_file(const data_dir& dir);

// identity.json alone (no key): for `cbcs status`. nullopt: not registered.
// A damaged file throws config_error naming it.
std::optional<connector_identity> read_identity_file(const std::filesystem::path& file);

// The whole identity, key included. nullopt: not registered. Throws
// config_error when the file is damaged or the vault holds no key for its
// certificate (the fix is in the message: register again with -force).
std::optional<connector_identity> load_identity(const data_dir& dir, const vault& v);

// Replaces the identity: the key is sealed under identity_next_key_record,
// then identity.json is renamed into place (the commit point), then the key
// moves to identity_key_record. A crash at any step leaves the old identity
// or the new one, each with its own key. The caller holds data_dir_lock and
// a freshly opened vault. after_seal is a test seam that runs between the
// first two steps (throw from it to simulate a crash).
void save_identity(const data_dir& dir, vault& v, const connector_identity& id,
                   const std::function<void()>& after_seal = {});

// Validity of a PEM certificate (its first one). Throws on a bad certificate.
struct certificate_validity {
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
};
certificate_validity validity_of(std::string_view certificate_pem);

// The CN of the certificate's subject, empty when none.
std::string common_name_of(std::string_view certificate_pem);

}  // namespace cbcs::config
