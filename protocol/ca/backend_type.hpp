#pragma once
// A backend type declares its options once. The CLI's validation and help,
// the config storage and the masking in `backend show` all come from here.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/ca/common/rate_limits.hpp"
#include "protocol/ca/driver.hpp"
#include "protocol/ca/transport.hpp"

namespace cbcs::protocol::ca {

enum class option_kind {
  text,         // kept in config.json as given
  secret,       // sealed in the vault, never shown
  secret_file,  // a file: read, checked, its content sealed in the vault
  pem_file,     // a file of PEM certificates: read, checked, kept in config.json
  // Used while reading the others at add and set (a key file's password, a
  // PKCS#12 file that holds the client certificate and key), never kept.
  input_secret,  // '-': one line from standard input
  input_file,    // a file, read
};

// How a file option's content is read before its check: as is, or from the
// forms administrators have into the form that is kept (option_files.hpp).
enum class file_form {
  as_is,
  certificates,  // PEM, DER or PKCS#7 -> PEM certificates
  private_key,   // PKCS#8 (-keypassword for an encrypted one), PKCS#1, SEC1, PEM or DER -> PKCS#8 PEM
};

// Option name -> value (for file options: the file's content).
using option_values = std::map<std::string, std::string, std::less<>>;

// A check returns an error text ("" when the value is fine). The text must
// never contain the value itself: it may be a secret.
using value_check = std::string (*)(std::string_view value);
using values_check = std::string (*)(const option_values& values);
// A non-secret one-line summary of a sealed file, shown by `backend show`.
using file_summary = std::string (*)(std::string_view content);

struct option_spec {
  std::string_view name;
  option_kind kind = option_kind::text;
  bool required = false;
  std::string_view value_name = "VALUE";
  std::string_view help;
  value_check check = nullptr;  // for a file: after its form is read
  file_summary summary = nullptr;
  file_form form = file_form::as_is;
  // Not given on the command line: made by the type's provision step.
  bool generated = false;
  // About reaching a CA over the network (-endpoint, -cacert, ...): not
  // offered for a type that reaches none (runtime_policy::remote).
  bool remote_only = false;
};

// Two options whose sealed values form a TLS client certificate and its key,
// presented on every connection to the backend (mutual TLS).
struct tls_identity_options {
  std::string_view certificate;  // a sealed PEM certificate (chain) option
  std::string_view key;          // a sealed PEM private key option

  bool empty() const { return certificate.empty(); }
};

// A sealed certificate, beyond the client identity, whose end the backend's
// health warns of 30 days ahead (AD CS's enrollment agent): the option that
// holds it, what it is, and the command that renews it (a format string:
// "{}" is the backend's name), and its kind as the metrics name it
// (cbcs_certificate_expiry_timestamp_seconds{kind="agent"}).
struct watched_certificate {
  std::string_view option;
  std::string_view what;
  std::string_view renew_command;
  std::string_view kind = "watched";
  bool empty() const { return option.empty(); }
};

// Jobs a backend works on at once when neither its type nor its options say.
inline constexpr std::size_t default_max_in_flight = 256;

// How the connector runs a backend of this type when its options do not say
// otherwise. The actors read this and never a type's name.
struct runtime_policy {
  // The service's published quotas (-ratelimit replaces them); empty: none.
  rate_limits limits;
  // When the quotas depend on the backend's options (a service tier): them,
  // in place of `limits`; nullptr: `limits`.
  rate_limits (*limits_for)(const option_values& options) = nullptr;
  // Jobs at once; 0: default_max_in_flight.
  std::size_t max_in_flight = 0;
  // Its sessions compute (sign) rather than wait on a CA: one actor per core
  // (at most 8, or the type's "workers" option), and the driver must be safe
  // to call from several threads.
  bool computes = false;
  // It reaches a CA over the network; false for the built-in local CA, whose
  // help and `backend add` then leave out the options about that.
  bool remote = true;
  tls_identity_options client_identity;
  watched_certificate watched;
  // Carries the backend's requests to its CA when that is not HTTP (AD CS's
  // DCOM on Windows); nullptr: the HTTP client, with the proxy, -cacert,
  // -maxconnections and client_identity.
  transport_factory make_transport = nullptr;
};

struct backend_type {
  std::string_view name;   // the -type value, e.g. "acmpca"
  std::string_view title;  // "AWS Private CA"
  std::vector<option_spec> options;
  // Which options go together (e.g. keys or an instance role), checked
  // first: a problem is a wrong command line.
  values_check check_combination = nullptr;
  values_check check_all = nullptr;      // checks across options, after each one passed
  driver_factory make_driver = nullptr;  // nullptr: the type has no driver yet
  // Makes the generated options (e.g. the local CA's key and certificate) from
  // the given ones at `backend add` time.
  option_values (*provision)(const option_values& given) = nullptr;
  // Or the command that makes them later (AD CS's agent certificate: "cbcs
  // backend msca enroll-agent-cert"), named where they are missing.
  std::string_view generated_by;
  runtime_policy policy;
};

inline bool is_file(option_kind k) {
  return k == option_kind::secret_file || k == option_kind::pem_file ||
         k == option_kind::input_file;
}
inline bool is_kept(option_kind k) {
  return k != option_kind::input_secret && k != option_kind::input_file;
}
inline bool is_sealed(option_kind k) {
  return k == option_kind::secret || k == option_kind::secret_file;
}

}  // namespace cbcs::protocol::ca
