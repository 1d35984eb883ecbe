#include "crypto/negotiate_client.hpp"

#include <fmt/format.h>
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5/krb5.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <stdexcept>
#include <vector>

#include "crypto/base64.hpp"
#include "crypto/bytes.hpp"
#include "crypto/keytab.hpp"

namespace cbcs::crypto {
namespace {

// SPNEGO, RFC 4178: "iso.org.dod.internet.security.mechanism.snego (1.3.6.1.5.5.2)".
gss_OID_desc spnego_oid{6, const_cast<char*>("\x2b\x06\x01\x05\x05\x02")};

std::string one_line(std::string text) {
  for (auto& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  return text;
}

}  // namespace

struct negotiate_client::impl {
  krb5_context ctx = nullptr;
  krb5_keytab keytab = nullptr;
  krb5_principal client = nullptr;
  krb5_ccache cache = nullptr;
  gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
  krb5_timestamp start = 0, end = 0;  // of the ticket-granting ticket held
  std::string principal, realm;

  ~impl() {
    OM_uint32 minor = 0;
    if (cred != GSS_C_NO_CREDENTIAL) gss_release_cred(&minor, &cred);
    if (cache) krb5_cc_destroy(ctx, cache);
    if (keytab) krb5_kt_close(ctx, keytab);
    if (client) krb5_free_principal(ctx, client);
    if (ctx) krb5_free_context(ctx);
  }

  std::string library_text(krb5_error_code code) const {
    const char* m = krb5_get_error_message(ctx, code);
    std::string text = m ? m : "error " + std::to_string(code);
    krb5_free_error_message(ctx, m);
    return one_line(text);
  }

  // What a Kerberos error means for the operator, naming the principal (and
  // the service principal where it is about that), never a key.
  failure explain(krb5_error_code code, std::string_view service, std::string detail) const {
    auto who = fmt::format("Kerberos for {}", principal);
    switch (code) {
      case KRB5_KDC_UNREACH:
        return {false, fmt::format("{}: no KDC of realm {} could be reached (krb5.conf, "
                                   "KRB5_CONFIG): {}",
                                   who, realm, detail)};
      case KRB5_REALM_UNKNOWN:
      case KRB5_REALM_CANT_RESOLVE:
        return {false, fmt::format("{}: no KDC is known for realm {} (krb5.conf, KRB5_CONFIG)", who,
                                   realm)};
      case KRB5KDC_ERR_PREAUTH_FAILED:
      case KRB5KRB_AP_ERR_BAD_INTEGRITY:
        return {true, fmt::format("{}: the KDC refused the key in the keytab (a wrong key or an "
                                  "old key version: export the keytab again and cbcs backend "
                                  "set -keytab FILE)",
                                  who)};
      case KRB5KRB_AP_ERR_BADKEYVER:
        return {true, fmt::format("{}: the key version of {} is not the KDC's (the service's key "
                                  "was changed; its keytab must be exported again)",
                                  who, service.empty() ? "the key" : service)};
      case KRB5KRB_AP_ERR_SKEW:
      case KRB5_KDCREP_SKEW:
        return {true, fmt::format("{}: this machine's clock and the KDC's differ by more than the "
                                  "allowed skew (5 minutes by default): set the clock (NTP)",
                                  who)};
      case KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN:
        return {true, fmt::format("{}: the KDC knows no service principal {} (register it for "
                                  "CES's host, or give -ces the host name it is registered for)",
                                  who, service)};
      case KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN:
        return {true, fmt::format("{}: the KDC knows no such principal", who)};
      case KRB5KDC_ERR_CLIENT_REVOKED:
        return {true, fmt::format("{}: the account is disabled or locked at the KDC", who)};
      case KRB5KDC_ERR_KEY_EXP:
        return {true, fmt::format("{}: the account's password has expired", who)};
      case KRB5_KT_NOTFOUND:
        return {true, fmt::format("{}: the keytab holds no key of a type the KDC accepts", who)};
      default:
        return {true,
                fmt::format("{}{}{}: {}", who, service.empty() ? "" : " to ", service, detail)};
    }
  }

