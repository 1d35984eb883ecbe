#pragma once
// Waiting for one job at the console: what it is doing shown on standard
// error as it happens (cli/progress), the first Ctrl-C ending the wait once
// no request is out at the CA (the job stays in the journal), the second
// ending the process.

#include <chrono>
#include <optional>

#include "actors/connector_runtime.hpp"
#include "cli/options.hpp"
#include "protocol/ca/driver.hpp"

namespace cbcs::cli {

// -quiet: no progress while waiting.
void add_progress_option(po::options_description& desc);

// The job's outcome (the CLI consumes it: journaled acknowledged), or
// nullopt when Ctrl-C stopped the wait.
std::optional<protocol::ca::outcome> wait_for_job(actors::connector_runtime& runtime,
                                                  const protocol::ca::job& j,
                                                  std::chrono::milliseconds timeout, bool quiet);

}  // namespace cbcs::cli
