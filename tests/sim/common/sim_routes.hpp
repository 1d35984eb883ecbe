#pragma once
// What a simulator's handlers see and answer, and the route table that picks
// the handler by method and path pattern. No sockets here (unit-tested).

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cbcs::sim {

struct sim_request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path?query
  std::string path;    // before '?', not decoded
  std::string query;   // after '?', not decoded
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The route's {name} parts, as sent (not decoded).
  std::map<std::string, std::string, std::less<>> params;

  // Case-insensitive; "" when absent.
  std::string header(std::string_view name) const;
  // Percent-decoded ('+' is a space); nullopt when absent.
  std::optional<std::string> query_param(std::string_view name) const;
  std::string param(std::string_view name) const;
};

struct sim_response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;

  static sim_response json(int status, std::string body) {
    return {status, std::move(body), "application/json", {}};
  }
};

using sim_handler = std::function<sim_response(sim_request&)>;

class route_table {
 public:
  // pattern: a path where {name} matches one or more characters other than
  // '/' up to the pattern's next literal character, e.g.
  // "/v1/{parent}/certificates/{id}:revoke". The query is not matched.
  void add(std::string method, std::string pattern, sim_handler handler);
  // The first route matching method and path, with req.params filled;
  // 405 when only another method matches; nullopt when no path matches.
  std::optional<sim_response> dispatch(sim_request& req) const;

 private:
  struct route {
    std::string method;
    std::string pattern;
    sim_handler handler;
  };
  std::vector<route> routes_;
};

// Percent-decoding of a query part ('+' is a space); bad escapes stay as sent.
std::string percent_decode(std::string_view s);
bool iequal(std::string_view a, std::string_view b);

}  // namespace cbcs::sim
