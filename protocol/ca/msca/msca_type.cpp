#include "protocol/ca/msca/msca_type.hpp"

#include <algorithm>
#include <cctype>

#include "crypto/keytab.hpp"
#include "protocol/ca/common/option_checks.hpp"
#include "protocol/ca/msca/dcom_transport.hpp"
#include "protocol/ca/msca/msca_backend.hpp"
#include "protocol/ca/msca/msca_driver.hpp"

namespace cbcs::protocol::ca::msca {
namespace {

std::string check_ca_name(std::string_view v) {
  if (v.empty() || v.size() > 256) return "must be 1 to 256 characters";
  // The CA name is joined to the server as "HOST\CA Name": no backslash in it.
  bool ok = std::all_of(v.begin(), v.end(),
                        [](unsigned char c) { return c >= 0x20 && c != 0x7f && c != '\\'; });
  return ok ? std::string{} : "must hold no control characters and no backslash";
}

std::string check_host_name(std::string_view v) {
  if (v.empty() || v.size() > 253) return "must be a host name of 1 to 253 characters";
  bool ok = std::all_of(v.begin(), v.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.' || c == ':' || c == '[' || c == ']';
  });
  return ok ? std::string{} : "must be a host name or IP address";
}

std::string check_transport(std::string_view v) {
  return v == "ces" || v == "dcom" ? "" : "must be ces or dcom";
}
std::string check_auth(std::string_view v) {
  return v == "certificate" || v == "username" || v == "kerberos" || v == "agent"
             ? ""
             : "must be certificate, username, agent or kerberos";
}

// "DOMAIN\user" or "user@domain": one line of printable text.
std::string check_account(std::string_view v) {
  if (v.empty() || v.size() > 256) return "must be 1 to 256 characters";
  bool ok = std::all_of(v.begin(), v.end(), [](unsigned char c) { return c >= 0x20 && c != 0x7f; });
  if (!ok) return "must be one line of printable text";
  return v.find('\\') != std::string_view::npos || v.find('@') != std::string_view::npos
             ? ""
             : "must be DOMAIN\\user or user@domain";
}

// AD passwords may hold spaces and any Unicode; not control characters.
std::string check_password(std::string_view v) {
  if (v.empty() || v.size() > 256) return "must be 1 to 256 characters";
  bool ok = std::all_of(v.begin(), v.end(), [](unsigned char c) { return c >= 0x20 && c != 0x7f; });
  return ok ? "" : "must hold no control characters";
}

// A template's common name (no spaces in AD's cn), as CEP lists it.
std::string check_template(std::string_view v) {
  if (v.empty() || v.size() > 64) return "must be 1 to 64 characters";
  bool ok = std::all_of(v.begin(), v.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
  });
  return ok ? "" : "must be a template's name (letters, digits, '-', '_', '.'), not its display name";
}

// A Kerberos principal: "name", "name@REALM" or "service/host@REALM".
std::string check_principal(std::string_view v) {
  if (v.empty() || v.size() > 256) return "must be 1 to 256 characters";
  bool ok = std::all_of(v.begin(), v.end(), [](unsigned char c) { return c > 0x20 && c != 0x7f; });
  if (!ok) return "must be a principal name without spaces, e.g. svc-cbcs@CORP.EXAMPLE";
  return v.front() == '@' || v.back() == '@' ? "must be name@REALM" : "";
}

// The file read and checked before it is sealed; the error names no key.
std::string check_keytab(std::string_view content) {
  try {
    crypto::parse_keytab(content);
    return {};
  } catch (const crypto::keytab_error& e) {
    return e.what();
  }
}

