#pragma once
// What the fuzz targets share: a property check that stops the run with a
// message (libFuzzer records the input as a crash), and small helpers.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <set>
#include <string>
#include <string_view>

namespace cbcs::fuzz {

[[noreturn]] inline void fail(std::string_view what, std::string_view detail = {}) {
  std::fprintf(stderr, "fuzz property violated: %.*s%s%.*s\n", static_cast<int>(what.size()),
               what.data(), detail.empty() ? "" : ": ", static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

inline void check(bool ok, std::string_view what, std::string_view detail = {}) {
  if (!ok) fail(what, detail);
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Error messages made of fixed texts: a message whose every word is a word
// of those texts (or a number) holds no value of the input, whatever it was.
using word_set = std::set<std::string, std::less<>>;

inline bool word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '\'';
}

template <class F>
void for_each_word(std::string_view text, F f) {
  for (std::size_t i = 0; i < text.size();) {
    while (i < text.size() && !word_char(text[i])) ++i;
    auto start = i;
    while (i < text.size() && word_char(text[i])) ++i;
    if (i > start) f(text.substr(start, i - start));
  }
}

inline void add_words(word_set& words, std::string_view text) {
  for_each_word(text, [&](std::string_view w) { words.emplace(w); });
}

// The first word of text that is neither in words nor a number; empty if none.
inline std::string_view stranger_word(std::string_view text, const word_set& words) {
  std::string_view found;
  for_each_word(text, [&](std::string_view w) {
    bool number = w.find_first_not_of("0123456789") == std::string_view::npos;
    if (found.empty() && !number && words.find(w) == words.end()) found = w;
  });
  return found;
}

}  // namespace cbcs::fuzz
