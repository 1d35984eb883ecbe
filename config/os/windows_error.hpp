#pragma once
// Windows error codes in words, for one-line messages (Windows build only).

#include <string>

namespace cbcs::config {

// "Access is denied. (error 5)": the system's text for a GetLastError() code.
std::string windows_error_text(unsigned long code);

}  // namespace cbcs::config
