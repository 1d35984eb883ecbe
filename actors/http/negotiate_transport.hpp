#pragma once
// A backend's transport with Kerberos: every request gets `Authorization:
// Negotiate <token>` (RFC 4559) for the service principal HTTP/<host of its
// URL>, made from the backend's principal and keytab
// (protocol::ca::presents_kerberos_identity), then goes out through the
// transport it wraps. The tokens are made on a thread of its own, as the
// Kerberos library blocks while it asks the KDC. A failure to get a ticket
// never sends the request: the KDC out of reach is not_sent (retried, a
// placement not in doubt), a refusal (wrong key, clock skew, unknown
// service) authentication; each one line naming the principal.

#include <memory>

#include "protocol/ca/driver.hpp"
#include "protocol/ca/transport.hpp"

namespace cbcs::actors {

// True where this build has Kerberos (CBCS_KERBEROS).
bool negotiate_built();

// Throws std::invalid_argument naming what is wrong with the identity (a
// keytab that cannot be read or holds no key for the principal), or
// std::runtime_error where Kerberos is not built.
std::shared_ptr<protocol::ca::transport> make_negotiating_transport(
    std::shared_ptr<protocol::ca::transport> inner, const protocol::ca::kerberos_identity& id);

// The host of an absolute URL, without brackets or port ("" when it has none).
std::string url_host(std::string_view url);

}  // namespace cbcs::actors
