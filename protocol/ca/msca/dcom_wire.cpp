#include "protocol/ca/msca/dcom_wire.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <map>
#include <string_view>
#include <utility>

#include "protocol/ca/msca/hresult.hpp"

namespace cbcs::protocol::ca::msca {
namespace {

constexpr std::string_view scheme = "dcom://";

constexpr std::array<std::pair<dcom_call_kind, std::string_view>, 5> call_names{{
    {dcom_call_kind::submit, "submit"},
    {dcom_call_kind::retrieve, "retrieve"},
    {dcom_call_kind::revoke, "revoke"},
    {dcom_call_kind::resubmit, "resubmit"},
    {dcom_call_kind::property, "property"},
}};

// One line: CR dropped, LF and backslash escaped.
std::string escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\r') continue;
    if (c == '\n')
      out += "\\n";
    else if (c == '\\')
      out += "\\\\";
    else
      out += c;
  }
  return out;
}

std::string unescape(std::string_view v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      out += v[i + 1] == 'n' ? '\n' : v[i + 1];
      ++i;
    } else {
      out += v[i];
    }
  }
  return out;
}

// Base64 as COM writes it, wrapped: one line.
std::string one_line(std::string_view v) {
  std::string out;
  for (char c : v)
    if (c != '\r' && c != '\n' && c != ' ') out += c;
  return out;
}

void put(std::string& body, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  body += key;
  body += '=';
  body += escape(value);
  body += '\n';
}

std::map<std::string, std::string, std::less<>> read_lines(std::string_view body) {
  std::map<std::string, std::string, std::less<>> out;
  while (!body.empty()) {
    auto end = body.find('\n');
    auto line = body.substr(0, end);
    body = end == std::string_view::npos ? std::string_view{} : body.substr(end + 1);
    auto eq = line.find('=');
    if (eq != std::string_view::npos)
      out.emplace(std::string(line.substr(0, eq)), unescape(line.substr(eq + 1)));
  }
  return out;
}

long number(const std::map<std::string, std::string, std::less<>>& m, std::string_view key) {
  auto it = m.find(key);
  if (it == m.end()) return 0;
  long v = 0;
  std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  return v;
}

std::string text(const std::map<std::string, std::string, std::less<>>& m, std::string_view key) {
  auto it = m.find(key);
  return it == m.end() ? std::string{} : it->second;
}

}  // namespace

std::string_view com_method(dcom_call_kind kind) {
  switch (kind) {
    case dcom_call_kind::submit:
      return "ICertRequest2::Submit";
    case dcom_call_kind::retrieve:
      return "ICertRequest2::RetrievePending";
    case dcom_call_kind::revoke:
      return "ICertAdmin2::RevokeCertificate";
    case dcom_call_kind::resubmit:
      return "ICertAdmin2::ResubmitRequest";
    case dcom_call_kind::property:
      return "ICertRequest2::GetCAProperty";
  }
  return "a COM call";
}

http_request encode_call(const dcom_call& call) {
  std::string_view name;
  for (const auto& [k, n] : call_names)
    if (k == call.kind) name = n;
  std::string body;
  put(body, "config", call.config);
  put(body, "request", one_line(call.request_b64));
  if (call.kind == dcom_call_kind::submit)
    put(body, "format", call.format == request_format::pkcs7 ? "pkcs7" : "pkcs10");
  put(body, "attributes", call.attributes);
  if (call.id != 0) put(body, "id", std::to_string(call.id));
  if (call.index != 0) put(body, "index", std::to_string(call.index));
  put(body, "serial", call.serial_hex);
  if (call.kind == dcom_call_kind::revoke) put(body, "reason", std::to_string(call.reason));
  return {.method = "CALL",
          .url = fmt::format("{}{}/{}", scheme, call.server, name),
          .body = std::move(body),
          .rate_class = call.kind == dcom_call_kind::submit ? "issue" : "get",
          // Submit places a request: the CA has no idempotency key.
          .placement = call.kind == dcom_call_kind::submit};
}

std::optional<dcom_call> decode_call(const http_request& request) {
  std::string_view url = request.url;
  if (request.method != "CALL" || !url.starts_with(scheme)) return std::nullopt;
  url.remove_prefix(scheme.size());
  auto slash = url.rfind('/');
  if (slash == std::string_view::npos) return std::nullopt;
  dcom_call call;
  call.server = std::string(url.substr(0, slash));
  auto name = url.substr(slash + 1);
  bool known = false;
  for (const auto& [k, n] : call_names)
    if (n == name) {
      call.kind = k;
      known = true;
    }
  if (!known) return std::nullopt;
  auto m = read_lines(request.body);
  call.config = text(m, "config");
  call.request_b64 = text(m, "request");
  call.format = text(m, "format") == "pkcs7" ? request_format::pkcs7 : request_format::pkcs10;
  call.attributes = text(m, "attributes");
  call.id = number(m, "id");
  call.index = number(m, "index");
  call.serial_hex = text(m, "serial");
  call.reason = number(m, "reason");
  if (call.config.empty()) return std::nullopt;
  return call;
}

http_response encode_answer(const com_answer& a) {
  std::string body;
  body += fmt::format("hresult=0x{:08X}\n", a.hresult);
  body += fmt::format("disposition={}\n", a.disposition);
  put(body, "id", a.request_id ? std::to_string(a.request_id) : "");
  put(body, "message", a.message);
  put(body, "cert", one_line(a.certificate_b64));
  put(body, "chain", one_line(a.chain_b64));
  put(body, "value", a.value);
  return {.status = 200, .body = std::move(body)};
}

std::optional<com_answer> decode_answer(const http_response& response) {
  if (response.status != 200) return std::nullopt;
  auto m = read_lines(response.body);
  com_answer a;
  if (!parse_hresult(text(m, "hresult"), a.hresult)) return std::nullopt;
  a.disposition = number(m, "disposition");
  a.request_id = number(m, "id");
  a.message = text(m, "message");
  a.certificate_b64 = text(m, "cert");
  a.chain_b64 = text(m, "chain");
  a.value = text(m, "value");
  return a;
}

}  // namespace cbcs::protocol::ca::msca
