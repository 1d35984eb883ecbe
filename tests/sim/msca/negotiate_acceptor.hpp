#pragma once
// The server side of HTTP Negotiate (RFC 4559) for `cbcs-sim msca --auth
// kerberos`, as IIS's Windows Authentication does it for CES_Kerberos: the
// client's SPNEGO token accepted with the service's own keytab through MIT's
// GSS-API, and the client's principal named. Built where cbcs has Kerberos
// (CBCS_KERBEROS).

#include <memory>
#include <string>
#include <string_view>

namespace cbcs::sim::msca {

class negotiate_acceptor {
 public:
  struct result {
    std::string principal;    // the client, "" when refused
    std::string reply_token;  // base64 for `WWW-Authenticate: Negotiate`, may be ""
    std::string error;        // why it was refused
  };

  // keytab: the file with the service principal's keys (HTTP/host@REALM).
  explicit negotiate_acceptor(std::string keytab);
  ~negotiate_acceptor();

  // The base64 token of `Authorization: Negotiate <token>`.
  result accept(std::string_view token);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace cbcs::sim::msca
