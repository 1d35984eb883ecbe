#pragma once
// A Kerberos keytab file (MIT's format 0x0502, which ktutil, kadmin and
// Windows' ktpass write) read in memory: cbcs seals the file's bytes in the
// vault and hands the keys to the Kerberos library from there, so the file
// may be deleted. Portable (no Kerberos library here). No error text quotes
// a key byte.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace cbcs::crypto {

struct keytab_entry {
  std::vector<std::string> components;  // "HTTP", "host" or "svc-cbcs"
  std::string realm;
  std::uint32_t name_type = 1;  // KRB5_NT_PRINCIPAL
  std::uint32_t timestamp = 0;
  std::uint32_t kvno = 0;
  std::int32_t enctype = 0;
  std::string key;  // the key itself: never printed

  // "comp/comp@REALM", with '/', '@' and '\' in a part escaped as krb5 does.
  std::string principal() const;
};

class keytab_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The entries of a keytab file; throws keytab_error saying what is wrong.
std::vector<keytab_entry> parse_keytab(std::string_view content);

// A principal as its keytab entry names it, for comparison: "user@REALM";
// a name without a realm is compared by its name part.
bool same_principal(const keytab_entry& e, std::string_view principal);

// "2 keys for svc-cbcs@CORP.EXAMPLE (key version 3; aes256-cts, aes128-cts)":
// no key bytes.
std::string summarize_keytab(std::string_view content);

}  // namespace cbcs::crypto
