#include "crypto/keytab.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>

namespace cbcs::crypto {
namespace {

// Big-endian fields of format 0x0502 (MIT's keytab file format: a version,
// then records, each a signed 32-bit size (negative: a hole) and an entry).
class reader {
 public:
  explicit reader(std::string_view data) : data_(data) {}

  std::uint32_t u(std::size_t n) {
    need(n);
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(data_[pos_ + i]);
    pos_ += n;
    return v;
  }
  std::string counted() {
    auto n = u(2);
    need(n);
    std::string s(data_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  std::size_t left() const { return data_.size() - pos_; }

 private:
  void need(std::size_t n) const {
    if (left() < n) throw keytab_error("the keytab is cut short");
  }
  std::string_view data_;
  std::size_t pos_ = 0;
};

std::string escaped(std::string_view part) {
  std::string out;
  for (char c : part) {
    if (c == '/' || c == '@' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string enctype_name(std::int32_t e) {
  switch (e) {
    case 17:
      return "aes128-cts";
    case 18:
      return "aes256-cts";
    case 19:
      return "aes128-sha2";
    case 20:
      return "aes256-sha2";
    case 23:
      return "rc4-hmac";
    case 25:
      return "camellia128";
    case 26:
      return "camellia256";
    default:
      return fmt::format("enctype {}", e);
  }
}

}  // namespace

std::string keytab_entry::principal() const {
  std::string name;
  for (const auto& c : components) {
    if (!name.empty()) name += '/';
    name += escaped(c);
  }
  return name + "@" + escaped(realm);
}

std::vector<keytab_entry> parse_keytab(std::string_view content) {
  reader r(content);
  if (content.size() < 2 || static_cast<unsigned char>(content[0]) != 5)
    throw keytab_error("not a Kerberos keytab file");
  r.u(1);
  if (r.u(1) != 2)
    throw keytab_error("a keytab of format version 1: export it again with ktutil or ktpass");
  std::vector<keytab_entry> entries;
  while (r.left() >= 4) {
    auto size = static_cast<std::int32_t>(r.u(4));
    if (size == 0) break;
    if (size < 0) {  // a deleted entry's hole
      auto hole = static_cast<std::uint32_t>(-static_cast<std::int64_t>(size));
      if (hole > r.left()) throw keytab_error("the keytab is cut short");
      for (std::uint32_t i = 0; i < hole; ++i) r.u(1);
      continue;
    }
    if (static_cast<std::size_t>(size) > r.left()) throw keytab_error("the keytab is cut short");
    auto start = r.left();
    keytab_entry e;
    auto count = r.u(2);
    e.realm = r.counted();
    for (std::uint32_t i = 0; i < count; ++i) e.components.push_back(r.counted());
    e.name_type = r.u(4);
    e.timestamp = r.u(4);
    e.kvno = r.u(1);
    e.enctype = static_cast<std::int32_t>(static_cast<std::int16_t>(r.u(2)));
    e.key = r.counted();
    auto used = start - r.left();
    // A 32-bit key version follows when the record has room for it.
    if (static_cast<std::size_t>(size) >= used + 4) {
      auto kvno32 = r.u(4);
      if (kvno32 != 0) e.kvno = kvno32;
      used += 4;
    }
    if (used > static_cast<std::size_t>(size)) throw keytab_error("a keytab record is damaged");
    for (auto rest = static_cast<std::size_t>(size) - used; rest > 0; --rest) r.u(1);
    if (e.components.empty() || e.realm.empty() || e.key.empty())
      throw keytab_error("a keytab record names no principal or holds no key");
    entries.push_back(std::move(e));
  }
  if (entries.empty()) throw keytab_error("the keytab holds no keys");
  return entries;
}

bool same_principal(const keytab_entry& e, std::string_view principal) {
  auto full = e.principal();
  if (principal.find('@') != std::string_view::npos) return full == principal;
  return full.substr(0, full.rfind('@')) == principal;
}

std::string summarize_keytab(std::string_view content) {
  try {
    auto entries = parse_keytab(content);
    std::set<std::string> principals;
    std::uint32_t kvno = 0;
    std::vector<std::string> types;
    for (const auto& e : entries) {
      principals.insert(e.principal());
      kvno = std::max(kvno, e.kvno);
      auto name = enctype_name(e.enctype);
      if (std::find(types.begin(), types.end(), name) == types.end()) types.push_back(name);
    }
    std::string names;
    for (const auto& p : principals) names += (names.empty() ? "" : ", ") + p;
    return fmt::format("{} key{} for {} (key version {}; {})", entries.size(),
                       entries.size() == 1 ? "" : "s", names, kvno, fmt::join(types, ", "));
  } catch (const keytab_error& e) {
    return e.what();
  }
}

}  // namespace cbcs::crypto
