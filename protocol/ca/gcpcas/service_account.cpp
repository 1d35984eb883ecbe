#include "protocol/ca/gcpcas/service_account.hpp"

#include <stdexcept>

#include <simdjson.h>

#include "crypto/openssl_types.hpp"
#include "crypto/pem.hpp"

namespace cbcs::protocol::ca::gcpcas {

service_account parse_service_account(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(simdjson::padded_string(json)).get(doc))
    throw std::runtime_error("not valid JSON");
  auto field = [&](const char* name) {
    std::string_view v;
    if (doc[name].get_string().get(v) || v.empty())
      throw std::runtime_error(std::string("field \"") + name + "\" is missing or not a string");
    return std::string(v);
  };
  if (field("type") != "service_account")
    throw std::runtime_error("field \"type\" is not \"service_account\"");
  service_account out{field("client_email"), field("private_key_id"), field("private_key"),
                      field("token_uri")};
  if (!out.token_uri.starts_with("https://"))
    throw std::runtime_error("field \"token_uri\" is not an https URL");
  crypto::pkey_ptr key;
  try {
    key = crypto::parse_private_key(out.private_key_pem);
  } catch (const std::exception&) {
    throw std::runtime_error("field \"private_key\" is not a PEM private key");
  }
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA)
    throw std::runtime_error("field \"private_key\" is not an RSA key (RS256 needs one)");
  return out;
}

}  // namespace cbcs::protocol::ca::gcpcas
