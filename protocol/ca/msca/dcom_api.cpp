#include "protocol/ca/msca/dcom_api.hpp"

#include <fmt/format.h>

#include <charconv>

#include "crypto/base64.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/cms_request.hpp"
#include "crypto/pem.hpp"
#include "protocol/ca/msca/dcom_wire.hpp"
#include "protocol/ca/msca/hresult.hpp"

namespace cbcs::protocol::ca::msca {
namespace {

outcome dcom_unreadable(std::string_view why) {
  return outcome::failed(
      error_class::internal,
      fmt::format("the DCOM transport answered something that cannot be read: {}", why));
}

// A failed call or a denied request: the HRESULT named, its class decides.
outcome dcom_failure(std::uint32_t hresult, std::string_view what, std::string_view message) {
  auto cls = class_of_hresult(hresult);
  std::string text = fmt::format("{}: {}", what, describe_hresult(hresult));
  if (!message.empty()) text += fmt::format(" ({})", message);
  if (cls == error_class::auth)
    text +=
        "; DCOM runs as the service's identity (LocalSystem: the computer account), which "
        "needs Read and Enroll on the template and Request Certificates on the CA";
  auto failure = outcome::failed(cls, std::move(text), fmt::format("0x{:08X}", hresult));
  failure.retryable = cls == error_class::unavailable;
  return failure;
}

ces_answer refusal(std::uint32_t hresult, std::string request_id, std::string_view what,
                   std::string_view message) {
  ces_answer out;
  out.what = ces_answer::kind::refused;
  out.request_id = std::move(request_id);
  out.hresult = hresult;
  out.failure = dcom_failure(hresult, what, message);
  return out;
}

bool is_failure(std::uint32_t hresult) { return (hresult & 0x80000000u) != 0; }

}  // namespace

std::string config_string(const msca_settings& s) { return s.server + "\\" + s.ca; }

http_request dcom_submit(const msca_settings& s, crypto::byte_view request, request_format format,
                         std::string_view template_name) {
  return encode_call({.kind = dcom_call_kind::submit,
                      .server = s.server,
                      .config = config_string(s),
                      .request_b64 = crypto::base64_encode(request),
                      .format = format,
                      .attributes = fmt::format("CertificateTemplate:{}", template_name)});
}

http_request dcom_retrieve(const msca_settings& s, std::string_view request_id) {
  long id = 0;
  std::from_chars(request_id.data(), request_id.data() + request_id.size(), id);
  return encode_call(
      {.kind = dcom_call_kind::retrieve, .server = s.server, .config = config_string(s), .id = id});
}

http_request dcom_resubmit(const msca_settings& s, std::string_view request_id) {
  long id = 0;
  std::from_chars(request_id.data(), request_id.data() + request_id.size(), id);
  return encode_call(
      {.kind = dcom_call_kind::resubmit, .server = s.server, .config = config_string(s), .id = id});
}

// ICertAdmin::ResubmitRequest (certadm.h, Microsoft Learn): "For this method
// to succeed, the certificate request must be pending"; on S_OK pDisposition
// is one of CR_DISP_INCOMPLETE ("Request did not complete"), CR_DISP_ERROR
// ("Request failed"), CR_DISP_DENIED ("Request denied"), CR_DISP_ISSUED
// ("Certificate issued"), CR_DISP_ISSUED_OUT_OF_BAND ("Certificate issued
// separately") or CR_DISP_UNDER_SUBMISSION ("Request taken under
// submission"). [MS-CSRA] 3.1.4.1.3: a request the CA does not find puts
// 0x80094004 in pdwDisposition and the call returns successfully: a
// disposition with the high bit set is such an HRESULT.
resubmit_answer read_dcom_resubmit(const http_response& answer, const msca_settings& s,
                                   std::string_view request_id) {
  auto a = decode_answer(answer);
  if (!a) return {.failure = dcom_unreadable(answer.body.substr(0, answer.body.find('\n')))};
  auto what =
      fmt::format("ICertAdmin2::ResubmitRequest of request {} at {}", request_id, config_string(s));
  std::uint32_t hresult = a->hresult;
  if (!is_failure(hresult) && a->disposition < 0)
    hresult = static_cast<std::uint32_t>(a->disposition);
  if (is_failure(hresult)) {
    // CERTSRV_E_BAD_REQUESTSTATUS: the request is no longer pending.
    if (hresult == 0x80094003u) return {.what = resubmit_answer::kind::not_pending};
    // Not a CA manager: the request stays for one to issue.
    if (hresult == 0x80070005u || hresult == 0x80094009u)
      return {.what = resubmit_answer::kind::not_allowed,
              .failure = outcome::failed(
                  error_class::auth,
                  fmt::format("{}: {}: the machine (the computer account the service runs as) "
                              "lacks Issue and Manage Certificates on the CA",
                              what, describe_hresult(hresult)),
                  fmt::format("0x{:08X}", hresult))};
    return {.failure = dcom_failure(hresult, what, a->message)};
  }
  switch (a->disposition) {
    case cr_disp_issued:
    case cr_disp_issued_out_of_band:
      return {.what = resubmit_answer::kind::issued};
    case cr_disp_under_submission:
      return {.what = resubmit_answer::kind::pending};
    case cr_disp_denied:
      return {.what = resubmit_answer::kind::denied,
              .failure = dcom_failure(0x80094014u,
                                      fmt::format("AD CS denied request {} when cbcs "
                                                  "resubmitted it",
                                                  request_id),
                                      a->message)};
    default:
      return {.failure = dcom_failure(
                  0x8000FFFFu, fmt::format("{} answered disposition {}", what, a->disposition),
                  a->message)};
  }
}

http_request dcom_revoke(const msca_settings& s, std::string_view serial_hex, int reason) {
  return encode_call({.kind = dcom_call_kind::revoke,
                      .server = s.server,
                      .config = config_string(s),
                      .serial_hex = std::string(serial_hex),
                      .reason = reason});
}

std::optional<outcome> read_dcom_status(const http_response& answer, const msca_settings& s,
                                        std::string_view what) {
  auto a = decode_answer(answer);
  if (!a) return dcom_unreadable(answer.body.substr(0, answer.body.find('\n')));
  if (!is_failure(a->hresult)) return std::nullopt;
  return dcom_failure(a->hresult,
                      fmt::format("AD CS {} ({}) over DCOM failed", what, config_string(s)),
                      a->message);
}

http_request dcom_property(const msca_settings& s, long property_id, long index) {
  return encode_call({.kind = dcom_call_kind::property,
                      .server = s.server,
                      .config = config_string(s),
                      .id = property_id,
                      .index = index});
}

dcom_value read_dcom_value(const http_response& answer, const msca_settings& s,
                           std::string_view what) {
  if (auto failure = read_dcom_status(answer, s, what)) return {.failure = std::move(failure)};
  return {.value = decode_answer(answer)->value};
}

ces_answer read_dcom_answer(const http_response& answer, const msca_settings& s) {
  auto a = decode_answer(answer);
  if (!a) {
    ces_answer out;
    out.failure = dcom_unreadable(answer.body.substr(0, answer.body.find('\n')));
    return out;
  }
  std::string id = a->request_id ? std::to_string(a->request_id) : std::string{};
  // The call itself failed (no disposition): RPC unavailable, access denied.
  if (is_failure(a->hresult) && a->disposition == cr_disp_incomplete)
    return refusal(a->hresult, id, fmt::format("AD CS {} over DCOM failed", config_string(s)),
                   a->message);
  ces_answer out;
  out.request_id = id;
  out.disposition = a->message;
  switch (a->disposition) {
    case cr_disp_issued:
    case cr_disp_issued_out_of_band: {
      auto der = crypto::base64_decode(a->certificate_b64);
      if (!der || der->empty()) {
        out.failure = dcom_unreadable("an issued request without its certificate");
        return out;
      }
      out.certificate_pem = crypto::der_to_pem("CERTIFICATE", *der);
      out.serial_hex = crypto::certificate_serial_hex(out.certificate_pem);
      // The chain (a PKCS#7): its issuers, the leaf left out; one that cannot
      // be read leaves the chain empty rather than failing an issued certificate.
      if (auto chain = crypto::base64_decode(a->chain_b64); chain && !chain->empty()) {
        try {
          for (const auto& pem : crypto::read_ca_response(*chain).certificates)
            if (pem != out.certificate_pem) out.chain_pem += pem;
        } catch (const crypto::cms_error&) {
        }
      }
      out.what = ces_answer::kind::issued;
      return out;
    }
    case cr_disp_under_submission:
      if (id.empty()) {
        out.failure = dcom_unreadable("a pending answer without a request id");
        return out;
      }
      out.what = ces_answer::kind::pending;
      return out;
    case cr_disp_denied:
      // GetLastStatus says why; a manager's denial when it says nothing.
      return refusal(is_failure(a->hresult) ? a->hresult : 0x80094014u, id,
                     fmt::format("AD CS denied request {}", id), a->message);
    default:
      return refusal(
          is_failure(a->hresult) ? a->hresult : 0x8000FFFFu, id,
          fmt::format("AD CS could not process request {} (disposition {})", id, a->disposition),
          a->message);
  }
}

}  // namespace cbcs::protocol::ca::msca
