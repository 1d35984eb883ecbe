// cbcs-sim: simulators of the services cbcs talks to, one sub-command each,
// for the integration tests. Everything listens on 127.0.0.1 only.

#include <fmt/format.h>

#include <string_view>

namespace cbcs::sim::scm {
int run(int argc, char** argv);
}
namespace cbcs::sim::digicert {
int run(int argc, char** argv);
}
namespace cbcs::sim::gcpcas {
int run(int argc, char** argv);
}

int main(int argc, char** argv) {
  std::string_view command = argc > 1 ? argv[1] : "";
  // The sub-command sees only its own arguments.
  if (command == "scm") return cbcs::sim::scm::run(argc - 2, argv + 2);
  if (command == "digicert") return cbcs::sim::digicert::run(argc - 2, argv + 2);
  if (command == "gcpcas") return cbcs::sim::gcpcas::run(argc - 2, argv + 2);
  fmt::print(stderr,
             "usage: cbcs-sim scm --state-dir DIR [options]  (scm: the SCM link)\n"
             "       cbcs-sim digicert --state-dir DIR [options]  (DigiCert CertCentral)\n"
             "       cbcs-sim gcpcas --state-dir DIR [options]  (Google Cloud CA Service)\n");
  return 2;
}
