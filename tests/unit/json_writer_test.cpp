#include <doctest/doctest.h>

#include <simdjson.h>

#include "protocol/common/json_error.hpp"
#include "protocol/common/json_writer.hpp"

using cbcs::protocol::find_json_problem;
using cbcs::protocol::json_writer;

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
