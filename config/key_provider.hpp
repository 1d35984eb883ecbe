#pragma once
// Where the vault's machine key comes from.

#include <filesystem>

#include "crypto/bytes.hpp"

namespace cbcs::config {

class data_dir;

// The 32-byte machine key that seals the vault, in this order of preference:
//  1. $CREDENTIALS_DIRECTORY/cbcs-vault-key (systemd LoadCredential=, so the key
//     can live outside the data directory);
//  2. Windows: vault.key in the data directory, protected by DPAPI machine scope;
//  3. Linux: vault.key in the data directory, mode 0600, created on first use.
// Throws config_error naming the file when the key is unusable.
crypto::bytes load_machine_key(const data_dir& dir);

// The key-file step alone (exposed for tests): reads path, or creates it with
// a fresh random key when missing.
crypto::bytes load_or_create_key_file(const std::filesystem::path& path);

}  // namespace cbcs::config
