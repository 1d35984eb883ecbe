#include "config/key_provider.hpp"

#include <cstdlib>

#include <fmt/format.h>

#include "config/atomic_file.hpp"
#include "config/config_error.hpp"
#include "config/data_dir.hpp"
#include "crypto/aead.hpp"
#include "crypto/random.hpp"

#ifdef _WIN32
// <dpapi.h> needs what <windows.h> and <wincrypt.h> declare.
// clang-format off
#include <windows.h>
#include <wincrypt.h>
#include <dpapi.h>
// clang-format on
#else
#include <sys/stat.h>
#endif

namespace cbcs::config {
namespace fs = std::filesystem;
namespace {

crypto::bytes checked_key(std::string content, const fs::path& from) {
  if (content.size() != crypto::aead_key_size)
    throw config_error(
        fmt::format("vault key {} is not a {}-byte key", from.string(), crypto::aead_key_size));
  return crypto::bytes(content.begin(), content.end());
}

#ifdef _WIN32
// DPAPI machine scope: any process on this machine may unprotect, no other
// machine can; the file's ACL (set by the installer) limits it to SYSTEM and
// administrators.
std::string dpapi(const std::string& in, bool protect) {
  DATA_BLOB input{static_cast<DWORD>(in.size()),
                  reinterpret_cast<BYTE*>(const_cast<char*>(in.data()))};
  DATA_BLOB output{};
  BOOL ok = protect
                ? CryptProtectData(&input, L"cbcs vault key", nullptr, nullptr, nullptr,
                                   CRYPTPROTECT_LOCAL_MACHINE | CRYPTPROTECT_UI_FORBIDDEN, &output)
                : CryptUnprotectData(&input, nullptr, nullptr, nullptr, nullptr,
                                     CRYPTPROTECT_UI_FORBIDDEN, &output);
  if (!ok) throw config_error(fmt::format("DPAPI failed with error {}", GetLastError()));
  std::string out(reinterpret_cast<char*>(output.pbData), output.cbData);
  SecureZeroMemory(output.pbData, output.cbData);
  LocalFree(output.pbData);
  return out;
}
#endif

}  // namespace

crypto::bytes load_or_create_key_file(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    auto key = crypto::random_bytes(crypto::aead_key_size);
    std::string raw(key.begin(), key.end());
#ifdef _WIN32
    write_file_atomic(path, dpapi(raw, true));
#else
    write_file_atomic(path, raw);
#endif
    return key;
  }
#ifndef _WIN32
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
    throw config_error(
        fmt::format("vault key {} is readable by other users (mode {:o}); run chmod 600 on it",
                    path.string(), st.st_mode & 0777));
  return checked_key(read_file(path, 4096), path);
#else
  return checked_key(dpapi(read_file(path, 4096), false), path);
#endif
}

crypto::bytes load_machine_key(const data_dir& dir) {
  if (const char* creds = std::getenv("CREDENTIALS_DIRECTORY"); creds && *creds) {
    auto path = fs::path(creds) / "cbcs-vault-key";
    std::error_code ec;
    if (fs::exists(path, ec)) return checked_key(read_file(path, 4096), path);
  }
  return load_or_create_key_file(dir.key_file());
}

}  // namespace cbcs::config