// The keytab holds a key for -principal (checked once both are read).
std::string check_keytab_principal(const option_values& values) {
  auto keytab = values.find("keytab");
  auto principal = values.find("principal");
  if (keytab == values.end() || principal == values.end()) return {};
  try {
    for (const auto& e : crypto::parse_keytab(keytab->second))
      if (crypto::same_principal(e, principal->second)) return {};
  } catch (const crypto::keytab_error&) {
    return {};  // said by the file's own check
  }
  return "the keytab (-keytab) holds no key for principal " + principal->second +
         ": export one for it (ktutil, ktpass) or give the principal the keytab is for";
}

std::string auth_of(const option_values& values) {
  auto it = values.find("auth");
  return it == values.end() ? "kerberos" : it->second;
}

// What each -auth needs, and what it refuses ([REF §5]: CES and CEP are
// published once per authentication: _CES_Certificate, _CES_UsernamePassword,
// _CES_Kerberos). DCOM runs as the service's own identity: no -auth.
std::string check_combination(const option_values& values) {
  auto given = [&](std::string_view name) { return values.find(name) != values.end(); };
  auto transport = values.find("transport");
  bool dcom = transport != values.end() ? transport->second == "dcom" : default_transport == "dcom";
  if (dcom) {
#ifndef _WIN32
    return "-transport dcom runs on Windows only: use -transport ces (the default) here";
#endif
    for (std::string_view key : ces_only_options)
      if (given(key))
        return "option -" + std::string(key) + " does not go with -transport dcom (" +
               (transport == values.end() ? "the default on Windows; give -transport ces for CES"
                                          : "it runs as the service's own identity") +
               ")";
    return {};
  }
  if (given("autoapprove"))
    return "option -autoapprove needs -transport dcom (CES cannot approve a request)";
  auto auth = auth_of(values);
  // -auth kerberos (the default): the account's keytab and principal, both
  // or neither (the seed's line gives neither; the backend then says what
  // it lacks).
  if (auth == "kerberos") {
    if (given("keytab") != given("principal"))
      return given("keytab") ? "missing required option -principal (the account of -keytab)"
                             : "missing required option -keytab (the keys of -principal)";
  } else {
    for (std::string_view key : {"keytab", "principal"})
      if (given(key)) return "option -" + std::string(key) + " needs -auth kerberos";
  }
  // The agent certificate itself as the client certificate; until it
  // exists, -cert and -key (a bootstrap certificate) enroll it. Credentials
  // of an -auth used before may stay sealed (backend set cannot unset
  // them); they are not used.
  if (auth == "agent") {
    if (!given(agent_cert_option) && !(given("cert") && given("key")))
      return "-auth agent presents the enrollment agent certificate, which this backend does "
             "not have yet: give -cert and -key to enroll it with (cbcs backend msca "
             "enroll-agent-cert)";
    return {};
  }
  if (auth == "username") {
    for (std::string_view key : {"username", "password"})
      if (!given(key)) return "missing required option -" + std::string(key) + " (with -auth username)";
  } else {
    for (std::string_view key : {"username", "password"})
      if (given(key)) return "option -" + std::string(key) + " needs -auth username";
  }
  if (auth == "certificate") {
    for (std::string_view key : {"cert", "key"})
      if (!given(key))
        return "missing required option -" + std::string(key) +
               " (with -auth certificate; or -pkcs12 FILE for both)";
  } else {
    for (std::string_view key : {"cert", "key"})
      if (given(key)) return "option -" + std::string(key) + " needs -auth certificate";
  }
  return {};
}

}  // namespace

