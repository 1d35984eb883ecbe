#pragma once

#include "protocol/ca/backend_type.hpp"

namespace cbcs::protocol::ca::msca {

const backend_type& type();

}  // namespace cbcs::protocol::ca::msca
