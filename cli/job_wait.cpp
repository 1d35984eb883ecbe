#include "cli/job_wait.hpp"

#include <condition_variable>
#include <mutex>

#include <fmt/format.h>

#include "cli/interrupt.hpp"
#include "cli/progress.hpp"

namespace cbcs::cli {

void add_progress_option(po::options_description& desc) {
  desc.add_options()("quiet,q", po::bool_switch(),
                     "do not show progress while waiting (attempts, retries, pending orders)");
}

// The first Ctrl-C stops waiting once no request is out at the CA: its
// answer is journaled, so the same job takes up exactly where it stood.
std::optional<protocol::ca::outcome> wait_for_job(actors::connector_runtime& runtime,
                                                  const protocol::ca::job& j,
                                                  std::chrono::milliseconds timeout, bool quiet) {
  progress_display progress(*runtime.trace(), {j.id}, progress_display::for_stderr(quiet));
  interrupt_guard interrupt;
  std::mutex mu;
  std::condition_variable cv;
  std::optional<protocol::ca::outcome> result;
  // The CLI is its own SCM: it has the result, so the journal may forget it.
  runtime.submit(
      j,
      [&](const std::string&, const protocol::ca::outcome& o) {
        std::lock_guard lock(mu);
        result = o;
        cv.notify_all();
      },
      timeout, actors::connector_runtime::receipt::with_result);
  bool told = false;
  // The backend enforces the deadline; the margin covers journaling.
  auto give_up = std::chrono::steady_clock::now() + timeout + std::chrono::seconds(10);
  std::unique_lock lock(mu);
  while (!result) {
    if (interrupt.requested()) {
      if (!told) {
        progress.say(fmt::format(
            "finishing the request already sent to the CA; Ctrl-C again to stop waiting (the job "
            "stays in the journal and -id {} collects it)",
            j.id));
        told = true;
      }
      if (!progress.request_out()) return std::nullopt;
    }
    if (std::chrono::steady_clock::now() > give_up)
      return protocol::ca::outcome::failed(protocol::ca::error_class::internal,
                                           "no answer from the job path");
    cv.wait_for(lock, std::chrono::milliseconds(100));
  }
  return result;
}

}  // namespace cbcs::cli
