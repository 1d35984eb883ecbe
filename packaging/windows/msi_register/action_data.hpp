#pragma once

// The installer's values handed from the immediate action to the deferred one
// in CustomActionData, one string. Each field is written as
// <name length>:<name><value length>:<value> (lengths in bytes, decimal), so no
// value (a path, a password with ';', '=', '[' or digits) can break the format.
// Portable: unit-tested natively, used by the MSI custom action DLL.

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace cbcs::msi {

using action_fields = std::map<std::string, std::string, std::less<>>;

std::string pack_action_data(const action_fields& fields);

// nullopt when the text is not exactly a sequence of well-formed fields (a
// truncated length, a length past the end, a repeated name, trailing bytes).
std::optional<action_fields> unpack_action_data(std::string_view text);

}  // namespace cbcs::msi
