#pragma once
// How the msca driver's calls travel to the DCOM transport and back, as the
// http_request and http_response every transport carries (transport.hpp):
//
//   request   method CALL, url dcom://SERVER/<call> (call: submit, retrieve,
//             revoke, resubmit, property), body "key=value" lines: config
//             (HOST\CA Name), request (base64 DER), format (pkcs10|pkcs7),
//             attributes (name:value pairs joined by "\n" written as "\\n"),
//             id, serial, reason, property, index.
//   answer    status 200, body "key=value" lines: hresult (0xXXXXXXXX),
//             disposition, id, message, cert and chain (base64, one line),
//             value. A call the transport cannot read: status 400 with a
//             message line.
//
// One line per value: the transport strips the CR LF COM puts in base64 and
// messages.

#include <optional>
#include <string>
#include <string_view>

#include "protocol/ca/driver.hpp"
#include "protocol/ca/msca/ca_com.hpp"

namespace cbcs::protocol::ca::msca {

enum class dcom_call_kind : std::uint8_t { submit, retrieve, revoke, resubmit, property };

struct dcom_call {
  dcom_call_kind kind = dcom_call_kind::submit;
  std::string server;  // for the URL (logs, rate limits); the config string decides
  std::string config;  // HOST\CA Name
  std::string request_b64;
  request_format format = request_format::pkcs10;
  std::string attributes;  // "CertificateTemplate:WebServer"
  long id = 0;             // retrieve, resubmit: the request; property: its PropId
  long index = 0;          // property: PropIndex
  std::string serial_hex;  // revoke
  long reason = 0;         // revoke: the RFC 5280 code
};

// The COM method a call makes, as Microsoft names it: "ICertRequest2::Submit".
std::string_view com_method(dcom_call_kind kind);

http_request encode_call(const dcom_call& call);
// nullopt: not a call of this encoding.
std::optional<dcom_call> decode_call(const http_request& request);

http_response encode_answer(const com_answer& answer);
// nullopt: not an answer of this encoding (a 400 from the transport, ...).
std::optional<com_answer> decode_answer(const http_response& response);

}  // namespace cbcs::protocol::ca::msca
