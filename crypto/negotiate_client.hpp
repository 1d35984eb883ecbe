#pragma once
// The client side of HTTP Negotiate (RFC 4559) with Kerberos, from MIT's
// GSS-API and one principal's keys: the keytab's bytes (as sealed in the
// vault) go into a MEMORY: keytab and the tickets into a MEMORY: credential
// cache, so nothing of either touches a disk. The KDC is the one krb5.conf
// (or KRB5_CONFIG) names for the principal's realm. Built where the
// Kerberos library is (CBCS_KERBEROS); Windows would use SSPI.
//
// Not thread-safe: one caller (the negotiating transport's own thread),
// which may block while the library asks the KDC.

#include <memory>
#include <string>
#include <string_view>
#include <variant>

namespace cbcs::crypto {

class negotiate_client {
 public:
  struct failure {
    bool reached = true;  // false: no KDC answered (a network failure)
    std::string message;  // one line naming the principal, never a key
  };

  // Throws std::invalid_argument when the keytab cannot be read or holds no
  // key for the principal ("name" takes the realm of the keytab's entry).
  negotiate_client(std::string_view principal, std::string_view keytab);
  ~negotiate_client();
  negotiate_client(const negotiate_client&) = delete;
  negotiate_client& operator=(const negotiate_client&) = delete;

  // The principal with its realm, as the KDC knows it.
  const std::string& principal() const;

  // The base64 SPNEGO token for `Authorization: Negotiate` to the service
  // HTTP/<host>@<the principal's realm>. Asks the KDC for a ticket-granting
  // ticket when none is held or the one held has less than a quarter of its
  // life left (renewed before it expires), and for a service ticket once per
  // host and ticket (kept in the memory cache).
  std::variant<std::string, failure> token_for(std::string_view host);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace cbcs::crypto