const backend_type& type() {
  static const backend_type t{
      .name = "msca",
      .title = "Microsoft AD CS",
      .options = {
          {.name = "server",
           .required = true,
           .value_name = "HOST",
           .help = "host name of the CA server",
           .check = check_host_name},
          {.name = "ca",
           .required = true,
           .value_name = "NAME",
           .help = "the CA's common name, as in the config string HOST\\CA Name",
           .check = check_ca_name},
          {.name = "transport",
           .value_name = "ces|dcom",
           .help = "ces (the enrollment web services over HTTPS, from any OS; the default off "
                   "Windows) or dcom (Windows only, and its default there: ICertRequest and "
                   "ICertAdmin as the service's own identity)",
           .check = check_transport},
          {.name = "ces",
           .value_name = "URL",
           .help = "the enrollment web service (default "
                   "https://SERVER/CA_CES_<Auth>/service.svc/CES for -auth)",
           .check = check_https_url},
          {.name = "cep",
           .value_name = "URL",
           .help = "the enrollment policy web service (default "
                   "https://SERVER/ADPolicyProvider_CEP_<Auth>/service.svc/CEP)",
           .check = check_https_url},
          {.name = "auth",
           .value_name = "certificate|username|agent|kerberos",
           .help = "how CES and CEP know the connector: a client certificate (-cert, -key), "
                   "a user name and password (-username, -password), the enrollment agent "
                   "certificate itself (agent: once enrolled, if its template adds Client "
                   "Authentication), or kerberos (the default: an account's keys, -keytab and "
                   "-principal; Negotiate to the service principal HTTP/<host of -ces>)",
           .check = check_auth},
          client_certificate_option("-auth certificate: the client certificate, "
                                    CBCS_CLIENT_CERTIFICATE_FORMS),
          client_key_option("its private key: " CBCS_CLIENT_KEY_FORMS),
          {.name = "username",
           .value_name = "DOMAIN\\USER",
           .help = "-auth username: the account CES and CEP know",
           .check = check_account},
          {.name = "password",
           .kind = option_kind::secret,
           .value_name = "-",
           .help = "-auth username: its password ('-' reads it from standard input; sealed)",
           .check = check_password},
          {.name = "keytab",
           .kind = option_kind::secret_file,
           .value_name = "FILE",
           .help = "-auth kerberos: the keytab of -principal (read, checked and sealed; the file "
                   "may be deleted afterwards)",
           .check = check_keytab,
           .summary = crypto::summarize_keytab},
          {.name = "principal",
           .value_name = "NAME@REALM",
           .help = "-auth kerberos: the account whose keys -keytab holds (a computer's "
                   "HOST$@REALM or a service account)",
           .check = check_principal},
          {.name = "template",
           .value_name = "NAME",
           .help = "the template for jobs whose profile names none, by its name (not its "
                   "display name), e.g. WebServer",
           .check = check_template},
          {.name = "requester",
           .value_name = "DOMAIN\\USER",
           .help = "the requester named in requests on behalf when a job names none",
           .check = check_account},
          {.name = "autoapprove",
           .value_name = "true|false",
           .help = "-transport dcom: issue our own requests the CA takes under submission "
                   "(ICertAdmin2::ResubmitRequest), which needs Issue and Manage Certificates "
                   "for the machine (default false)",
           .check = check_flag},
          // Made by `cbcs backend msca enroll-agent-cert`: the agent's key
          // (generated on this machine) and the certificate the CA issued.
          {.name = agent_key_option,
           .kind = option_kind::secret,
           .help = "the enrollment agent's private key",
           .summary = summarize_private_key,
           .generated = true},
          {.name = agent_cert_option,
           .kind = option_kind::secret,
           .help = "the enrollment agent's certificate",
           .summary = summarize_certificates,
           .generated = true},
      },
      .check_combination = check_combination,
      .check_all =
          [](const option_values& v) {
            auto problem = check_key_pair(v, "cert", "key");
            return problem.empty() ? check_keytab_principal(v) : problem;
          },
      .make_driver = make_driver,
      .generated_by = "cbcs backend msca enroll-agent-cert",
      .policy = {.client_identity = {.certificate = "cert", .key = "key"},
                 .watched = {.option = agent_cert_option,
                             .what = "the enrollment agent certificate",
                             .renew_command = "cbcs backend msca enroll-agent-cert -name {}",
                             .kind = "agent"},
                 .make_transport = make_msca_transport}};
  return t;
}

}  // namespace cbcs::protocol::ca::msca
