#pragma once
// The service's definition beyond CreateService: what `cbcs service install`
// and the MSI's custom action both set (wixl has no ServiceConfig element).
// Windows build only.

#include <windows.h>

#include <string>

namespace cbcs::cli::service {

// Restart 5 s after a failure, three times, the count reset after a day;
// also after a non-zero exit, not only a crash. The preshutdown timeout gives
// the drain 30 s at machine shutdown. Returns "" or what failed, in one line.
std::string configure_recovery(SC_HANDLE service);

// The command line the Service Control Manager starts: "exe" run --data-dir "dir".
std::wstring service_command_line(const std::wstring& executable, const std::wstring& data_dir);

}  // namespace cbcs::cli::service
