#pragma once
// The shared base of the CA API simulators (gcpcas, digicert, ...): an HTTPS
// service port and a plain-HTTP admin port on 127.0.0.1, a route table, an
// in-memory request log and injected faults. One thread: handlers may use
// their simulator's state without locks. Beast stays out of this header.
// Usage: tests/sim/README.md ("Writing a simulator").

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/sim/common/json_out.hpp"
#include "tests/sim/common/sim_pki.hpp"
#include "tests/sim/common/sim_routes.hpp"

namespace cbcs::sim {

// One injected fault, for the next `count` service requests whose method
// (empty: any) and path prefix (empty: any) match. The first rule that
// matches takes the request; a used-up rule is dropped.
struct sim_fault {
  std::string method;
  std::string path_prefix;
  int count = 1;
  int latency_ms = 0;       // delay, then answer (as the fault says, or normally)
  int status = 0;           // answer this status without running the handler
  std::string body;         // with status: the body ("" = the simulator's error body)
  std::string retry_after;  // with status: a Retry-After header
  bool reset = false;       // close the connection without an answer
  bool garbage = false;     // 200 with a body that is not JSON
  // The handler runs (its work is done); its answer is cut off after the
  // headers and half the body, then the connection is reset.
  bool truncate = false;
  // With latency_ms: the handler itself runs when the latency has passed, so
  // its work (an order created) happens late, whether or not the client is
  // still there to read the answer (a CA still creating an order when the
  // connection drops).
  bool late = false;
};

struct logged_request {
  std::uint64_t seq = 0;
  std::int64_t time_ms = 0;  // system clock
  std::string method;
  std::string target;
  int status = 0;           // 0: reset by a fault
  std::string auth_scheme;  // "Bearer", "Basic", ... (never the credential)
  std::string body;         // the first 4 KiB
  std::string fault;        // which fault acted, "" for none
};

struct sim_server_options {
  std::string name;              // in log lines: "cbcs-sim <name>: ..."
  std::uint16_t port = 0;        // 0: any free port
  std::uint16_t admin_port = 0;  // 0: any free port
  std::size_t body_limit = 4 * 1024 * 1024;
  // Not empty: the TLS port demands a client certificate issued by one of
  // these CAs (PEM); a handshake without one, or with another, is refused.
  std::string client_ca_pem;
};

class sim_server {
 public:
  sim_server(const sim_pki& pki, sim_server_options options);
  ~sim_server();

  // The service's routes (TLS port) and extra admin routes (admin port; the
  // generic ones, README "Admin API", come first).
  route_table& routes() { return routes_; }
  route_table& admin_routes() { return admin_routes_; }
  // The body of an injected status given without one, and of 404s: the
  // service's own error shape. Default {"error":{"code":N,"message":M}}.
  void set_error_body(std::function<std::string(int status, std::string_view message)> f);
  // POST /reset calls this after clearing the log and the faults.
  void on_reset(std::function<void()> f) { on_reset_ = std::move(f); }

  const std::vector<logged_request>& requests() const { return log_; }
  std::string error_body(int status, std::string_view message) const;

  // Binds both ports, calls on_listening(port, admin_port), then serves until
  // SIGINT or SIGTERM. Throws on bind errors.
  void run(const std::function<void(std::uint16_t port, std::uint16_t admin_port)>& on_listening);

  // Used by the connection code (sim_server.cpp).
  struct service_answer {
    std::optional<sim_response> response;  // nullopt: reset the connection
    int latency_ms = 0;
    bool late = false;          // run_late(req, log_index) once latency_ms passed
    bool truncate = false;      // send only the headers and half the body, then reset
    std::size_t log_index = 0;  // of this request in requests()
  };
  service_answer serve_service(sim_request& req);
  sim_response run_late(sim_request& req, std::size_t log_index);
  sim_response serve_admin(sim_request& req);
  void log(std::string_view line) const;
  std::size_t body_limit() const { return options_.body_limit; }

 private:
  sim_response admin_faults(sim_request& req);
  sim_response dispatch(sim_request& req);
  std::string requests_json(const sim_request& req) const;

  const sim_pki& pki_;
  sim_server_options options_;
  route_table routes_;
  route_table admin_routes_;
  std::vector<sim_fault> faults_;
  std::vector<logged_request> log_;
  std::uint64_t seq_ = 0;
  std::function<std::string(int, std::string_view)> error_body_;
  std::function<void()> on_reset_;
};

// The simulator's ready line, {"url","admin_url","ca_file"}: add your own
// keys, then print_ready_line (prints one line to stdout and flushes).
json_object ready_line(std::uint16_t port, std::uint16_t admin_port, const sim_pki& pki);
void print_ready_line(const json_object& line);

// Command-line options "--name value" / "--name=value". Known options with a
// value only; throws std::invalid_argument with a one-line message.
class sim_args {
 public:
  sim_args(int argc, char** argv, const std::vector<std::string>& known);
  bool has(std::string_view name) const { return values_.count(std::string(name)) != 0; }
  std::string get(std::string_view name, std::string fallback = {}) const;
  std::int64_t number(std::string_view name, std::int64_t fallback, std::int64_t min,
                      std::int64_t max) const;
  bool help() const { return help_; }

 private:
  std::map<std::string, std::string> values_;
  bool help_ = false;
};

}  // namespace cbcs::sim
