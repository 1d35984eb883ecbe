#include "actors/connector_runtime.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <condition_variable>
#include <future>
#include <iterator>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

#include "actors/backend_actor.hpp"
#include "actors/http/negotiate_transport.hpp"
#include "actors/job_router.hpp"
#include "actors/metrics/registry.hpp"
#include "actors/supervisor.hpp"
#include "config/data_dir.hpp"
#include "config/journal.hpp"
#include "config/vault.hpp"
#include "protocol/ca/common/pending_order.hpp"
#include "protocol/ca/registry.hpp"

namespace cbcs::actors {
namespace {

namespace ca = protocol::ca;

// Stands in for a backend type whose driver is not built yet, so its jobs
// fail with a clear reason instead of waiting for a backend that never comes.
class unsupported_driver final : public ca::driver {
 public:
  explicit unsupported_driver(std::string type) : type_(std::move(type)) {}
  std::unique_ptr<ca::job_session> start(const ca::job&, const std::string&) override {
    struct session final : ca::job_session {
      std::string type;
      ca::step next(const ca::http_response*, const ca::step_context&) override {
        return ca::outcome::failed(ca::error_class::not_implemented,
                                   fmt::format("the {} driver is not built yet", type));
      }
    };
    auto s = std::make_unique<session>();
    s->type = type_;
    return s;
  }

 private:
  std::string type_;
};

// Actors that run one backend's sessions: one unless its driver computes,
// then one per core (at most 8) or its "workers" option.
std::uint32_t workers_of(const ca::backend_type* type, const config::string_map& settings) {
  if (!type || !type->policy.computes) return 1;
  if (auto it = settings.find("workers"); it != settings.end())
    return static_cast<std::uint32_t>(std::clamp(std::stoul(it->second), 1ul, 64ul));
  return std::min(std::max(1u, std::thread::hardware_concurrency()), 8u);
}

}  // namespace

struct connector_runtime::impl {
  explicit impl(runtime_options o) : options(std::move(o)) {}

  runtime_options options;
  std::shared_ptr<io_runner> io;  // outlives the actors that use its clients
  std::shared_ptr<tracer> trace;
  std::shared_ptr<backend_health> health = std::make_shared<backend_health>();
  std::shared_ptr<metrics::registry> metrics = std::make_shared<metrics::registry>();
  std::shared_ptr<config::journal> journal;
  std::unique_ptr<caf::actor_system_config> caf_config;
  std::unique_ptr<caf::actor_system> system;
  router_actor router;
  supervisor_actor supervisor;
  result_sink sink;

  std::mutex mutex;
  std::mutex reconfigure_mutex;
  // By submission number, not job id: two requests with one id (a conflict)
  // each hear their own answer.
  std::unordered_map<std::uint64_t, result_callback> callbacks;
  std::uint64_t next_submission = 1;

  std::uint64_t expect(result_callback done) {
    std::lock_guard lock(mutex);
    auto n = next_submission++;
    callbacks.emplace(n, std::move(done));
    return n;
  }
  std::string escalation;

  std::thread flusher;
  bool stopped = false;

  // The constructor's steps, in their order.

  void open_trace_and_journal() {
    trace = std::make_shared<tracer>(tracer_settings{.dir = options.data_dir / "trace",
                                                     .name = std::string(options.trace_name),
                                                     .enabled = options.trace});
    journal = options.journal
                  ? options.journal
                  : std::make_shared<config::journal>(config::journal_file(options.data_dir),
                                                      options.durable_journal);
  }

  void start_actor_system() {
    caf_config = std::make_unique<caf::actor_system_config>();
    // CAF 0.17 starts at least four workers; more than one per core only adds
    // wake-ups (the actors that block on disk run detached).
    caf_config->set("scheduler.max-threads",
                    options.threads > 0
                        ? options.threads
                        : std::size_t{std::max(2u, std::thread::hardware_concurrency())});
    // The connector mostly waits on CAs: the sharing scheduler sleeps on a
    // condition variable where work stealing keeps polling (measured: 12 % of a
    // core while waiting on a slow CA).
    caf_config->set("scheduler.policy", caf::atom("sharing"));
    system = std::make_unique<caf::actor_system>(*caf_config);
  }

