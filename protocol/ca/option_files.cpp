#include "protocol/ca/option_files.hpp"

#include "crypto/credential_files.hpp"
#include "protocol/ca/registry.hpp"

namespace cbcs::protocol::ca {
namespace {

using reason = crypto::credential_file_error::reason;

std::optional<std::string> take(option_values& values, std::string_view name) {
  auto it = values.find(name);
  if (it == values.end()) return std::nullopt;
  auto out = std::move(it->second);
  values.erase(it);
  return out;
}

// What to do about a file that did not read, in the words of the command.
std::string with_fix(const crypto::credential_file_error& e, std::string_view password_option) {
  std::string text = e.what();
  if (e.why() == reason::needs_password)
    text += "; give -" + std::string(password_option) +
            " - and type its password on standard input";
  return text;
}

std::optional<option_file_problem> read_identity_pkcs12(const backend_type& type,
                                                        option_values& values) {
  auto file = take(values, "pkcs12");
  auto password = take(values, "pkcs12password");
  if (!file) {
    if (password) return option_file_problem{"pkcs12password", "goes with -pkcs12 FILE"};
    return std::nullopt;
  }
  const auto& id = type.policy.client_identity;
  if (values.count(id.certificate) || values.count(id.key))
    return option_file_problem{
        "pkcs12", "holds the certificate and the key: give either -pkcs12 or -" +
                      std::string(id.certificate) + " and -" + std::string(id.key)};
  try {
    auto contents = crypto::read_pkcs12(*file, password.value_or(""));
    values.insert_or_assign(std::string(id.certificate), std::move(contents.certificates_pem));
    values.insert_or_assign(std::string(id.key), std::move(contents.key_pem));
  } catch (const crypto::credential_file_error& e) {
    return option_file_problem{"pkcs12", with_fix(e, "pkcs12password")};
  }
  return std::nullopt;
}

}  // namespace

std::optional<option_file_problem> read_option_files(const backend_type& type,
                                                     option_values& values) {
  bool has_identity = !type.policy.client_identity.empty();
  if (has_identity)
    if (auto problem = read_identity_pkcs12(type, values)) return problem;
  auto key_password = has_identity ? take(values, "keypassword") : std::nullopt;
  bool password_used = false;
  for (const auto& opt : all_options(type)) {
    auto it = values.find(opt.name);
    if (it == values.end() || !is_file(opt.kind)) continue;
    try {
      switch (opt.form) {
        case file_form::as_is:
          break;
        case file_form::certificates:
          it->second = crypto::certificates_as_pem(it->second);
          break;
        case file_form::private_key:
          password_used = true;
          it->second = crypto::private_key_as_pem(it->second, key_password);
          break;
      }
    } catch (const crypto::credential_file_error& e) {
      return option_file_problem{std::string(opt.name), with_fix(e, "keypassword")};
    }
    if (opt.check)
      if (auto problem = opt.check(it->second); !problem.empty())
        return option_file_problem{std::string(opt.name), std::move(problem)};
  }
  if (key_password && !password_used)
    return option_file_problem{"keypassword", "goes with -key FILE (an encrypted key)"};
  // A .p7b or a PKCS#12's chain need not start with the leaf: the client
  // presents the certificate of its key first.
  if (has_identity) {
    const auto& id = type.policy.client_identity;
    auto cert = values.find(id.certificate);
    auto key = values.find(id.key);
    if (cert != values.end() && key != values.end())
      cert->second = crypto::key_certificate_first(cert->second, key->second);
  }
  return std::nullopt;
}

}  // namespace cbcs::protocol::ca
