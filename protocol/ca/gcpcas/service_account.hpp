#pragma once
// A Google service-account key file, as `gcloud iam service-accounts keys create` writes it.

#include <string>
#include <string_view>

namespace cbcs::protocol::ca::gcpcas {

struct service_account {
  std::string client_email;
  std::string private_key_id;
  std::string private_key_pem;
  std::string token_uri;
};

// Throws std::runtime_error naming the missing or bad field (never its value).
service_account parse_service_account(std::string_view json);

}  // namespace cbcs::protocol::ca::gcpcas
