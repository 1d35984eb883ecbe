#include "protocol/ca/local/local_type.hpp"

namespace cbcs::protocol::ca::local {

const backend_type& type() {
  static const backend_type t{.name = "local",
                              .title = "built-in local CA (OpenSSL, kept in the data directory)",
                              .options = {}};
  return t;
}

}  // namespace cbcs::protocol::ca::local