  // A fresh ticket-granting ticket from the keytab, into a fresh memory cache.
  std::optional<failure> get_ticket() {
    krb5_get_init_creds_opt* opt = nullptr;
    if (auto code = krb5_get_init_creds_opt_alloc(ctx, &opt))
      return explain(code, {}, library_text(code));
    krb5_creds creds{};
    auto code = krb5_get_init_creds_keytab(ctx, &creds, client, keytab, 0, nullptr, opt);
    krb5_get_init_creds_opt_free(ctx, opt);
    if (code) return explain(code, {}, library_text(code));
    krb5_ccache fresh = nullptr;
    code = krb5_cc_new_unique(ctx, "MEMORY", nullptr, &fresh);
    if (!code) code = krb5_cc_initialize(ctx, fresh, client);
    if (!code) code = krb5_cc_store_cred(ctx, fresh, &creds);
    if (!code) {
      start = creds.times.starttime ? creds.times.starttime : creds.times.authtime;
      end = creds.times.endtime;
    }
    krb5_free_cred_contents(ctx, &creds);
    if (code) {
      if (fresh) krb5_cc_destroy(ctx, fresh);
      return explain(code, {}, library_text(code));
    }
    OM_uint32 minor = 0;
    if (cred != GSS_C_NO_CREDENTIAL) gss_release_cred(&minor, &cred);
    if (cache) krb5_cc_destroy(ctx, cache);
    cache = fresh;
    // Credentials for every mechanism from this cache (SPNEGO among them,
    // which negotiates Kerberos from it): no process-wide KRB5CCNAME.
    char* cache_name = nullptr;
    if ((code = krb5_cc_get_full_name(ctx, cache, &cache_name)))
      return explain(code, {}, library_text(code));
    gss_key_value_element_desc element{"ccache", cache_name};
    gss_key_value_set_desc store{1, &element};
    auto major = gss_acquire_cred_from(&minor, GSS_C_NO_NAME, GSS_C_INDEFINITE, GSS_C_NO_OID_SET,
                                       GSS_C_INITIATE, &store, &cred, nullptr, nullptr);
    krb5_free_string(ctx, cache_name);
    if (GSS_ERROR(major))
      return explain(static_cast<krb5_error_code>(minor), {}, "the ticket cannot be used");
    return std::nullopt;
  }

  std::optional<failure> get_service_ticket(const std::string& service) {
    krb5_principal server = nullptr;
    if (auto code = krb5_parse_name(ctx, service.c_str(), &server))
      return explain(code, service, library_text(code));
    krb5_creds wanted{};
    wanted.client = client;
    wanted.server = server;
    krb5_creds* got = nullptr;
    auto code = krb5_get_credentials(ctx, 0, cache, &wanted, &got);
    // A ticket-granting ticket the KDC holds expired (its clock ahead of
    // ours): a fresh one, once.
    if (code == KRB5KRB_AP_ERR_TKT_EXPIRED && !get_ticket()) {
      code = krb5_get_credentials(ctx, 0, cache, &wanted, &got);
    }
    krb5_free_principal(ctx, server);
    if (got) krb5_free_creds(ctx, got);
    if (code) return explain(code, service, library_text(code));
    return std::nullopt;
  }

