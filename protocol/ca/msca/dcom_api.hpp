#pragma once
// The DCOM side of AD CS for the msca driver (-transport dcom): its calls as
// the transport carries them (dcom_wire.hpp) and their answers read into
// what the request session decides on, the same ces_answer the CES side
// gives: the driver is one state machine for both transports. No state.

#include <optional>
#include <string_view>

#include "crypto/bytes.hpp"
#include "protocol/ca/msca/ca_com.hpp"
#include "protocol/ca/msca/ces_api.hpp"

namespace cbcs::protocol::ca::msca {

// "HOST\CA Name", the config string ICertRequest and ICertAdmin take.
std::string config_string(const msca_settings& s);

// ICertRequest2::Submit of the request (a CMS on behalf or a PKCS#10) with
// the attribute CertificateTemplate:<name>. A placement.
http_request dcom_submit(const msca_settings& s, crypto::byte_view request, request_format format,
                         std::string_view template_name);
// ICertRequest2::RetrievePending for a request the CA holds.
http_request dcom_retrieve(const msca_settings& s, std::string_view request_id);

// ICertAdmin2::ResubmitRequest of our own request the CA holds pending
// (-autoapprove: the machine, as a CA manager, issues it).
http_request dcom_resubmit(const msca_settings& s, std::string_view request_id);

// What ResubmitRequest answered: issued (fetch it with RetrievePending),
// no longer pending (CERTSRV_E_BAD_REQUESTSTATUS: an earlier resubmit that
// timed out may have issued it; RetrievePending tells), still pending (the
// policy module wants more than a manager's word), denied, not allowed (the
// machine is no CA manager: E_ACCESSDENIED and CERTSRV_E_RESTRICTEDOFFICER),
// or another failure (its class decides).
struct resubmit_answer {
  enum class kind : std::uint8_t { issued, not_pending, pending, denied, not_allowed, failed };
  kind what = kind::failed;
  outcome failure;  // denied, not_allowed, failed: the call and its HRESULT named
};
resubmit_answer read_dcom_resubmit(const http_response& answer, const msca_settings& s,
                                   std::string_view request_id);

// ICertAdmin2::RevokeCertificate of a serial (hex) with the RFC 5280 code
// (8, removeFromCRL, takes it off hold), effective now.
http_request dcom_revoke(const msca_settings& s, std::string_view serial_hex, int reason);

// ICertRequest2::GetCAProperty(id, index): a string, or a binary's base64.
http_request dcom_property(const msca_settings& s, long property_id, long index = 0);
// Its value, or the failure naming the HRESULT.
struct dcom_value {
  std::string value;
  std::optional<outcome> failure;
};
dcom_value read_dcom_value(const http_response& answer, const msca_settings& s,
                           std::string_view what);

// The answer to a call that returns nothing but its HRESULT (revoke):
// std::nullopt when it succeeded, else the failure naming it.
std::optional<outcome> read_dcom_status(const http_response& answer, const msca_settings& s,
                                        std::string_view what);

// The answer to dcom_submit or dcom_retrieve: issued (disposition 3 or 4),
// pending (5), refused (denied, or a failed call: the HRESULT named, its
// class from hresult.hpp) or failed (an answer that cannot be read).
ces_answer read_dcom_answer(const http_response& answer, const msca_settings& s);

}  // namespace cbcs::protocol::ca::msca
