#pragma once

#include <span>
#include <string>
#include <string_view>

#include "protocol/ca/backend_type.hpp"

namespace cbcs::protocol::ca {

// Every backend type, in the order help lists them.
std::span<const backend_type* const> backend_types();

// Adds a type after the built-in ones: test binaries add theirs (a CA that
// needs approval, say) before they run the CLI. Not thread-safe: call it
// before anything reads the registry.
void add_backend_type(const backend_type& type);
// Takes back a type added so (a test's own, when it is done).
void remove_backend_type(const backend_type& type);

// nullptr when no type has that name.
const backend_type* find_backend_type(std::string_view name);

// Options every type accepts in addition to its own (-endpoint, -cacert).
std::span<const option_spec> common_options();

// Jobs at once for a backend of this type without -maxinflight.
std::size_t max_in_flight_of(const backend_type& type);

// The type's defaults of the common options, as they would be given
// ("-ratelimit issue=25,... -maxinflight 16"), for help.
std::string policy_summary(const backend_type& type);

// Read at add and set for a type with a client identity (-keypassword,
// -pkcs12, -pkcs12password), never kept: option_files.hpp.
std::span<const option_spec> identity_input_options();

// The type's own options followed by the common ones (and the identity's
// input options).
std::vector<option_spec> all_options(const backend_type& type);

}  // namespace cbcs::protocol::ca