  void spawn_job_router() {
    std::set<std::string> names;
    for (const auto& def : options.config.backends) names.insert(def.name);
    for (const auto& [name, _] : options.extra_backends) names.insert(name);
    router = spawn_router(*system, {.journal = journal,
                                    .trace = trace,
                                    .backend_names = names,
                                    .journal_retention = options.journal_retention,
                                    .health = health,
                                    .metrics = metrics});
  }

  // Where the runtime's own submissions (submit, run, cancel) get their results.
  // The runtime is passed as the spawn's argument, not captured: CAF 0.17
  // dereferences a null argument tuple for a spawn without arguments
  // (init_fun_factory.hpp), which UBSan reports.
  void spawn_result_sink() {
    sink = system->spawn(
        [](result_sink::pointer, impl* runtime) -> result_sink::behavior_type {
          return {[runtime](result_atom, const job_result& r) { runtime->on_result(r); },
                  [](accepted_atom, const std::string&) {},
                  [](progress_atom, const std::string&, const ca::outcome&) {}};
        },
        this);
  }

  // One actor per backend (per worker), configured or given, and their supervisor.
  void spawn_supervised_backends() {
    std::vector<supervised_backend> children;
    for (const auto& def : options.config.backends) {
      auto more = children_of(def, options.vault);
      std::move(more.begin(), more.end(), std::back_inserter(children));
    }
    for (auto& [name, driver] : options.extra_backends) {
      auto settings = settings_of(nullptr, {});
      auto transport = http_transport_of(settings, {}, {});
      auto more = children_for(name, nullptr, driver, std::move(transport), settings, 1);
      std::move(more.begin(), more.end(), std::back_inserter(children));
    }
    supervisor = spawn_supervisor(
        *system, {.router = router,
                  .children = std::move(children),
                  .trace = trace,
                  .escalate = [this](const supervised_backend& child, const std::string& reason) {
                    std::lock_guard lock(mutex);
                    escalation = fmt::format("backend {} given up: {}", child.name, reason);
                    health->give_up(child.backend, fmt::format("given up: {}", reason));
                  }});
  }

  // The trace is buffered; a SIGKILL should cost at most a moment of it
  // (250 ms). While nothing is traced the flusher sleeps.
  void start_trace_flusher() {
    flusher = std::thread([this] {
      while (trace->flush_when_recorded(std::chrono::milliseconds(250))) {
      }
    });
  }

  // One backend's parts.

  // Its policy: its options (checked at backend add) over the test's
  // defaults over its type's.
  backend_settings settings_of(const ca::backend_type* type,
                               const config::string_map& backend_options) const {
    auto settings = options.backend_defaults;
    auto option = [&](std::string_view name) -> const std::string* {
      auto it = backend_options.find(name);
      return it == backend_options.end() ? nullptr : &it->second;
    };
    if (auto* timeout = option("requesttimeout"))
      if (auto t = ca::parse_duration(*timeout)) {
        settings.request_timeout = *t;
        settings.connect_timeout =
            std::min<std::chrono::milliseconds>(settings.connect_timeout, *t);
      }
    if (auto* limits = option("ratelimit")) settings.rate_limits = ca::parse_rate_limits(*limits);
    if (!settings.rate_limits && type)
      settings.rate_limits =
          type->policy.limits_for ? type->policy.limits_for(backend_options) : type->policy.limits;
    if (auto* jobs = option("maxinflight")) settings.max_in_flight = std::stoul(*jobs);
    if (settings.max_in_flight == 0)
      settings.max_in_flight = type ? ca::max_in_flight_of(*type) : ca::default_max_in_flight;
    return settings;
  }

  // What carries a backend's requests unless its type brings its own: the
  // test's transport, else an HTTP client of its own on the shared I/O thread.
  std::shared_ptr<ca::transport> http_transport_of(const backend_settings& settings,
                                                   tls_settings tls,
                                                   const config::string_map& backend_options) {
    if (options.transport) return options.transport;
    if (!io) io = make_io_runner();
    http_client_settings hs;
    hs.tls = std::move(tls);
    hs.proxy = options.proxy;
    hs.connect_timeout = settings.connect_timeout;
    hs.request_timeout = settings.request_timeout;
    if (auto it = backend_options.find("maxconnections"); it != backend_options.end())
      hs.max_connections = std::stoul(it->second);
    return std::make_shared<http_client>(io, std::move(hs));
  }

