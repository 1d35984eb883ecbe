#include "actors/supervisor.hpp"

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/system_messages.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <deque>
#include <map>

#include <fmt/format.h>

namespace cbcs::actors {
namespace {

struct child {
  supervised_backend spec;
  backend_actor handle;
  std::deque<steady::time_point> crashes;
  bool given_up = false;
};

struct supervisor_state {
  supervisor_config config;
  std::map<std::string, child> children;
  static inline const char* name = "supervisor";
};

using self_ptr = supervisor_actor::stateful_pointer<supervisor_state>;

void start_child(self_ptr self, child& c) {
  c.handle = c.spec.spawn();
  self->monitor(c.handle);
  self->send(self->state.config.router, backend_up_atom::value, c.spec.backend, c.spec.worker,
             c.spec.workers, c.handle);
}

supervisor_actor::behavior_type behavior(self_ptr self, supervisor_config config) {
  auto& st = self->state;
  st.config = std::move(config);
  for (auto& spec : st.config.children) {
    auto name = spec.name;
    auto& c = st.children[name];
    c.spec = std::move(spec);
    start_child(self, c);
  }
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    for (auto& [name, c] : st.children) {
      if (!c.handle || c.handle.address() != msg.source) continue;
      auto reason = to_string(msg.reason);
      if (msg.reason == caf::exit_reason::normal || msg.reason == caf::exit_reason::user_shutdown)
        return;
      auto now = steady::now();
      c.crashes.push_back(now);
      while (!c.crashes.empty() && now - c.crashes.front() > st.config.window)
        c.crashes.pop_front();
      int n = static_cast<int>(c.crashes.size());
      if (st.config.trace)
        st.config.trace->record({.actor = "supervisor",
                                 .event = "crashed",
                                 .backend = name,
                                 .attempt = n,
                                 .detail = reason});
      if (n > st.config.max_restarts) {
        c.given_up = true;
        if (st.config.escalate)
          st.config.escalate(c.spec, fmt::format("crashed {} times within {} s, last: {}", n,
                                                 st.config.window.count() / 1000, reason));
        return;
      }
      auto backoff =
          std::min(st.config.max_backoff, st.config.first_backoff * (1 << std::min(n - 1, 16)));
      self->delayed_send(self, backoff, restart_atom::value, name);
      return;
    }
  });
  // Shutting down takes the children along (they are monitored, not linked,
  // so their crashes never kill the supervisor).
  self->set_exit_handler([self](caf::exit_msg& msg) {
    for (auto& [_, c] : self->state.children)
      if (c.handle) self->send_exit(c.handle, msg.reason);
    self->quit(msg.reason);
  });
  return {
      [self](reconfig_atom, children_change& change) {
        auto& st = self->state;
        for (const auto& backend : change.stopped) {
          std::erase_if(st.children, [&](auto& entry) {
            auto& c = entry.second;
            if (c.spec.backend != backend) return false;
            // Not a crash: the down handler ignores user_shutdown.
            if (c.handle) self->send_exit(c.handle, caf::exit_reason::user_shutdown);
            return true;
          });
          if (st.config.trace)
            st.config.trace->record(
                {.actor = "supervisor", .event = "stopped", .backend = backend,
                 .detail = "configuration changed"});
        }
        for (auto& spec : change.started) {
          auto name = spec.name;
          auto& c = st.children[name];
          c = child{};
          c.spec = std::move(spec);
          start_child(self, c);
        }
      },
      [self](restart_atom, const std::string& name) {
        auto it = self->state.children.find(name);
        if (it == self->state.children.end() || it->second.given_up) return;
        if (self->state.config.trace)
          self->state.config.trace->record(
              {.actor = "supervisor", .event = "restarted", .backend = name});
        start_child(self, it->second);
      },
  };
}

}  // namespace

supervisor_actor spawn_supervisor(caf::actor_system& system, supervisor_config config) {
  return system.spawn(behavior, std::move(config));
}

}  // namespace cbcs::actors
