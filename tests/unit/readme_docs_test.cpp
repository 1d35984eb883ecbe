// The README's generated sections (cli/docs/readme_docs.hpp) and that the
// README holds what the declarations say today.

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

#include "cli/docs/readme_docs.hpp"
#include "protocol/ca/registry.hpp"

using namespace cbcs;
namespace docs = cli::docs;

TEST_SUITE("readme_docs") {
  TEST_CASE("the README's backend table is what the declarations say") {
    auto path = std::filesystem::path(CBCS_TEST_DATA) / ".." / ".." / "README.md";
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in);
    std::string readme{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    std::string generated;
    REQUIRE_NOTHROW(generated = docs::generated_readme(readme));
    // The first line that differs, not both READMEs whole.
    auto differs = std::mismatch(readme.begin(), readme.end(), generated.begin(), generated.end());
    auto from = readme.rfind('\n', differs.first - readme.begin());
    from = from == std::string::npos ? 0 : from + 1;
    bool up_to_date = generated == readme;
    CHECK_MESSAGE(up_to_date, "README.md is out of date from the line \""
                                  << readme.substr(from, readme.find('\n', from) - from)
                                  << "\": run `" << docs::readme_command << "` (after a build)");
  }

  TEST_CASE("a row per type, with its defaults, and cells a '|' cannot break") {
    auto table = docs::backend_types_table(protocol::ca::backend_types());
    for (const auto* t : protocol::ca::backend_types()) {
      auto row = table.find("| `" + std::string(t->name) + "` | ");
      REQUIRE_MESSAGE(row != std::string::npos, t->name);
      auto line = table.substr(row, table.find('\n', row) - row);
      CHECK(line.find(std::string(t->title)) != std::string::npos);
      CHECK(line.find("`" + protocol::ca::format_rate_limits(t->policy.limits) + "`") !=
            std::string::npos);
      CHECK(line.ends_with(t->policy.remote ? "| yes |" : "| no |"));
    }
    // digicert's -region us|eu, escaped inside its cell.
    CHECK(table.find("`-region us\\|eu`") != std::string::npos);
  }

  TEST_CASE("a section is replaced between its markers, and only there") {
    auto text =
        "before\n" + docs::section_begin("x") + "\nold\n" + docs::section_end("x") + "\nafter\n";
    CHECK(docs::with_section(text, "x", "new\n") ==
          "before\n" + docs::section_begin("x") + "\nnew\n" + docs::section_end("x") + "\nafter\n");
    CHECK_THROWS_AS(docs::with_section("no markers\n", "x", "new\n"), std::runtime_error);
    CHECK_THROWS_AS(docs::with_section(text, "y", "new\n"), std::runtime_error);
  }
}