  // The supervised actors of one backend (one per worker).
  std::vector<supervised_backend> children_for(const std::string& name,
                                               const ca::backend_type* type,
                                               std::shared_ptr<ca::driver> driver,
                                               std::shared_ptr<ca::transport> transport,
                                               const backend_settings& settings,
                                               std::uint32_t workers,
                                               std::optional<backend_actor_config::watched_certificate>
                                                   presented = std::nullopt) {
    backend_actor_config cfg{.name = name,
                             .type = type ? std::string(type->name) : "extra",
                             .driver = std::move(driver),
                             .transport = std::move(transport),
                             .settings = settings,
                             .trace = trace,
                             .router = router,
                             .worker_count = workers,
                             .health = health,
                             .client_certificate = std::move(presented),
                             .metrics = metrics->backend(name)};
    auto* sys = system.get();
    std::vector<supervised_backend> out;
    for (std::uint32_t w = 0; w < workers; ++w) {
      cfg.worker = w;
      out.push_back({workers == 1 ? name : fmt::format("{}#{}", name, w + 1), name, w, workers,
                     [sys, cfg]() { return spawn_backend(*sys, cfg); }});
    }
    return out;
  }

  // A configured backend's actors, its driver (and its type's transport, if
  // any) built from its definition and the vault's secrets; it joins the
  // health board. Throws (std::exception) naming the backend when a secret
  // is missing or the driver or transport refuses.
  std::vector<supervised_backend> children_of(const config::backend_definition& def,
                                              const config::vault* vault) {
    auto secret_of = [&](std::string_view option) {
      auto record = def.sealed.find(option);
      auto secret = record != def.sealed.end() && vault ? vault->get(record->second) : std::nullopt;
      if (!secret)
        throw std::runtime_error(fmt::format(
            "backend {}: sealed option {} is missing from the vault", def.name, option));
      return *secret;
    };
    auto* type = ca::find_backend_type(def.type);
    auto settings = settings_of(type, def.settings);
    std::shared_ptr<ca::driver> driver;
    std::shared_ptr<ca::transport> transport;
    std::optional<backend_actor_config::watched_certificate> presented;
    auto state = backend_health::health::healthy;
    std::string message;
    if (type && type->make_driver) {
      ca::driver_config dc{.name = def.name, .data_dir = options.data_dir.string()};
      for (const auto& [k, v] : def.settings) dc.settings.emplace(k, v);
      for (const auto& [opt, record] : def.sealed) dc.secrets.emplace(opt, secret_of(opt));
      driver = std::shared_ptr<ca::driver>(type->make_driver(dc));
      // Settings no job can succeed with: unhealthy from the start, saying why.
      if (auto* checked = dynamic_cast<ca::checks_settings*>(driver.get()))
        if (auto problem = checked->settings_problem(); !problem.empty()) {
          state = backend_health::health::unhealthy;
          message = std::move(problem);
        }
      if (type->policy.make_transport)
        transport = type->policy.make_transport(
            dc, {.connect = settings.connect_timeout, .request = settings.request_timeout});
    } else {
      driver = std::make_shared<unsupported_driver>(def.type);
      state = backend_health::health::unhealthy;
      message = fmt::format("the {} driver is not built yet", def.type);
    }
    if (!transport) {
      tls_settings tls;
      if (auto roots = def.settings.find("cacert"); roots != def.settings.end())
        tls.extra_roots_pem = roots->second;
      // Presented when this backend has one: the options may be optional
      // (an Entrust ECS key made "Basic Auth only" has no certificate).
      const auto* id = type ? &type->policy.client_identity : nullptr;
      auto* chooses = dynamic_cast<ca::presents_client_certificate*>(driver.get());
      if (chooses) {
        // The driver's settings decide (AD CS: -auth agent presents the agent's).
        if (auto pair = chooses->client_certificate()) {
          tls.client_cert_pem = std::move(pair->certificate_pem);
          tls.client_key_pem = std::move(pair->key_pem);
        }
      } else if (id && !id->empty() && def.sealed.count(id->certificate) != 0) {
        tls.client_cert_pem = secret_of(id->certificate);
        tls.client_key_pem = secret_of(id->key);
      }
      if (!tls.client_cert_pem.empty() && id && !id->empty() &&
          def.sealed.count(id->certificate) != 0 &&
          tls.client_cert_pem == secret_of(id->certificate))
        presented = backend_actor_config::watched_certificate{
            tls.client_cert_pem, "the client certificate",
            fmt::format("replace it with cbcs backend set -name {} -{} FILE -{} FILE", def.name,
                        id->certificate, id->key),
            "client"};
      transport = http_transport_of(settings, std::move(tls), def.settings);
    }
    // Kerberos to the service (AD CS's -auth kerberos): Negotiate on every request.
    if (auto* kerberos = dynamic_cast<ca::presents_kerberos_identity*>(driver.get()))
      if (auto id = kerberos->kerberos()) {
        try {
          transport = make_negotiating_transport(std::move(transport), *id);
        } catch (const std::exception& e) {
          throw std::runtime_error(fmt::format("backend {}: {}", def.name, e.what()));
        }
      }
    // A certificate the type depends on beyond TLS (AD CS's agent).
    if (type && !type->policy.watched.empty() && def.sealed.count(type->policy.watched.option))
      presented = backend_actor_config::watched_certificate{
          secret_of(type->policy.watched.option), std::string(type->policy.watched.what),
          "renew it with " +
              fmt::format(fmt::runtime(type->policy.watched.renew_command), def.name),
          std::string(type->policy.watched.kind)};
    auto out = children_for(def.name, type, std::move(driver), std::move(transport), settings,
                            workers_of(type, def.settings), std::move(presented));
    health->add(def.name, def.type, state, std::move(message),
                state != backend_health::health::healthy);
    return out;
  }

