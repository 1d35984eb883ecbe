#include "config/windows_error.hpp"

#include <windows.h>

#include <fmt/format.h>

namespace cbcs::config {

std::string windows_error_text(unsigned long code) {
  char* text = nullptr;
  DWORD n = FormatMessageA(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
      nullptr, code, 0, reinterpret_cast<char*>(&text), 0, nullptr);
  std::string words(text ? text : "", n);
  if (text) LocalFree(text);
  // The system's text ends with ".\r\n": one line.
  while (!words.empty() && (words.back() == '\n' || words.back() == '\r' || words.back() == ' '))
    words.pop_back();
  if (words.empty()) return fmt::format("error {}", code);
  return fmt::format("{} (error {})", words, code);
}

}  // namespace cbcs::config
