// The backend types only test binaries know, one line each; they are added
// after the product's own before the CLI runs.

#include "tests/ca/registry.hpp"

#include "protocol/ca/registry.hpp"
#include "tests/ca/approval/approval_type.hpp"

namespace cbcs::test_types {

void register_all() {
  protocol::ca::add_backend_type(approval::type());
}

}  // namespace cbcs::test_types
