#include "config/vault.hpp"

#include <openssl/crypto.h>

#include <fmt/format.h>

#include "config/atomic_file.hpp"
#include "config/config_error.hpp"
#include "crypto/aead.hpp"
#include "crypto/digest.hpp"
#include "crypto/random.hpp"

namespace cbcs::config {
namespace {

// File layout (integers big-endian):
//   "CBCSVLT1" | check value (16) | record count (u32) |
//   records: name length (u16) | name | nonce (12) | sealed length (u32) | sealed |
//   HMAC-SHA-256 over everything before it (32)
constexpr std::string_view magic = "CBCSVLT1";
constexpr std::size_t check_size = 16;
constexpr std::size_t mac_size = 32;

crypto::bytes derive(crypto::byte_view key, std::string_view label) {
  auto d = crypto::hmac_sha256(key, crypto::as_bytes(label));
  return crypto::bytes(d.begin(), d.end());
}

std::string aad_for(std::string_view name) { return "cbcs-vault-v1:" + std::string(name); }

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

void put_u16(std::string& out, std::uint16_t v) {
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v & 0xff);
}

class reader {
 public:
  explicit reader(std::string_view data) : data_(data) {}
  bool take(std::size_t n, std::string_view& out) {
    if (data_.size() - pos_ < n) return false;
    out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool take_uint(std::size_t width, std::uint32_t& out) {
    std::string_view raw;
    if (!take(width, raw)) return false;
    out = 0;
    for (unsigned char c : raw) out = (out << 8) | c;
    return true;
  }
  std::size_t pos() const { return pos_; }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

}  // namespace

vault::vault(std::filesystem::path file, crypto::bytes key) : file_(std::move(file)) {
  if (key.size() != crypto::aead_key_size)
    throw config_error(fmt::format("vault key for {} has the wrong size", file_.string()));
  record_key_ = derive(key, "cbcs vault record key");
  mac_key_ = derive(key, "cbcs vault file mac");
  check_value_ = derive(key, "cbcs vault key check");
  check_value_.resize(check_size);
  OPENSSL_cleanse(key.data(), key.size());
  std::error_code ec;
  if (std::filesystem::exists(file_, ec)) parse(read_file(file_, 64 << 20));
}

vault::~vault() {
  for (auto& [name, secret] : records_) OPENSSL_cleanse(secret.data(), secret.size());
  OPENSSL_cleanse(record_key_.data(), record_key_.size());
  OPENSSL_cleanse(mac_key_.data(), mac_key_.size());
}

void vault::parse(std::string_view data) {
  auto damaged = [&](std::string_view why) {
    return config_error(fmt::format("vault file {} is damaged: {}", file_.string(), why));
  };
  reader in(data);
  std::string_view head, check;
  if (!in.take(magic.size(), head) || head != magic) throw damaged("not a cbcs vault");
  if (!in.take(check_size, check)) throw damaged("truncated");
  if (!crypto::equal_constant_time(crypto::as_bytes(check), check_value_))
    throw config_error(
        fmt::format("vault file {} was sealed with another key (wrong or replaced vault.key?)",
                    file_.string()));
  if (data.size() < mac_size + in.pos()) throw damaged("truncated");
  auto body = data.substr(0, data.size() - mac_size);
  auto mac = crypto::hmac_sha256(mac_key_, crypto::as_bytes(body));
  if (!crypto::equal_constant_time(mac, crypto::as_bytes(data.substr(body.size()))))
    throw config_error(fmt::format(
        "vault file {} has been altered or damaged (integrity check failed)", file_.string()));
  reader records(body.substr(in.pos()));
  std::uint32_t count = 0;
  if (!records.take_uint(4, count)) throw damaged("truncated");
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint32_t name_len = 0, sealed_len = 0;
    std::string_view name, nonce, sealed;
    if (!records.take_uint(2, name_len) || !records.take(name_len, name) ||
        !records.take(crypto::aead_nonce_size, nonce) || !records.take_uint(4, sealed_len) ||
        !records.take(sealed_len, sealed))
      throw damaged("truncated record");
    auto plain = crypto::aead_open(record_key_, crypto::as_bytes(nonce),
                                   crypto::as_bytes(aad_for(name)), crypto::as_bytes(sealed));
    if (!plain) throw damaged(fmt::format("record {} does not decrypt", i));
    records_.emplace(std::string(name), std::string(plain->begin(), plain->end()));
    OPENSSL_cleanse(plain->data(), plain->size());
  }
}

std::optional<std::string> vault::get(std::string_view name) const {
  auto it = records_.find(name);
  if (it == records_.end()) return std::nullopt;
  return it->second;
}

void vault::put(const std::string& name, std::string_view secret) {
  if (name.empty() || name.size() > 1024)
    throw config_error("vault record name must be 1 to 1024 bytes");
  auto& slot = records_[name];
  OPENSSL_cleanse(slot.data(), slot.size());
  slot.assign(secret);
}

bool vault::erase(std::string_view name) {
  auto it = records_.find(name);
  if (it == records_.end()) return false;
  OPENSSL_cleanse(it->second.data(), it->second.size());
  records_.erase(it);
  return true;
}

std::vector<std::string> vault::names() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : records_) out.push_back(name);
  return out;
}

std::string vault::serialize() const {
  std::string out(magic);
  out.append(reinterpret_cast<const char*>(check_value_.data()), check_value_.size());
  put_u32(out, static_cast<std::uint32_t>(records_.size()));
  for (const auto& [name, secret] : records_) {
    auto nonce = crypto::random_bytes(crypto::aead_nonce_size);
    auto sealed = crypto::aead_seal(record_key_, nonce, crypto::as_bytes(aad_for(name)),
                                    crypto::as_bytes(secret));
    put_u16(out, static_cast<std::uint16_t>(name.size()));
    out += name;
    out.append(crypto::as_chars(nonce));
    put_u32(out, static_cast<std::uint32_t>(sealed.size()));
    out.append(crypto::as_chars(sealed));
  }
  auto mac = crypto::hmac_sha256(mac_key_, crypto::as_bytes(out));
  out.append(crypto::as_chars(mac));
  return out;
}

void vault::save() const { write_file_atomic(file_, serialize()); }

}  // namespace cbcs::config
