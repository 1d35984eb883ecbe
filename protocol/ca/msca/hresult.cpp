#include "protocol/ca/msca/hresult.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <limits>

namespace cbcs::protocol::ca::msca {
namespace {

constexpr auto rejected = error_class::rejected;
constexpr auto unavailable = error_class::unavailable;
constexpr auto auth = error_class::auth;
constexpr auto invalid = error_class::invalid_request;

// winerror.h; the meanings are Microsoft's texts, shortened.
constexpr std::array<hresult_info, 45> table{{
    {0x80094001, "CERTSRV_E_BAD_REQUESTSUBJECT", "the request subject name is invalid or too long",
     invalid},
    {0x80094002, "CERTSRV_E_NO_REQUEST", "the request does not exist", rejected},
    {0x80094003, "CERTSRV_E_BAD_REQUESTSTATUS",
     "the request's current status does not allow this operation", rejected},
    {0x80094004, "CERTSRV_E_PROPERTY_EMPTY", "the requested property value is empty", rejected},
    {0x80094005, "CERTSRV_E_INVALID_CA_CERTIFICATE", "the CA's certificate contains invalid data",
     unavailable},
    {0x80094006, "CERTSRV_E_SERVER_SUSPENDED",
     "the CA service has been suspended for a database restore", unavailable},
    {0x80094007, "CERTSRV_E_ENCODING_LENGTH", "the certificate has an invalid name length",
     invalid},
    {0x80094008, "CERTSRV_E_ROLECONFLICT",
     "the operation is denied: the account has more than one CA role", auth},
    {0x80094009, "CERTSRV_E_RESTRICTEDOFFICER",
     "the operation is denied: the account is a restricted officer", auth},
    {0x8009400F, "CERTSRV_E_NO_DB_SESSIONS", "the CA has no free database sessions", unavailable},
    {0x80094011, "CERTSRV_E_ENROLL_DENIED",
     "the CA's permissions do not allow this account to enroll", auth},
    {0x80094012, "CERTSRV_E_TEMPLATE_DENIED",
     "the template's permissions do not allow this account to enroll", auth},
    {0x80094014, "CERTSRV_E_ADMIN_DENIED_REQUEST", "a CA manager denied the request", rejected},
    {0x80094015, "CERTSRV_E_NO_POLICY_SERVER", "no enrollment policy server can be found",
     unavailable},
    {0x80094800, "CERTSRV_E_UNSUPPORTED_CERT_TYPE",
     "the CA does not publish the requested template", rejected},
    {0x80094801, "CERTSRV_E_NO_CERT_TYPE", "the request names no template", invalid},
    {0x80094802, "CERTSRV_E_TEMPLATE_CONFLICT", "the request names conflicting templates",
     invalid},
    {0x80094803, "CERTSRV_E_SUBJECT_ALT_NAME_REQUIRED",
     "the template requires a subject alternative name the request lacks", invalid},
    {0x80094804, "CERTSRV_E_ARCHIVED_KEY_REQUIRED",
     "the template requires the private key to be archived", invalid},
    {0x80094805, "CERTSRV_E_SMIME_REQUIRED", "the template requires an S/MIME capability",
     invalid},
    {0x80094806, "CERTSRV_E_BAD_RENEWAL_SUBJECT",
     "a renewal must keep the subject of the certificate it renews", invalid},
    {0x80094807, "CERTSRV_E_BAD_TEMPLATE_VERSION", "the template's version is out of date",
     rejected},
    {0x80094808, "CERTSRV_E_TEMPLATE_POLICY_REQUIRED",
     "the template requires a policy the signing certificate lacks", rejected},
    {0x80094809, "CERTSRV_E_SIGNATURE_POLICY_REQUIRED",
     "the template requires a request signed by an enrollment agent", rejected},
    {0x8009480A, "CERTSRV_E_SIGNATURE_COUNT",
     "the request lacks the number of signatures the template requires", rejected},
    {0x8009480B, "CERTSRV_E_SIGNATURE_REJECTED",
     "the request's signing certificate is not valid for it (no Certificate Request Agent "
     "policy, or not trusted)",
     rejected},
    {0x8009480C, "CERTSRV_E_ISSUANCE_POLICY_REQUIRED",
     "the signing certificate lacks an issuance policy the template requires", rejected},
    {0x8009480D, "CERTSRV_E_SUBJECT_UPN_REQUIRED",
     "the template requires a UPN the CA cannot find for the subject", rejected},
    {0x8009480E, "CERTSRV_E_SUBJECT_DIRECTORY_GUID_REQUIRED",
     "the template requires a directory GUID the CA cannot find", rejected},
    {0x8009480F, "CERTSRV_E_SUBJECT_DNS_REQUIRED",
     "the template requires a DNS name the CA cannot find", rejected},
    {0x80094810, "CERTSRV_E_ARCHIVED_KEY_UNEXPECTED",
     "the request holds a key for archival the template does not want", invalid},
    {0x80094811, "CERTSRV_E_KEY_LENGTH", "the key is smaller than the template's minimum",
     invalid},
    {0x80094812, "CERTSRV_E_SUBJECT_EMAIL_REQUIRED",
     "the template requires an email name the CA cannot find for the subject", rejected},
    {0x80094813, "CERTSRV_E_UNKNOWN_CERT_TYPE", "the template is not known to the CA", rejected},
    {0x80094814, "CERTSRV_E_CERT_TYPE_OVERLAP",
     "the template's validity overlaps the CA's own expiry", rejected},
    {0x80094816, "CERTSRV_E_RENEWAL_BAD_PUBLIC_KEY",
     "the template requires renewal with the same public key", invalid},
    {0x80092004, "CRYPT_E_NOT_FOUND", "the object or property was not found", rejected},
    {0x80092013, "CRYPT_E_REVOCATION_OFFLINE",
     "the CA could not check a signing certificate's revocation: the revocation server is "
     "offline",
     unavailable},
    {0x80090006, "NTE_BAD_SIGNATURE", "the request's signature is invalid", invalid},
    {0x80070005, "E_ACCESSDENIED", "access is denied", auth},
    {0x80070057, "E_INVALIDARG", "the parameter is incorrect", invalid},
    {0x8007000D, "ERROR_INVALID_DATA", "the data is invalid", invalid},
    {0x800706BA, "RPC_S_SERVER_UNAVAILABLE", "the RPC server is unavailable", unavailable},
    // CoCreateInstance of CertCli's or CertAdm's object on a machine without
    // them (Wine; a Windows without the certificate services client).
    {0x80040154, "REGDB_E_CLASSNOTREG",
     "the COM class is not registered on this machine (CertCli or CertAdm is missing)", rejected},
    {0x800B0109, "CERT_E_UNTRUSTEDROOT",
     "a certificate chain ends in a root the CA does not trust", rejected},
}};

}  // namespace

const hresult_info* find_hresult(std::uint32_t code) {
  for (const auto& h : table)
    if (h.code == code) return &h;
  return nullptr;
}

std::string describe_hresult(std::uint32_t code) {
  if (const auto* h = find_hresult(code))
    return fmt::format("{} (0x{:08X}): {}", h->name, code, h->meaning);
  return fmt::format("HRESULT 0x{:08X}", code);
}

error_class class_of_hresult(std::uint32_t code) {
  const auto* h = find_hresult(code);
  return h ? h->treat_as : error_class::rejected;
}

bool parse_hresult(std::string_view text, std::uint32_t& code) {
  if (text.starts_with("0x") || text.starts_with("0X")) {
    auto digits = text.substr(2);
    if (digits.empty() || digits.size() > 8) return false;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), code, 16);
    return ec == std::errc{} && end == digits.data() + digits.size();
  }
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return false;
  if (value < std::numeric_limits<std::int32_t>::min() ||
      value > std::numeric_limits<std::uint32_t>::max())
    return false;
  code = static_cast<std::uint32_t>(value);
  return true;
}

}  // namespace cbcs::protocol::ca::msca
