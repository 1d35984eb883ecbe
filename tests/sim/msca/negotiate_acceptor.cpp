#include "tests/sim/msca/negotiate_acceptor.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "crypto/base64.hpp"

#ifdef CBCS_KERBEROS
#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#endif

namespace cbcs::sim::msca {

#ifdef CBCS_KERBEROS
namespace {

std::string status_text(OM_uint32 code, int type) {
  std::string out;
  OM_uint32 minor = 0, more = 0;
  do {
    gss_buffer_desc text{0, nullptr};
    if (GSS_ERROR(gss_display_status(&minor, code, type, GSS_C_NO_OID, &more, &text))) break;
    if (!out.empty()) out += "; ";
    out.append(static_cast<const char*>(text.value), text.length);
    gss_release_buffer(&minor, &text);
  } while (more != 0);
  return out;
}

}  // namespace

struct negotiate_acceptor::impl {
  gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
  ~impl() {
    OM_uint32 minor = 0;
    if (cred != GSS_C_NO_CREDENTIAL) gss_release_cred(&minor, &cred);
  }
};

negotiate_acceptor::negotiate_acceptor(std::string keytab) : impl_(std::make_unique<impl>()) {
  gss_key_value_element_desc element{"keytab", keytab.c_str()};
  gss_key_value_set_desc store{1, &element};
  OM_uint32 minor = 0;
  auto major = gss_acquire_cred_from(&minor, GSS_C_NO_NAME, GSS_C_INDEFINITE, GSS_C_NO_OID_SET,
                                     GSS_C_ACCEPT, &store, &impl_->cred, nullptr, nullptr);
  if (GSS_ERROR(major))
    throw std::runtime_error("the service keytab cannot be used: " +
                             status_text(minor, GSS_C_MECH_CODE));
}

negotiate_acceptor::~negotiate_acceptor() = default;

negotiate_acceptor::result negotiate_acceptor::accept(std::string_view token) {
  auto bytes = crypto::base64_decode(token);
  if (!bytes || bytes->empty()) return {.error = "the Negotiate token is not base64"};
  gss_buffer_desc in{bytes->size(), bytes->data()};
  gss_ctx_id_t context = GSS_C_NO_CONTEXT;
  gss_name_t client = GSS_C_NO_NAME;
  gss_buffer_desc out{0, nullptr};
  OM_uint32 minor = 0, ignored = 0;
  auto major = gss_accept_sec_context(&minor, &context, impl_->cred, &in, GSS_C_NO_CHANNEL_BINDINGS,
                                      &client, nullptr, &out, nullptr, nullptr, nullptr);
  result r;
  if (out.length)
    r.reply_token = crypto::base64_encode(
        crypto::byte_view{static_cast<const std::uint8_t*>(out.value), out.length});
  gss_release_buffer(&ignored, &out);
  if (major == GSS_S_COMPLETE) {
    gss_buffer_desc name{0, nullptr};
    if (!GSS_ERROR(gss_display_name(&ignored, client, &name, nullptr)))
      r.principal.assign(static_cast<const char*>(name.value), name.length);
    gss_release_buffer(&ignored, &name);
  } else if (major == GSS_S_CONTINUE_NEEDED) {
    r.error = "the context needs another leg, which this simulator does not take";
  } else {
    r.error = status_text(major, GSS_C_GSS_CODE) + ": " + status_text(minor, GSS_C_MECH_CODE);
  }
  if (client != GSS_C_NO_NAME) gss_release_name(&ignored, &client);
  if (context != GSS_C_NO_CONTEXT) gss_delete_sec_context(&ignored, &context, GSS_C_NO_BUFFER);
  return r;
}
#else
struct negotiate_acceptor::impl {};
negotiate_acceptor::negotiate_acceptor(std::string) {
  throw std::runtime_error("Kerberos is not built in this cbcs-sim (libkrb5-dev)");
}
negotiate_acceptor::~negotiate_acceptor() = default;
negotiate_acceptor::result negotiate_acceptor::accept(std::string_view) { return {}; }
#endif

}  // namespace cbcs::sim::msca
