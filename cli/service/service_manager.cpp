#include "cli/service/service_manager.hpp"

namespace cbcs::cli::service {

std::string_view to_string(service_state s) {
  switch (s) {
    case service_state::not_installed:
      return "not installed";
    case service_state::stopped:
      return "stopped";
    case service_state::starting:
      return "starting";
    case service_state::running:
      return "running";
    case service_state::stopping:
      return "stopping";
    case service_state::failed:
      return "failed";
    case service_state::unknown:
      break;
  }
  return "unknown";
}

}  // namespace cbcs::cli::service
