#include "tests/sim/common/sim_routes.hpp"

#include <cctype>

namespace cbcs::sim {

namespace routes_detail {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Matches path against pattern, filling params; false when it does not match.
bool match(std::string_view pattern, std::string_view path,
           std::map<std::string, std::string, std::less<>>& params) {
  std::size_t p = 0, s = 0;
  while (p < pattern.size()) {
    if (pattern[p] == '{') {
      auto close = pattern.find('}', p);
      if (close == std::string_view::npos) return false;
      auto name = pattern.substr(p + 1, close - p - 1);
      p = close + 1;
      char stop = p < pattern.size() ? pattern[p] : '\0';
      auto start = s;
      while (s < path.size() && path[s] != '/' && (stop == '\0' || path[s] != stop)) ++s;
      if (s == start) return false;
      params.emplace(std::string(name), std::string(path.substr(start, s - start)));
    } else {
      if (s >= path.size() || path[s] != pattern[p]) return false;
      ++p, ++s;
    }
  }
  return s == path.size();
}

}  // namespace routes_detail

using namespace routes_detail;

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
               hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string sim_request::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (iequal(n, name)) return v;
  return {};
}

std::optional<std::string> sim_request::query_param(std::string_view name) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    auto amp = rest.find('&');
    auto pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    auto eq = pair.find('=');
    if (percent_decode(pair.substr(0, eq)) != name) continue;
    return eq == std::string_view::npos ? std::string{} : percent_decode(pair.substr(eq + 1));
  }
  return std::nullopt;
}

std::string sim_request::param(std::string_view name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string{} : it->second;
}

void route_table::add(std::string method, std::string pattern, sim_handler handler) {
  routes_.push_back({std::move(method), std::move(pattern), std::move(handler)});
}

std::optional<sim_response> route_table::dispatch(sim_request& req) const {
  bool path_matched = false;
  for (const auto& r : routes_) {
    std::map<std::string, std::string, std::less<>> params;
    if (!match(r.pattern, req.path, params)) continue;
    path_matched = true;
    if (!iequal(r.method, req.method)) continue;
    req.params = std::move(params);
    return r.handler(req);
  }
  if (path_matched) return sim_response{405, "", "", {}};
  return std::nullopt;
}

}  // namespace cbcs::sim
