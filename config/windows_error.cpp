#include "config/windows_error.hpp"

#include <windows.h>

#include <fmt/format.h>

namespace cbcs::config {

std::string windows_error_text(unsigned long code) {
  // The wide text: the ANSI one is in the system's code page, the logs are UTF-8.
  wchar_t* text = nullptr;
  DWORD n = FormatMessageW(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
      nullptr, code, 0, reinterpret_cast<wchar_t*>(&text), 0, nullptr);
  std::string words;
  if (text && n > 0) {
    int size =
        WideCharToMultiByte(CP_UTF8, 0, text, static_cast<int>(n), nullptr, 0, nullptr, nullptr);
    words.assign(static_cast<std::size_t>(size > 0 ? size : 0), '\0');
    if (size > 0)
      WideCharToMultiByte(CP_UTF8, 0, text, static_cast<int>(n), words.data(), size, nullptr,
                          nullptr);
  }
  if (text) LocalFree(text);
  // The system's text ends with ".\r\n": one line.
  while (!words.empty() && (words.back() == '\n' || words.back() == '\r' || words.back() == ' '))
    words.pop_back();
  if (words.empty()) return fmt::format("error {}", code);
  return fmt::format("{} (error {})", words, code);
}

}  // namespace cbcs::config
