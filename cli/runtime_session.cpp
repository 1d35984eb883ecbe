#include "cli/runtime_session.hpp"

#include <fmt/format.h>

#include "cli/errors.hpp"
#include "cli/report_view.hpp"
#include "config/atomic_file.hpp"
#include "config/config_error.hpp"
#include "crypto/digest.hpp"
#include "crypto/random.hpp"

namespace cbcs::cli {

actors::proxy_settings load_proxy(const config::connector_config& cfg, const config::vault& vault) {
  actors::proxy_settings p;
  if (!cfg.proxy.manual) return p;
  p.enabled = true;
  p.host = cfg.proxy.address;
  p.port = static_cast<std::uint16_t>(cfg.proxy.port);
  p.user = cfg.proxy.user;
  if (!cfg.proxy.password_record.empty()) {
    auto password = vault.get(cfg.proxy.password_record);
    if (!password)
      throw operation_error(
          "the proxy password is missing from the vault (run cbcs proxy set again)");
    p.password = *password;
  }
  return p;
}

runtime_session start_runtime(const workspace& ws, runtime_user user,
                              std::chrono::seconds journal_retention,
                              std::shared_ptr<config::journal> journal) {
  runtime_session s;
  s.vault = ws.open_vault();
  actors::runtime_options options{.data_dir = ws.dir().root(),
                                  .config = ws.load_config(),
                                  .vault = s.vault.get(),
                                  .journal = std::move(journal),
                                  .journal_retention = journal_retention};
  options.trace_name = user == runtime_user::service ? "trace" : "trace-cli";
  options.proxy = load_proxy(options.config, *s.vault);
  try {
    s.runtime = std::make_unique<actors::connector_runtime>(std::move(options));
  } catch (const config::config_error&) {
    throw;
  } catch (const std::exception& e) {
    throw operation_error(e.what());
  }
  return s;
}

std::int64_t parse_duration_seconds(const std::string& text, const std::string& option) {
  std::int64_t value = 0;
  std::size_t i = 0;
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
    value = value * 10 + (text[i] - '0');
    if (value > 100LL * 365 * 86400) break;
  }
  std::string unit = text.substr(i);
  std::int64_t scale = 0;
  if (unit.empty() || unit == "d") scale = 86400;
  if (unit == "h") scale = 3600;
  if (unit == "m") scale = 60;
  if (unit == "s") scale = 1;
  if (i == 0 || scale == 0 || value <= 0 || value > 100LL * 365 * 86400)
    throw usage_error(fmt::format("option -{}: '{}' is not a duration such as 30d, 12h, 90m or 45s",
                                  option, text));
  return value * scale;
}

std::string new_job_id(std::string_view prefix) {
  return fmt::format("{}-{}", prefix, crypto::to_hex(crypto::random_bytes(8)));
}

int report_outcome(const protocol::ca::job& job, const protocol::ca::outcome& o,
                   const std::optional<std::string>& out_file, bool json) {
  namespace ca = protocol::ca;
  switch (o.what) {
    case ca::outcome::kind::issued: {
      auto pem = o.certificate_pem + o.chain_pem;
      if (out_file) {
        config::write_file_atomic(*out_file, pem);
        fmt::print("issued serial {} by backend {} (job {}), written to {}\n", o.serial_hex,
                   job.backend, job.id, *out_file);
      } else {
        fmt::print("{}", pem);
        fmt::print(stderr, "issued serial {} by backend {} (job {})\n", o.serial_hex, job.backend,
                   job.id);
      }
      return exit_ok;
    }
    case ca::outcome::kind::done: {
      auto table = json ? std::string() : human_report(job, o);
      if (!table.empty()) {
        fmt::print("{}", table);
        return exit_ok;
      }
      fmt::print("{}\n", o.report_json.empty() ? "{}" : o.report_json);
      // The report's findings in words, beside the JSON that scripts read.
      if (!o.message.empty()) fmt::print(stderr, "{}\n", o.message);
      return exit_ok;
    }
    case ca::outcome::kind::pending:
      fmt::print(
          "pending at backend {} (job {}): {}; run the same command with -id {} to "
          "collect it\n",
          job.backend, job.id, o.message.empty() ? "waiting for the CA" : o.message, job.id);
      return exit_failed;
    case ca::outcome::kind::failed:
      // A failed check (backend test) may still say what it found.
      if (!o.report_json.empty()) {
        auto table = json ? std::string() : human_report(job, o);
        fmt::print("{}", table.empty() ? o.report_json + "\n" : table);
      }
      throw operation_error(
          fmt::format("{} failed ({}{}): {}", ca::to_string(job.op), ca::to_string(o.error),
                      o.backend_code.empty() ? "" : ", " + o.backend_code, o.message));
  }
  return exit_failed;
}

}  // namespace cbcs::cli
