#pragma once
// Where CES and CEP are for a backend: -ces / -cep as given, else the URLs
// Microsoft's installers publish, one pair per authentication ([REF §5]):
//   https://HOST/<CA name>_CES_<Auth>/service.svc/CES
//   https://HOST/ADPolicyProvider_CEP_<Auth>/service.svc/CEP
// with <Auth> Kerberos, UsernamePassword or Certificate.

#include <string>
#include <string_view>

namespace cbcs::protocol::ca::msca {

// -auth's word ("certificate", "username", "kerberos") -> Microsoft's.
std::string_view url_auth_word(std::string_view auth);

// The CA's name is a path segment: its spaces and other reserved
// characters are percent-encoded.
std::string default_ces_url(std::string_view server, std::string_view ca, std::string_view auth);
std::string default_cep_url(std::string_view server, std::string_view auth);

}  // namespace cbcs::protocol::ca::msca
