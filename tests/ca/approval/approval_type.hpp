#pragma once
// A backend type for tests, `approval`: a CA that keeps each certificate
// request pending until an operator approves it, as DigiCert or Entrust
// orders wait for validation. The integration tests drive `pending` through
// the SCM link with it (no local peer answers pending).
//
//   cbcs-with-approval-ca backend add -name slow -type approval -approvals DIR
//
// A job is approved when DIR holds a file named after its job id; until then
// every poll answers pending (reason needs_approval). Approved jobs are
// signed by a CA made at start. Built like a product type: this folder with
// its CMakeLists.txt, found by a glob, and one line in tests/ca/registry.cpp.

#include "protocol/ca/backend_type.hpp"

namespace cbcs::test_types::approval {

const protocol::ca::backend_type& type();

}  // namespace cbcs::test_types::approval
