#include <doctest/doctest.h>

#include <simdjson.h>

#include "protocol/common/json_error.hpp"
#include "protocol/common/json_writer.hpp"

using cbcs::protocol::find_json_problem;
using cbcs::protocol::json_writer;

namespace {

// What simdjson reads back from append_json_string(s); fails the test when
// the text is not valid JSON (which includes invalid UTF-8).
std::string round_trip(std::string_view s) {
  std::string json;
  cbcs::protocol::append_json_string(json, s);
  CHECK(simdjson::validate_utf8(json));
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view back;
  REQUIRE_FALSE(parser.parse(simdjson::padded_string(json)).get(doc));
  REQUIRE_FALSE(doc.get_string().get(back));
  return std::string(back);
}

const std::string fffd = "\xEF\xBF\xBD";

}  // namespace

TEST_SUITE("json") {
  TEST_CASE("the writer escapes and nests so that simdjson reads it back") {
    for (bool pretty : {true, false}) {
      json_writer w(pretty);
      std::string tricky = "quote\" back\\ nl\n ctl\x01 utf8 \xc3\xa9";
      w.begin_object()
          .member("s", tricky)
          .member("n", std::int64_t{-42})
          .member("b", true)
          .key("a")
          .begin_array()
          .value(1)
          .begin_object()
          .end_object()
          .begin_array()
          .end_array()
          .end_array()
          .key("z")
          .null()
          .end_object();
      simdjson::dom::parser parser;
      simdjson::dom::element doc;
      REQUIRE_FALSE(parser.parse(simdjson::padded_string(w.str())).get(doc));
      std::string_view s;
      REQUIRE_FALSE(doc["s"].get_string().get(s));
      CHECK(s == tricky);
      CHECK(int64_t(doc["n"]) == -42);
      CHECK(bool(doc["b"]) == true);
      CHECK(simdjson::dom::array(doc["a"]).size() == 3);
      CHECK(doc["z"].is_null());
    }
  }

  TEST_CASE("the writer replaces invalid UTF-8 with U+FFFD, one per maximal subpart") {
    // Valid text of every length passes unchanged.
    CHECK(round_trip("a \xC3\xA9 \xE2\x82\xAC \xF0\x9D\x84\x9E \xEF\xBF\xBD \xF4\x8F\xBF\xBF") ==
          "a \xC3\xA9 \xE2\x82\xAC \xF0\x9D\x84\x9E \xEF\xBF\xBD \xF4\x8F\xBF\xBF");
    SUBCASE("truncated multibyte sequences") {
      CHECK(round_trip("abc\xC3") == "abc" + fffd);
      CHECK(round_trip("abc\xE2\x82") == "abc" + fffd);
      CHECK(round_trip("abc\xF0\x9D\x84") == "abc" + fffd);
      // Cut short by the next character, which survives.
      CHECK(round_trip("\xE2\x82"
                       "A\xF0\x9D\"") == fffd + "A" + fffd + "\"");
      CHECK(round_trip("\xC3\xC3\xA9") == fffd + "\xC3\xA9");
    }
    SUBCASE("lone continuation bytes and bytes that never occur") {
      CHECK(round_trip("\x80") == fffd);
      CHECK(round_trip("x\x80\xBFy") == "x" + fffd + fffd + "y");
      CHECK(round_trip("\xFE\xFF\xF5\x80") == fffd + fffd + fffd + fffd);
    }
    SUBCASE("overlong encodings") {
      CHECK(round_trip("\xC0\xAF") == fffd + fffd);             // '/'
      CHECK(round_trip("\xC1\xBF") == fffd + fffd);             // DEL
      CHECK(round_trip("\xE0\x80\xAF") == fffd + fffd + fffd);  // '/' in three bytes
      CHECK(round_trip("\xE0\x9F\xBF") == fffd + fffd + fffd);
      CHECK(round_trip("\xF0\x80\x80\xAF") == fffd + fffd + fffd + fffd);
      CHECK(round_trip("\xF0\x8F\xBF\xBF") == fffd + fffd + fffd + fffd);
    }
    SUBCASE("surrogates and code points above U+10FFFF") {
      CHECK(round_trip("\xED\xA0\x80") == fffd + fffd + fffd);  // U+D800
      CHECK(round_trip("\xED\xBF\xBF") == fffd + fffd + fffd);  // U+DFFF
      CHECK(round_trip("\xED\xA0\xBD\xED\xB8\x80") == fffd + fffd + fffd + fffd + fffd + fffd);
      CHECK(round_trip("\xED\x9F\xBF") == "\xED\x9F\xBF");  // U+D7FF is fine
      CHECK(round_trip("\xF4\x90\x80\x80") == fffd + fffd + fffd + fffd);
    }
    SUBCASE("escapes still apply around replacements") {
      CHECK(round_trip("\xC3\"\n\xC3") == fffd + "\"\n" + fffd);
    }
    SUBCASE("next_utf8 reports lengths") {
      using cbcs::protocol::next_utf8;
      CHECK(next_utf8("a").length == 1);
      CHECK(next_utf8("\xF0\x9D\x84\x9E").length == 4);
      CHECK(next_utf8("\xF0\x9D\x84\x9E").valid);
      CHECK(next_utf8("\xF0\x9D\x84").length == 3);
      CHECK_FALSE(next_utf8("\xF0\x9D\x84").valid);
      CHECK(next_utf8("\xE0\x80").length == 1);
    }
  }

  TEST_CASE("every two-byte string becomes a JSON text that simdjson accepts") {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    for (int a = 0; a < 0x100; ++a) {
      for (int b = 0; b < 0x100; ++b) {
        const char bytes[] = {static_cast<char>(a), static_cast<char>(b)};
        std::string json;
        cbcs::protocol::append_json_string(json, std::string_view(bytes, 2));
        if (parser.parse(simdjson::padded_string(json)).get(doc)) FAIL_CHECK(a << " " << b);
      }
    }
  }

  TEST_CASE("find_json_problem names the line of a syntax error") {
    CHECK(find_json_problem("{\"a\": 1}").message.empty());
    auto p = find_json_problem("{\n  \"a\": 1,\n  \"b\": tru\n}\n");
    CHECK_FALSE(p.message.empty());
    CHECK(p.line == 3);
    auto q = find_json_problem("{\n\"a\": [1, 2,\n\n]\n}");
    CHECK_FALSE(q.message.empty());
    CHECK(q.line >= 3);
    CHECK_FALSE(find_json_problem("").message.empty());
    CHECK_FALSE(find_json_problem("{} {}").message.empty());
  }
}
