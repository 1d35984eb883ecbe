#include "protocol/ca/msca/ces_api.hpp"

#include <fmt/format.h>

#include "crypto/certificate_authority.hpp"
#include "crypto/cms_request.hpp"
#include "crypto/pem.hpp"
#include "protocol/ca/common/http_status.hpp"
#include "protocol/ca/msca/hresult.hpp"
#include "protocol/ca/msca/wstep.hpp"
#include "protocol/common/soap.hpp"
#include "protocol/common/soap_reader.hpp"

namespace cbcs::protocol::ca::msca {
namespace {

http_request soap_call(const msca_settings& s, const std::string& url, std::string_view action,
                       const xml_element& body, std::string rate_class) {
  soap::envelope headers{.action = std::string(action),
                         .message_id = soap::new_message_id(),
                         .to = url};
  // [REF §5]: the UsernamePassword endpoints take a WS-Security
  // UsernameToken (PasswordText) in the SOAP header, over TLS.
  if (s.auth == "username") headers.security = soap::username_token{s.username, s.password};
  return {.method = "POST",
          .url = url,
          .headers = {{"Content-Type", std::string(soap::content_type)}},
          .body = soap::write_envelope(headers, body),
          .rate_class = std::move(rate_class)};
}

// A fault that is not the CA's refusal of a request: WCF's security faults
// mean the credentials (InvalidSecurity, FailedAuthentication).
bool security_fault(const soap::fault& f) {
  auto is = [](const soap::qname& q) {
    return q.local == "InvalidSecurity" || q.local == "FailedAuthentication" ||
           q.local == "InvalidSecurityToken" || q.local == "FailedCheck";
  };
  if (is(f.code)) return true;
  for (const auto& q : f.subcodes)
    if (is(q)) return true;
  return false;
}

// An answer without a SOAP message: the HTTP status says it all (401/403
// the credentials, 5xx retried, 429 with its Retry-After).
outcome non_soap_failure(const http_response& answer, std::string_view service) {
  if (answer.status == 404)
    return http_failure(answer, fmt::format("{} is not at this URL: check -ces/-cep, or -server, "
                                            "-ca and -auth they are derived from",
                                            service));
  return http_failure(answer, fmt::format("{} answered without a SOAP message", service));
}

bool server_error(int status) { return status >= 500 && status < 600; }

// A SOAP message, as its Content-Type says (application/soap+xml; an
// answer without one is judged by its first byte): not an IIS or proxy
// error page (text/html).
bool soap_answer(const http_response& answer) {
  if (answer.body.empty()) return false;
  auto type = answer.header("Content-Type");
  if (!type.empty()) return type.find("xml") != std::string::npos;
  return answer.body.starts_with("<");
}

outcome unreadable(std::string_view service, std::string_view why) {
  return outcome::failed(error_class::internal,
                         fmt::format("{} answered something that cannot be read: {}", service, why));
}

}  // namespace

http_request ces_issue(const msca_settings& s, crypto::byte_view request,
                       std::string_view value_type, std::string_view template_name) {
  auto r = soap_call(s, s.ces_url, wstep::action_request,
                     wstep::build_issue_request({.request = request,
                                                 .value_type = value_type,
                                                 .certificate_template = template_name}),
                     "issue");
  r.placement = true;
  return r;
}

http_request ces_query(const msca_settings& s, std::string_view request_id) {
  return soap_call(s, s.ces_url, wstep::action_request, wstep::build_query_token_status(request_id),
                   "get");
}

http_request cep_get_policies(const msca_settings& s) {
  return soap_call(s, s.cep_url, xcep::action_get_policies, xcep::build_get_policies(), "get");
}

ces_answer read_ces_answer(const http_response& answer, const msca_settings& s) {
  ces_answer out;
  if (!soap_answer(answer)) {
    out.failure = non_soap_failure(answer, "CES");
    return out;
  }
  try {
    soap::soap_document doc(answer.body);
    if (auto f = soap::read_fault(doc)) {
      auto detail = wstep::read_fault_detail(*f);
      if (!detail || !detail->error_code) {
        if (security_fault(*f) || answer.status == 401 || answer.status == 403) {
          out.failure = outcome::failed(
              error_class::auth,
              fmt::format("CES refused the connector's credentials ({}): check -auth and its "
                          "-username/-password or client certificate (cbcs backend set -name {})",
                          soap::describe(*f, 200), s.name));
          return out;
        }
        out.failure = outcome::failed(error_class::unavailable,
                                      "CES failed: " + soap::describe(*f, 300));
        out.failure.retryable = server_error(answer.status);
        return out;
      }
      // [WSTEP]: the CA's refusal, its HRESULT in ErrorCode; the request
      // took an id at the CA ([REF §5]: failed and denied ones too).
      out.what = ces_answer::kind::refused;
      out.request_id = detail->request_id;
      out.hresult = static_cast<std::uint32_t>(*detail->error_code);
      auto cls = class_of_hresult(out.hresult);
      out.failure = outcome::failed(
          cls,
          fmt::format("AD CS refused the request{}: {} ({})",
                      out.request_id.empty() ? "" : " " + out.request_id,
                      describe_hresult(out.hresult), soap::describe(*f, 200)),
          fmt::format("0x{:08X}", out.hresult));
      out.failure.retryable = cls == error_class::unavailable;
      return out;
    }
    if (!is_success(answer.status)) {
      out.failure = non_soap_failure(answer, "CES");
      return out;
    }
    auto response = wstep::read_token_response(doc);
    if (!response) {
      out.failure = unreadable("CES", "no RequestSecurityTokenResponse");
      return out;
    }
    out.request_id = response->request_id;
    out.disposition = response->disposition_message;
    if (response->issued_certificate.empty()) {
      // Taken Under Submission: a CA manager must act; the answer refers
      // to the request instead of carrying a certificate ([REF §5]).
      if (out.request_id.empty()) {
        out.failure = unreadable("CES", "a pending answer without a RequestID");
        return out;
      }
      out.what = ces_answer::kind::pending;
      return out;
    }
    out.certificate_pem = crypto::der_to_pem("CERTIFICATE", response->issued_certificate);
    out.serial_hex = crypto::certificate_serial_hex(out.certificate_pem);
    // The chain from the CMC response; the leaf is the RequestedSecurityToken's
    // (a CMC that lacks it or cannot be read leaves the chain empty rather
    // than failing a certificate the CA issued).
    if (!response->full_response.empty()) {
      try {
        auto chain = crypto::read_ca_response(response->full_response);
        for (const auto& pem : chain.certificates)
          if (pem != out.certificate_pem) out.chain_pem += pem;
      } catch (const crypto::cms_error&) {
      }
    }
    out.what = ces_answer::kind::issued;
    return out;
  } catch (const std::exception& e) {
    // An error page that only looks like XML: the status says what it is.
    out.failure = is_success(answer.status) ? unreadable("CES", e.what())
                                            : non_soap_failure(answer, "CES");
    return out;
  }
}

cep_answer read_cep_answer(const http_response& answer, const msca_settings& s) {
  cep_answer out;
  if (!soap_answer(answer)) {
    out.failure = non_soap_failure(answer, "CEP");
    return out;
  }
  try {
    soap::soap_document doc(answer.body);
    if (auto f = soap::read_fault(doc)) {
      bool credentials = security_fault(*f) || answer.status == 401 || answer.status == 403;
      out.failure = outcome::failed(
          credentials ? error_class::auth : error_class::unavailable,
          credentials ? fmt::format("CEP refused the connector's credentials ({}): check -auth "
                                    "and its credentials (cbcs backend set -name {})",
                                    soap::describe(*f, 200), s.name)
                      : "CEP failed: " + soap::describe(*f, 300));
      out.failure.retryable = !credentials && server_error(answer.status);
      return out;
    }
    if (!is_success(answer.status)) {
      out.failure = non_soap_failure(answer, "CEP");
      return out;
    }
    out.policies = xcep::read_get_policies_response(doc);
    if (!out.policies) out.failure = unreadable("CEP", "no GetPoliciesResponse");
    return out;
  } catch (const std::exception& e) {
    out.failure = is_success(answer.status) ? unreadable("CEP", e.what())
                                            : non_soap_failure(answer, "CEP");
    return out;
  }
}

}  // namespace cbcs::protocol::ca::msca
