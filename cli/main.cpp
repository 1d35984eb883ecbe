#include "cli/app.hpp"

int main(int argc, char** argv) { return cbcs::cli::run_app(argc, argv); }
