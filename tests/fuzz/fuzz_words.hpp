#pragma once
// The word set of a parser's messages for fuzz::stranger_word: its own
// vocabulary plus the words of simdjson's messages, which the parsers quote
// after "is not valid JSON: ".

#include <simdjson.h>

#include <string_view>

#include "fuzz_check.hpp"

namespace cbcs::fuzz {

inline word_set words_with_simdjson(std::string_view vocabulary) {
  word_set words;
  add_words(words, vocabulary);
  for (int code = 0; code < simdjson::NUM_ERROR_CODES; ++code)
    add_words(words, simdjson::error_message(simdjson::error_code(code)));
  return words;
}

}  // namespace cbcs::fuzz
