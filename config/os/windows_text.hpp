#pragma once
// UTF-8, cbcs's text everywhere, to and from UTF-16, the W functions' text
// (Windows build only).

#include <string>
#include <string_view>

namespace cbcs::config {

// Invalid UTF-8 becomes U+FFFD; invalid UTF-16 the same in UTF-8.
std::wstring to_wide(std::string_view utf8);
std::string to_utf8(std::wstring_view wide);

}  // namespace cbcs::config
