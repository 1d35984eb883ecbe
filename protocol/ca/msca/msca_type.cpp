#include "protocol/ca/msca/msca_type.hpp"

#include <algorithm>
#include <cctype>

#include "protocol/ca/common/option_checks.hpp"

namespace cbcs::protocol::ca::msca {
namespace {

std::string check_ca_name(std::string_view v) {
  if (v.empty() || v.size() > 256) return "must be 1 to 256 characters";
  // The CA name is joined to the server as "HOST\CA Name": no backslash in it.
  bool ok = std::all_of(v.begin(), v.end(),
                        [](unsigned char c) { return c >= 0x20 && c != 0x7f && c != '\\'; });
  return ok ? std::string{} : "must hold no control characters and no backslash";
}

std::string check_host_name(std::string_view v) {
  if (v.empty() || v.size() > 253) return "must be a host name of 1 to 253 characters";
  bool ok = std::all_of(v.begin(), v.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.' || c == ':' || c == '[' || c == ']';
  });
  return ok ? std::string{} : "must be a host name or IP address";
}

}  // namespace

const backend_type& type() {
  static const backend_type t{
      .name = "msca",
      .title = "Microsoft AD CS",
      .options = {
          {.name = "server",
           .required = true,
           .value_name = "HOST",
           .help = "host name of the CA server",
           .check = check_host_name},
          {.name = "ca",
           .required = true,
           .value_name = "NAME",
           .help = "the CA's common name, as in the config string HOST\\CA Name",
           .check = check_ca_name},
      }};
  return t;
}

}  // namespace cbcs::protocol::ca::msca
