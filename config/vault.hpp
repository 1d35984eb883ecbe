#pragma once
// Every secret the connector is given, sealed with AES-256-GCM under the
// machine key: a fresh nonce per record, the record name as AAD, and a MAC
// over the whole file so that a removed or swapped record is noticed too.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "crypto/bytes.hpp"

namespace cbcs::config {

class vault {
 public:
  // Opens file with key; a missing file is an empty vault. Throws config_error
  // naming the file for a wrong key or a damaged or altered file.
  vault(std::filesystem::path file, crypto::bytes key);
  ~vault();
  vault(const vault&) = delete;
  vault& operator=(const vault&) = delete;

  std::optional<std::string> get(std::string_view name) const;
  void put(const std::string& name, std::string_view secret);
  bool erase(std::string_view name);
  std::vector<std::string> names() const;

  // Seals every record afresh and replaces the file atomically.
  void save() const;

  // The serialized form (exposed for tests that tamper with it).
  std::string serialize() const;

 private:
  void parse(std::string_view data);

  std::filesystem::path file_;
  crypto::bytes record_key_;
  crypto::bytes mac_key_;
  crypto::bytes check_value_;
  std::map<std::string, std::string, std::less<>> records_;
};

}  // namespace cbcs::config
