// cbcs(1) and the bash completion come from the command declarations.

#include <doctest/doctest.h>

#include "cli/command.hpp"
#include "cli/docs/command_docs.hpp"

using namespace cbcs::cli;

TEST_SUITE("command_docs") {
  TEST_CASE("roff_escape: backslashes, hyphens, a dot or quote that would start a request") {
    CHECK(docs::roff_escape("a-b") == "a\\-b");
    CHECK(docs::roff_escape("C:\\x") == "C:\\ex");
    CHECK(docs::roff_escape(".TH x\n'y") == "\\&.TH x\n\\&'y");
    CHECK(docs::roff_escape("mid.dot") == "mid.dot");
  }

  TEST_CASE("the man page has every command, its options and example") {
    auto commands = all_commands();
    auto man = docs::man_page(commands, "9.8.7", "2026-12-02");
    CHECK(man.starts_with(".TH CBCS 1 \"2026\\-12\\-02\" \"cbcs 9.8.7\""));
    for (const auto& c : commands) {
      CHECK_MESSAGE(man.find(".SS \"cbcs " + docs::roff_escape(c.path)) != std::string::npos,
                    c.path);
      CHECK_MESSAGE(man.find(".B " + docs::roff_escape(c.example) + "\n") != std::string::npos,
                    c.example);
    }
    CHECK(man.find(".B \\-journal\\-retention \\fI") != std::string::npos);
    CHECK(man.find(".SH EXIT STATUS") != std::string::npos);
  }

  TEST_CASE("the completion offers command words, then a command's options") {
    auto completion = docs::bash_completion(all_commands());
    CHECK(completion.find("\"service\") words=\"install restart start status stop uninstall\"") !=
          std::string::npos);
    CHECK(completion.find("\"register\") words=\"-token -force") != std::string::npos);
    CHECK(completion.find("complete -o default -F _cbcs cbcs\n") != std::string::npos);
  }

  TEST_CASE("a declaration with characters a shell word list cannot carry is left out") {
    auto none = [](const args_t&) { return po::options_description("Options"); };
    auto run = [](const po::variables_map&, const args_t&) { return 0; };
    std::vector<command> odd{{"bad$(x)", "s", "", "e", none, run},
                             {"good", "s", "", "e", none, run}};
    auto completion = docs::bash_completion(odd);
    CHECK(completion.find("$(x)") == std::string::npos);
    CHECK(completion.find("\"good\") words=") != std::string::npos);
  }
}
