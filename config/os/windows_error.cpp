#include "config/os/windows_error.hpp"

#include <windows.h>

#include <fmt/format.h>

#include "config/os/windows_text.hpp"

namespace cbcs::config {

std::string windows_error_text(unsigned long code) {
  // The wide text: the ANSI one is in the system's code page, the logs are UTF-8.
  wchar_t* text = nullptr;
  DWORD n = FormatMessageW(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
      nullptr, code, 0, reinterpret_cast<wchar_t*>(&text), 0, nullptr);
  std::string words = text ? to_utf8(std::wstring_view(text, n)) : std::string();
  if (text) LocalFree(text);
  // The system's text ends with ".\r\n": one line.
  while (!words.empty() && (words.back() == '\n' || words.back() == '\r' || words.back() == ' '))
    words.pop_back();
  if (words.empty()) return fmt::format("error {}", code);
  return fmt::format("{} (error {})", words, code);
}

}  // namespace cbcs::config