  bool ticket_fresh() {
    if (!cache) return false;
    krb5_timestamp now = 0;
    krb5_timeofday(ctx, &now);
    auto life = static_cast<std::int64_t>(end) - start;
    // A quarter of its life left (2.5 h of a 10 h ticket), at least 5 s:
    // every request in between has a ticket that outlives it.
    return static_cast<std::int64_t>(end) - now > std::max<std::int64_t>(5, life / 4);
  }
};

negotiate_client::negotiate_client(std::string_view principal, std::string_view keytab)
    : impl_(std::make_unique<impl>()) {
  std::vector<keytab_entry> entries;
  try {
    entries = parse_keytab(keytab);
  } catch (const keytab_error& e) {
    throw std::invalid_argument(e.what());
  }
  std::vector<keytab_entry*> mine;
  for (auto& e : entries)
    if (same_principal(e, principal)) mine.push_back(&e);
  if (mine.empty())
    throw std::invalid_argument(fmt::format("the keytab holds no key for {}", principal));
  auto& d = *impl_;
  d.principal = mine.front()->principal();
  d.realm = mine.front()->realm;
  if (auto code = krb5_init_context(&d.ctx))
    throw std::runtime_error(fmt::format("the Kerberos library cannot start (error {})", code));
  if (auto code = krb5_parse_name(d.ctx, d.principal.c_str(), &d.client))
    throw std::invalid_argument(
        fmt::format("{} is not a principal name: {}", d.principal, d.library_text(code)));
  // A MEMORY: keytab of its own (the name is per process): the keys never
  // touch a disk.
  static std::atomic<unsigned> made{0};
  auto name = fmt::format("MEMORY:cbcs-keytab-{}", ++made);
  if (auto code = krb5_kt_resolve(d.ctx, name.c_str(), &d.keytab))
    throw std::runtime_error("a memory keytab cannot be made: " + d.library_text(code));
  for (auto* e : mine) {
    krb5_keytab_entry k{};
    k.principal = d.client;
    k.vno = e->kvno;
    k.timestamp = static_cast<krb5_timestamp>(e->timestamp);
    k.key.enctype = e->enctype;
    k.key.length = static_cast<unsigned int>(e->key.size());
    k.key.contents = reinterpret_cast<krb5_octet*>(e->key.data());
    auto code = krb5_kt_add_entry(d.ctx, d.keytab, &k);
    if (code) throw std::runtime_error("a key cannot be loaded: " + d.library_text(code));
  }
  for (auto& e : entries) OPENSSL_cleanse(e.key.data(), e.key.size());
}

negotiate_client::~negotiate_client() = default;

const std::string& negotiate_client::principal() const { return impl_->principal; }

std::variant<std::string, negotiate_client::failure> negotiate_client::token_for(
    std::string_view host) {
  auto& d = *impl_;
  if (!d.ticket_fresh())
    if (auto failed = d.get_ticket()) return *failed;
  // IPv6 literals come in brackets from the URL.
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  // The service principal of CES under IIS: HTTP/<host>, in the realm of
  // the principal (a Kerberos principal name, not a host-based service
  // name: no DNS canonicalization of the host).
  auto service = fmt::format("HTTP/{}@{}", host, d.realm);
  // The service ticket first, through krb5 itself: its failures (an
  // unknown service principal, the KDC out of reach) keep their codes,
  // which GSS-API's mechanism glue would replace with its own. GSS-API
  // then finds it in the cache.
  if (auto failed = d.get_service_ticket(service)) return *failed;
  OM_uint32 minor = 0;
  gss_buffer_desc name_buffer{service.size(), service.data()};
  gss_name_t target = GSS_C_NO_NAME;
  if (gss_import_name(&minor, &name_buffer, GSS_KRB5_NT_PRINCIPAL_NAME, &target) != GSS_S_COMPLETE)
    return failure{
        true, fmt::format("Kerberos for {}: {} is not a principal name", d.principal, service)};
  gss_ctx_id_t context = GSS_C_NO_CONTEXT;
  gss_buffer_desc out{0, nullptr};
  auto major = gss_init_sec_context(&minor, d.cred, &context, target, &spnego_oid, 0, 0,
                                    GSS_C_NO_CHANNEL_BINDINGS, GSS_C_NO_BUFFER, nullptr, &out,
                                    nullptr, nullptr);
  OM_uint32 ignored = 0;
  gss_release_name(&ignored, &target);
  // One leg is enough for the server: SPNEGO waits for a reply this client
  // does not need (no mutual authentication is asked for).
  if (context != GSS_C_NO_CONTEXT) gss_delete_sec_context(&ignored, &context, GSS_C_NO_BUFFER);
  if (GSS_ERROR(major) || out.length == 0) {
    if (out.value) gss_release_buffer(&ignored, &out);
    auto code = static_cast<krb5_error_code>(minor);
    // The library's words for the mechanism's code.
    std::string detail;
    OM_uint32 more = 0;
    gss_buffer_desc text{0, nullptr};
    gss_display_status(&ignored, minor, GSS_C_MECH_CODE, GSS_C_NO_OID, &more, &text);
    if (text.value)
      detail = one_line(std::string(static_cast<const char*>(text.value), text.length));
    gss_release_buffer(&ignored, &text);
    return d.explain(code, service, detail.empty() ? "GSS-API failure" : detail);
  }
  auto token = base64_encode(byte_view{static_cast<const std::uint8_t*>(out.value), out.length});
  gss_release_buffer(&ignored, &out);
  return token;
}

}  // namespace cbcs::crypto
