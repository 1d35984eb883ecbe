#pragma once
// The connector's version: one place (CMake's CBCS_VERSION, default the
// project version), compiled into one small generated TU so that a build with
// another version relinks instead of recompiling (the upgrade test's cbcs).

#include <string_view>

namespace cbcs {

std::string_view version();

}  // namespace cbcs
