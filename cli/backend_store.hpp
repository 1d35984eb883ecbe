#pragma once

#include <string>

#include "cli/workspace.hpp"
#include "protocol/ca/backend_type.hpp"

namespace cbcs::cli {

// Stores a checked backend: sealed options in the vault, the rest in
// config.json, under the data directory's lock. Throws operation_error for a
// duplicate name; on a failed config write the vault is put back.
void store_backend(const workspace& ws, const std::string& name,
                   const protocol::ca::backend_type& type,
                   const protocol::ca::option_values& values);

}  // namespace cbcs::cli