  void on_result(const job_result& r) {
    result_callback done;
    {
      std::lock_guard lock(mutex);
      auto it = callbacks.find(r.submission);
      if (it == callbacks.end()) return;
      done = std::move(it->second);
      callbacks.erase(it);
    }
    done(r.job_id, r.outcome);
  }
};

connector_runtime::connector_runtime(runtime_options options)
    : impl_(std::make_unique<impl>(std::move(options))) {
  impl_->open_trace_and_journal();
  impl_->start_actor_system();
  impl_->spawn_job_router();
  impl_->spawn_result_sink();
  impl_->spawn_supervised_backends();
  impl_->start_trace_flusher();
}

connector_runtime::~connector_runtime() { stop(); }

void connector_runtime::submit(ca::job job, result_callback done,
                               std::chrono::milliseconds deadline, receipt ack) {
  auto& m = *impl_;
  if (deadline.count() <= 0) deadline = m.options.default_deadline;
  auto submission = m.expect(std::move(done));
  caf::anon_send(m.router, submit_atom::value,
                 job_ticket{std::move(job), steady::now() + deadline, {},
                            ack == receipt::with_result, submission},
                 m.sink);
}

ca::outcome connector_runtime::run(ca::job job, std::chrono::milliseconds deadline, receipt ack) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<ca::outcome> result;
  submit(
      std::move(job),
      [&](const std::string&, const ca::outcome& o) {
        std::lock_guard lock(mu);
        result = o;
        cv.notify_all();
      },
      deadline, ack);
  std::unique_lock lock(mu);
  // The backend enforces the deadline; the margin covers journaling.
  if (!cv.wait_for(lock, deadline + std::chrono::seconds(10), [&] { return result.has_value(); }))
    return ca::outcome::failed(ca::error_class::internal, "no answer from the job path");
  return *result;
}

void connector_runtime::acknowledge(const std::string& job_id) {
  caf::anon_send(impl_->router, ack_atom::value, job_id);
}

void connector_runtime::cancel(const std::string& job_id, const std::string& reason,
                               result_callback done) {
  auto submission = impl_->expect(std::move(done));
  caf::anon_send(impl_->router, cancel_atom::value, job_id, reason, impl_->sink, submission);
}

