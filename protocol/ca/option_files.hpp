#pragma once
// The files `backend add` and `backend set` are given, in the forms
// administrators have them, read into the form each option keeps (a
// declared file_form); a PKCS#12 file fills the client identity's
// certificate and key; the input-only options are used and dropped.

#include <optional>
#include <string>

#include "protocol/ca/backend_type.hpp"

namespace cbcs::protocol::ca {

struct option_file_problem {
  std::string option;  // the option whose file or password is at fault
  std::string text;    // "holds an encrypted private key: give -keypassword - ..."
};

// `values` as given (files' raw content, input secrets) -> as kept. Then
// each file option's own check runs on the content read. nullopt: fine.
std::optional<option_file_problem> read_option_files(const backend_type& type,
                                                     option_values& values);

}  // namespace cbcs::protocol::ca
