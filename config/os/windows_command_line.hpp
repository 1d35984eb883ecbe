#pragma once
// A Windows command line from an argument list, quoted as CommandLineToArgvW
// and the C runtime read it back (UTF-8 in, UTF-8 out). Portable: built in
// both trees, so that it is unit-tested and fuzzed natively; used by
// cli/child_process_windows.cpp and the MSI's custom action DLL.

#include <string>
#include <string_view>
#include <vector>

namespace cbcs::config {

// One argument quoted as CommandLineToArgvW and the C runtime read it back.
std::string quote_windows_argument(std::string_view arg);
std::string windows_command_line(const std::vector<std::string>& argv);

}  // namespace cbcs::config