std::vector<std::string> connector_runtime::reconfigure(const config::connector_config& changed,
                                                        const config::vault& vault,
                                                        const proxy_settings& proxy) {
  auto& m = *impl_;
  std::lock_guard lock(m.reconfigure_mutex);
  bool proxy_moved = !(proxy == m.options.proxy);
  auto find = [](const config::connector_config& c, const std::string& name) {
    return c.find_backend(name);
  };
  // Everything is built before anything changes: a backend whose secret is
  // not in the vault yet (backend add writes the vault, then the config)
  // leaves the running set as it is, and the caller tries again.
  children_change to_supervisor;
  backend_names_change to_router;
  std::vector<std::string> said;
  auto previous_proxy = m.options.proxy;
  m.options.proxy = proxy;
  std::vector<std::string> added_to_board;
  try {
    for (const auto& def : changed.backends) {
      const auto* before = find(m.options.config, def.name);
      bool same = before && before->type == def.type && before->settings == def.settings &&
                  before->sealed == def.sealed && !proxy_moved;
      if (same) continue;
      if (before) m.health->remove(def.name);
      auto children = m.children_of(def, &vault);
      added_to_board.push_back(def.name);
      std::move(children.begin(), children.end(), std::back_inserter(to_supervisor.started));
      if (before) {
        to_supervisor.stopped.push_back(def.name);
        to_router.replaced.push_back(def.name);
        said.push_back(
            fmt::format("backend {} ({}) changed: its actors restart, its running "
                        "jobs go on there",
                        def.name, def.type));
      } else {
        to_router.added.push_back(def.name);
        said.push_back(fmt::format("backend {} ({}) added", def.name, def.type));
      }
    }
  } catch (...) {
    m.options.proxy = previous_proxy;
    for (const auto& name : added_to_board) m.health->remove(name);
    for (const auto& name : to_router.replaced) {
      // Back on the board as it was: nothing changed.
      if (const auto* before = find(m.options.config, name))
        m.health->add(before->name, before->type, backend_health::health::healthy);
    }
    throw;
  }
  for (const auto& def : m.options.config.backends) {
    if (find(changed, def.name)) continue;
    to_supervisor.stopped.push_back(def.name);
    to_router.removed.push_back(def.name);
    m.health->remove(def.name);
    said.push_back(fmt::format("backend {} ({}) removed: its running jobs fail with that reason",
                               def.name, def.type));
  }
  if (proxy_moved) said.push_back("proxy settings changed: connections to the CAs use them now");
  m.options.config = changed;
  if (to_router.added.empty() && to_router.removed.empty() && to_router.replaced.empty())
    return said;
  // The router first: the new actors' backend_up must find it knowing them.
  caf::anon_send(m.router, reconfig_atom::value, std::move(to_router));
  caf::anon_send(m.supervisor, reconfig_atom::value, std::move(to_supervisor));
  return said;
}

void connector_runtime::replay() { caf::anon_send(impl_->router, replay_atom::value); }

bool connector_runtime::probe(std::chrono::milliseconds timeout) {
  return probe_answered(timeout, [&](probe_reply reply) {
    caf::anon_send(impl_->router, probe_atom::value, std::move(reply));
  });
}

std::string connector_runtime::escalation() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->escalation;
}

caf::actor_system& connector_runtime::actor_system() { return *impl_->system; }

caf::actor connector_runtime::router_handle() const {
  return caf::actor_cast<caf::actor>(impl_->router);
}

std::shared_ptr<io_runner> connector_runtime::io() {
  std::lock_guard lock(impl_->mutex);
  if (!impl_->io) impl_->io = make_io_runner();
  return impl_->io;
}

std::shared_ptr<backend_health> connector_runtime::health() const { return impl_->health; }

std::shared_ptr<tracer> connector_runtime::trace() const { return impl_->trace; }

std::shared_ptr<metrics::registry> connector_runtime::metrics() const { return impl_->metrics; }

void connector_runtime::stop() {
  auto& m = *impl_;
  if (m.stopped) return;
  m.stopped = true;
  m.trace->stop_flushing();
  if (m.flusher.joinable()) m.flusher.join();
  caf::anon_send_exit(m.supervisor, caf::exit_reason::user_shutdown);
  // Acks wait up to 200 ms for a commit: one now, ahead of the exit.
  caf::anon_send(m.router, flush_atom::value);
  caf::anon_send_exit(m.router, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(m.sink, caf::exit_reason::user_shutdown);
  m.router = nullptr;
  m.supervisor = nullptr;
  m.sink = nullptr;
  // Backends are not linked to anything: ask every actor to finish.
  m.system->await_all_actors_done();
  // An actor that ended on the I/O thread may still be in its last steps
  // there (CAF counts it done before it has left): once a no-op posted now
  // has run, it has, and the system may go.
  if (m.io && current_io_runner() != m.io.get()) {  // (on that thread, it would wait for itself)
    std::promise<void> drained;
    post_to(*m.io, [&drained] { drained.set_value(); });
    drained.get_future().wait();
  }
  m.system.reset();
  m.trace->flush();
}

}  // namespace cbcs::actors
