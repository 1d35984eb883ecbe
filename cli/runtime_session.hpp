#pragma once
// Starts the connector's actor runtime for one CLI command, from the data
// directory's config and vault.

#include <chrono>
#include <memory>

#include "actors/connector_runtime.hpp"
#include "cli/workspace.hpp"

namespace cbcs::cli {

struct runtime_session {
  std::unique_ptr<config::vault> vault;
  std::unique_ptr<actors::connector_runtime> runtime;
};

// Who runs the runtime: the service (`cbcs run`) or one CLI command beside
// it. They write trace files of their own.
enum class runtime_user { command, service };

// journal_retention: how long acknowledged jobs stay in the journal.
// journal: set, the runtime uses it instead of the data directory's (cbcs
// doctor's jobs leave nothing behind).
runtime_session start_runtime(
    const workspace& ws, runtime_user user = runtime_user::command,
    std::chrono::seconds journal_retention = config::min_journal_retention,
    std::shared_ptr<config::journal> journal = nullptr);

// The configured proxy with its password unsealed (disabled for direct).
actors::proxy_settings load_proxy(const config::connector_config& cfg, const config::vault& vault);

// "30d", "12h", "90m", "45s"; a bare number is days. Throws usage_error.
std::int64_t parse_duration_seconds(const std::string& text, const std::string& option);

// A job id for jobs the CLI makes up itself.
std::string new_job_id(std::string_view prefix);

// Prints the outcome (certificate to out_file or stdout; a report as a
// table for a person, or as its JSON) and returns the exit status.
int report_outcome(const protocol::ca::job& job, const protocol::ca::outcome& o,
                   const std::optional<std::string>& out_file, bool json = false);

}  // namespace cbcs::cli
