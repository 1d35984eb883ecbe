#pragma once
// The code and message a CA puts in an error answer, read by one reader for
// every vendor: each says where its error object is and which keys hold the
// two. Lenient: an answer that is not JSON, or not of that shape, gives an
// empty error and the caller falls back on the HTTP status.
//
//   DigiCert  {"errors":[{"code":"invalid_dcv_method","message":"..."}]}
//   Google    {"error":{"code":403,"message":"...","status":"PERMISSION_DENIED"}}
//   AWS       {"__type":"com.amazonaws.acmpca#ThrottlingException","message":"..."}
//   Entrust   {"errors":[{"code":"...","message":"..."}]}

#include <string>
#include <string_view>
#include <vector>

namespace cbcs::protocol::ca {

struct vendor_error_shape {
  // Keys tried in order for the error object; "" is the answer itself. An
  // array there: its first object; a string there: the message.
  std::vector<std::string_view> at;
  std::vector<std::string_view> code;     // keys tried in order
  std::vector<std::string_view> message;  // keys tried in order
  // A longer code is dropped; a longer message cut. A vendor whose codes
  // carry more than the code (AWS's namespace and URL) reads them whole.
  std::size_t code_limit = 128;
  std::size_t message_limit = 400;
};

struct vendor_error {
  // A code of printable ASCII without spaces, at most code_limit bytes
  // (anything else is dropped: it ends up in messages and traces); a number
  // as digits.
  std::string code;
  std::string message;  // one line, at most message_limit bytes
  bool empty() const { return code.empty() && message.empty(); }
};

vendor_error read_vendor_error(std::string_view body, const vendor_error_shape& shape);

}  // namespace cbcs::protocol::ca
