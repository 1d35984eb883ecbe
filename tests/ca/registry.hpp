#pragma once

namespace cbcs::test_types {

// Adds every test backend type to the registry (once, before anything reads it).
void register_all();

}  // namespace cbcs::test_types
