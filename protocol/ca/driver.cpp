#include "protocol/ca/driver.hpp"

#include <algorithm>
#include <cctype>

namespace cbcs::protocol::ca {

const char* to_string(operation op) {
  switch (op) {
    case operation::enroll:
      return "enroll";
    case operation::renew:
      return "renew";
    case operation::revoke:
      return "revoke";
    case operation::inventory:
      return "inventory";
    case operation::test:
      return "test";
  }
  return "unknown";
}

bool from_string(std::string_view text, operation& out) {
  for (auto op : {operation::enroll, operation::renew, operation::revoke, operation::inventory,
                  operation::test})
    if (text == to_string(op)) {
      out = op;
      return true;
    }
  return false;
}

const char* to_string(error_class c) {
  switch (c) {
    case error_class::network:
      return "network";
    case error_class::tls:
      return "tls";
    case error_class::auth:
      return "auth";
    case error_class::throttled:
      return "throttled";
    case error_class::invalid_request:
      return "invalid_request";
    case error_class::rejected:
      return "rejected";
    case error_class::unavailable:
      return "unavailable";
    case error_class::internal:
      return "internal";
    case error_class::not_implemented:
      return "not_implemented";
  }
  return "unknown";
}

outcome outcome::issued(std::string cert, std::string chain, std::string serial) {
  outcome o;
  o.what = kind::issued;
  o.certificate_pem = std::move(cert);
  o.chain_pem = std::move(chain);
  o.serial_hex = std::move(serial);
  return o;
}

outcome outcome::pending(std::chrono::milliseconds poll_after, std::string message) {
  outcome o;
  o.what = kind::pending;
  o.poll_after = poll_after;
  o.message = std::move(message);
  return o;
}

outcome outcome::failed(error_class c, std::string message, std::string backend_code) {
  outcome o;
  o.what = kind::failed;
  o.error = c;
  o.retryable =
      c == error_class::network || c == error_class::throttled || c == error_class::unavailable;
  o.message = std::move(message);
  o.backend_code = std::move(backend_code);
  return o;
}

outcome outcome::done(std::string report_json) {
  outcome o;
  o.what = kind::done;
  o.report_json = std::move(report_json);
  return o;
}

std::string http_response::header(std::string_view name) const {
  auto same = [&](const std::string& n) {
    return n.size() == name.size() &&
           std::equal(n.begin(), n.end(), name.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) ==
                    std::tolower(static_cast<unsigned char>(b));
           });
  };
  for (const auto& h : headers)
    if (same(h.name)) return h.value;
  return {};
}

std::string setting(const std::map<std::string, std::string, std::less<>>& values,
                    std::string_view key) {
  auto it = values.find(key);
  return it == values.end() ? std::string{} : it->second;
}

}  // namespace cbcs::protocol::ca
