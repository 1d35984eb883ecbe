#pragma once
// The README's generated sections, written by cbcs-docgen --readme from the
// declarations as cbcs(1) is (tests/unit/readme_docs_test.cpp fails when the
// README differs from what it would write).

#include <span>
#include <string>
#include <string_view>

#include "protocol/ca/backend_type.hpp"

namespace cbcs::cli::docs {

// Where a generated section starts and ends, `name` being its name.
std::string section_begin(std::string_view name);
std::string section_end(std::string_view name);

// A Markdown table of the backend types: name, CA, options, what is sealed,
// the defaults of -ratelimit and -maxinflight, whether it reaches a CA over
// the network, and whether its driver is written.
std::string backend_types_table(std::span<const protocol::ca::backend_type* const> types);

// `text` with the lines between section `name`'s markers replaced by
// `content`; throws std::runtime_error when the markers are not there once.
std::string with_section(std::string_view text, std::string_view name, std::string_view content);

// The README with every generated section as the declarations say.
std::string generated_readme(std::string_view readme);

// What tells a reader how to bring the README up to date.
inline constexpr std::string_view readme_command = "build/cbcs-docgen --readme README.md";

}  // namespace cbcs::cli::docs
