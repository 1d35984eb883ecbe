// config::vault reading vault.bin: a damaged or altered file must throw
// config_error, never crash. The key is fixed. The first input byte picks how
// the rest becomes the file:
//   even: the rest is the whole file, as it is;
//   odd:  the rest is the record section, wrapped in the magic, the key's check
//         value and a correct MAC, so the fuzzer gets past the integrity check
//         and reaches the record parser.
// A vault that opens must save and open again with the same records.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/config_error.hpp"
#include "config/vault.hpp"
#include "crypto/digest.hpp"
#include "fuzz_check.hpp"

namespace {

using namespace cbcs;

const crypto::bytes& fixed_key() {
  static const crypto::bytes key = [] {
    crypto::bytes k(32);
    for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(0xa5 ^ i);
    return k;
  }();
  return key;
}

crypto::bytes derive(std::string_view label) {
  auto d = crypto::hmac_sha256(fixed_key(), crypto::as_bytes(label));
  return crypto::bytes(d.begin(), d.end());
}

// One file per process, rewritten for every input; in memory when /dev/shm exists.
class scratch_file {
 public:
  scratch_file() {
    std::error_code ec;
    std::filesystem::path dir = std::filesystem::is_directory("/dev/shm", ec)
                                    ? "/dev/shm"
                                    : std::filesystem::temp_directory_path();
    path_ = dir / ("cbcs-fuzz-vault-" + std::to_string(::getpid()) + ".bin");
  }
  ~scratch_file() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  scratch_file(const scratch_file&) = delete;
  scratch_file& operator=(const scratch_file&) = delete;

  const std::filesystem::path& write(std::string_view bytes) const {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) fuzz::fail("cannot write the scratch vault file", path_.string());
    return path_;
  }

 private:
  std::filesystem::path path_;
};

std::string wrap_records(std::string_view records) {
  static const crypto::bytes check = [] {
    auto c = derive("cbcs vault key check");
    c.resize(16);
    return c;
  }();
  static const crypto::bytes mac_key = derive("cbcs vault file mac");
  std::string file = "CBCSVLT1";
  file.append(crypto::as_chars(check));
  file.append(records);
  auto mac = crypto::hmac_sha256(mac_key, crypto::as_bytes(file));
  file.append(crypto::as_chars(mac));
  return file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const scratch_file scratch;
  if (size == 0) return 0;
  auto rest = fuzz::as_text(data + 1, size - 1);
  const auto& file = scratch.write((data[0] & 1) ? wrap_records(rest) : std::string(rest));

  std::map<std::string, std::string> records;
  std::string saved;
  try {
    config::vault v(file, fixed_key());
    for (const auto& name : v.names()) {
      auto secret = v.get(name);
      fuzz::check(secret.has_value(), "a listed record cannot be read", name);
      records.emplace(name, *secret);
    }
    saved = v.serialize();
  } catch (const config::config_error& e) {
    fuzz::check(std::string_view(e.what()).find(file.string()) != std::string_view::npos,
                "config_error does not name the file", e.what());
    return 0;
  } catch (const std::exception& e) {
    fuzz::fail("vault threw something other than config_error", e.what());
  }

  scratch.write(saved);
  try {
    config::vault again(file, fixed_key());
    auto names = again.names();
    fuzz::check(names.size() == records.size(), "a saved vault lost or gained records");
    for (const auto& [name, secret] : records)
      fuzz::check(again.get(name) == secret, "a saved vault changed a record", name);
  } catch (const std::exception& e) {
    fuzz::fail("a saved vault does not open again", e.what());
  }
  return 0;
}
