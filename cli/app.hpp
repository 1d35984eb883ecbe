#pragma once

namespace cbcs::cli {

// The whole command line: returns the process exit status (0, 1 or 2).
int run_app(int argc, char** argv);

}  // namespace cbcs::cli
