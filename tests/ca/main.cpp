// cbcs with the test backend types (tests/ca/*): cbcs-with-approval-ca.

#include "cli/app.hpp"
#include "tests/ca/registry.hpp"

int main(int argc, char** argv) {
  cbcs::test_types::register_all();
  return cbcs::cli::run_app(argc, argv);
}
