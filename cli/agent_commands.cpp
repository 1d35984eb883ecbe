// cbcs backend msca enroll-agent-cert: the AD CS backend's enrollment agent
// certificate, as the replaced connector's documentation runs it. The key
// is made here and sealed before anything is sent; the request goes through
// the same actor path as every job (the driver sends the agent's plain
// PKCS#10 for the agent template); the issued certificate is sealed beside
// the key. A request a CA manager must approve leaves the key sealed as
// pending, and `-retrieve` collects it later under the same job.

#include <fmt/format.h>

#include <chrono>

#include "cli/command.hpp"
#include "cli/errors.hpp"
#include "cli/job_wait.hpp"
#include "cli/runtime_session.hpp"
#include "config/connector_config.hpp"
#include "config/data_dir.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/pem.hpp"
#include "crypto/utc_time.hpp"
#include "protocol/ca/common/option_checks.hpp"
#include "protocol/ca/msca/msca_backend.hpp"
#include "protocol/ca/registry.hpp"

namespace cbcs::cli {
namespace {

namespace ca = protocol::ca;
namespace msca = protocol::ca::msca;

// The vault record of a request not yet issued: "<job id>\n<key PEM>".
std::string pending_record(const std::string& backend) {
  return fmt::format("backend/{}/agent-pending", backend);
}

po::options_description agent_options(const args_t&) {
  po::options_description desc("Options");
  desc.add_options()                                                              //
      ("name", po::value<std::string>()->value_name("NAME"), "the msca backend")  //
      ("ca", po::value<std::string>()->value_name("CA"),
       "the CA's name (checked against the backend's -ca)")  //
      ("template", po::value<std::string>()->value_name("NAME"),
       "the agent template (default MachineEnrollmentAgent, 'Enrollment Agent (Computer)')")  //
      ("retrieve", po::bool_switch(), "collect a request a CA manager has approved since")    //
      ("timeout", po::value<std::string>()->value_name("DURATION")->default_value("30s"),
       "wait this long for the CA (e.g. 90s, 5m); a request still held by then is collected "
       "later with -retrieve");
  add_progress_option(desc);
  add_common_options(desc);
  return desc;
}

// Seals the issued certificate and its key as the backend's agentcert and
// agentkey (new records: a running service sees the definition change and
// restarts the backend's actors with them), and forgets the pending request.
void seal_agent(const workspace& ws, const std::string& name, const std::string& key_pem,
                const std::string& cert_pem) {
  config::data_dir_lock lock(ws.dir());
  auto cfg = ws.load_config();
  auto it = std::find_if(cfg.backends.begin(), cfg.backends.end(),
                         [&](const auto& b) { return b.name == name; });
  if (it == cfg.backends.end())
    throw operation_error(fmt::format("no backend named '{}' any more", name));
  auto vault = ws.open_vault();
  auto stamp = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  std::vector<std::string> old_records;
  for (auto [option, value] :
       {std::pair{msca::agent_key_option, key_pem}, std::pair{msca::agent_cert_option, cert_pem}}) {
    auto record = fmt::format("backend/{}/{}/{}", name, option, stamp);
    vault->put(record, value);
    if (auto old = it->sealed.find(option); old != it->sealed.end())
      old_records.push_back(old->second);
    it->sealed.insert_or_assign(std::string(option), record);
  }
  it->summaries.insert_or_assign(std::string(msca::agent_cert_option),
                                 ca::summarize_certificates(cert_pem));
  it->summaries.insert_or_assign(std::string(msca::agent_key_option),
                                 ca::summarize_private_key(key_pem));
  vault->save();
  ws.save_config(cfg);
  for (const auto& r : old_records) vault->erase(r);
  vault->erase(pending_record(name));
  vault->save();
}

int run_enroll_agent(const po::variables_map& vm, const args_t&) {
  constexpr std::string_view command = "backend msca enroll-agent-cert";
  auto name = optional_string(vm, "name");
  if (!name) throw usage_error(fmt::format("{}: missing required option -name", command));
  workspace ws(vm, config::data_dir::existing_only);
  auto cfg = ws.load_config();
  const auto* def = cfg.find_backend(*name);
  if (!def) throw operation_error(fmt::format("{}: no backend named '{}'", command, *name));
  if (def->type != "msca")
    throw operation_error(
        fmt::format("{}: backend {} is of type {}, not msca", command, *name, def->type));
  if (auto ca_name = optional_string(vm, "ca")) {
    auto configured = def->settings.find("ca");
    if (configured == def->settings.end() || configured->second != *ca_name)
      throw usage_error(
          fmt::format("{}: -ca {} is not backend {}'s CA ({})", command, *ca_name, *name,
                      configured == def->settings.end() ? "none" : configured->second));
  }
  bool retrieve = vm["retrieve"].as<bool>();
  auto vault = ws.open_vault();
  std::string job_id, key_pem;
  if (auto pending = vault->get(pending_record(*name))) {
    auto nl = pending->find('\n');
    job_id = pending->substr(0, nl);
    key_pem = nl == std::string::npos ? "" : pending->substr(nl + 1);
  }
  if (retrieve && job_id.empty())
    throw operation_error(fmt::format(
        "{}: backend {} has no agent request waiting: run it without -retrieve", command, *name));
  if (!retrieve) {
    if (!job_id.empty())
      fmt::print(stderr,
                 "cbcs: note: a request of an earlier run is still waiting at the CA (job {}); "
                 "it is replaced by a new one (collect the old one with -retrieve instead)\n",
                 job_id);
    // RSA 2048: what the CSP-based "Enrollment Agent (Computer)" template
    // takes; the CA builds the subject from the machine's name ([REF §5]).
    auto key = crypto::generate_key("rsa-2048");
    key_pem = crypto::private_key_to_pem(key.get());
    job_id = fmt::format("msca-agent-{}-{}", *name,
                         std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count());
    // Sealed before anything leaves: a crash after the CA issued must not
    // lose the key the certificate is for.
    {
      config::data_dir_lock lock(ws.dir());
      vault->put(pending_record(*name), job_id + "\n" + key_pem);
      vault->save();
    }
  }
  auto key = crypto::parse_private_key(key_pem);
  ca::job j{.id = job_id,
            .op = ca::operation::enroll,
            .backend = *name,
            .csr_pem = crypto::create_csr(key.get(), "cbcs enrollment agent", {}),
            .profile =
                optional_string(vm, "template").value_or(std::string(msca::default_agent_template)),
            .params = {{"agent", "1"}}};
  auto timeout =
      std::chrono::seconds(parse_duration_seconds(vm["timeout"].as<std::string>(), "timeout"));
  auto session = start_runtime(ws);
  auto waited = wait_for_job(*session.runtime, j, timeout, vm["quiet"].as<bool>());
  session.runtime->stop();
  if (!waited) {
    fmt::print(stderr,
               "stopped waiting; the request stays with the CA: cbcs backend msca "
               "enroll-agent-cert -name {} -retrieve collects it\n",
               *name);
    return exit_failed;
  }
  auto o = *waited;
  switch (o.what) {
    case ca::outcome::kind::issued: {
      auto cert = std::move(crypto::parse_certificates(o.certificate_pem).front());
      if (!crypto::key_matches_certificate(key.get(), cert.get()))
        throw operation_error(fmt::format(
            "{}: the CA issued a certificate that is not for the agent key: nothing kept",
            command));
      seal_agent(ws, *name, key_pem, o.certificate_pem + o.chain_pem);
      fmt::print("agent certificate of backend {}: {}, serial {}, valid until {}\n", *name,
                 crypto::subject_line(cert.get()), o.serial_hex,
                 crypto::format_utc_time(
                     std::chrono::floor<std::chrono::seconds>(crypto::not_after(cert.get()))));
      return exit_ok;
    }
    case ca::outcome::kind::pending:
      fmt::print(
          "pending at the CA: {}; once a CA manager has issued it, run cbcs backend msca "
          "enroll-agent-cert -name {} -retrieve\n",
          o.message.empty() ? "waiting for a CA manager" : o.message, *name);
      return exit_ok;
    case ca::outcome::kind::done:
    case ca::outcome::kind::failed:
      break;
  }
  {
    config::data_dir_lock lock(ws.dir());
    auto v = ws.open_vault();
    v->erase(pending_record(*name));
    v->save();
  }
  throw operation_error(fmt::format("{} failed ({}{}): {}", command, ca::to_string(o.error),
                                    o.backend_code.empty() ? "" : ", " + o.backend_code,
                                    o.message));
}

}  // namespace

std::vector<command> agent_commands() {
  return {
      {"backend msca enroll-agent-cert",
       "enroll the AD CS backend's enrollment agent certificate (its key made and sealed here)",
       "-name NAME [-ca CA] [-template NAME] [-retrieve]",
       "cbcs backend msca enroll-agent-cert -name MSCA1 -ca local-SectigoTestCA-CA", agent_options,
       run_enroll_agent},
  };
}

}  // namespace cbcs::cli
