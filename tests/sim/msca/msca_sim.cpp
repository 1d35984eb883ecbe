#include "tests/sim/msca/msca_sim.hpp"

#include <fmt/format.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <pugixml.hpp>

#include <algorithm>
#include <chrono>

#include "crypto/base64.hpp"
#include "crypto/certificate_authority.hpp"
#include "crypto/pem.hpp"
#include "tests/sim/common/json_out.hpp"
#include "tests/sim/common/sim_pki.hpp"

namespace cbcs::sim::msca {
namespace {

constexpr std::string_view soap12 = "http://www.w3.org/2003/05/soap-envelope";
constexpr std::string_view wsa = "http://www.w3.org/2005/08/addressing";
constexpr std::string_view wst = "http://docs.oasis-open.org/ws-sx/ws-trust/200512";
constexpr std::string_view secext =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
constexpr std::string_view enrollment_ns = "http://schemas.microsoft.com/windows/pki/2009/01/enrollment";
constexpr std::string_view policy_ns =
    "http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy";
// [WSTEP] 3.1.4.2: the action of a request, and of its answer.
constexpr std::string_view rst_action =
    "http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RST/wstep";
constexpr std::string_view rstrc_action =
    "http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RSTRC/wstep";
constexpr std::string_view issue_type = "http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue";
constexpr std::string_view query_type =
    "http://schemas.microsoft.com/windows/pki/2009/01/enrollment/QueryTokenStatus";
constexpr std::string_view get_policies_action =
    "http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy/IPolicy/GetPolicies";
constexpr std::string_view x509v3_type =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3";
constexpr std::string_view pkcs7_type =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#PKCS7";
constexpr std::string_view base64_encoding =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd#base64binary";
constexpr const char* agent_eku = "1.3.6.1.4.1.311.20.2.1";  // Certificate Request Agent
constexpr const char* name_value_pair = "1.3.6.1.4.1.311.13.2.1";
constexpr const char* cmc_pki_response = "1.3.6.1.5.5.7.12.3";  // id-cct-PKIResponse
constexpr const char* cmc_status_info = "1.3.6.1.5.5.7.7.1";    // id-cmc-statusInfo

// CERTSRV_E_* (winerror.h).
constexpr std::uint32_t unsupported_cert_type = 0x80094800;
constexpr std::uint32_t template_denied = 0x80094012;
constexpr std::uint32_t admin_denied = 0x80094014;
constexpr std::uint32_t signature_policy_required = 0x80094809;
constexpr std::uint32_t signature_rejected = 0x8009480B;
constexpr std::uint32_t no_request = 0x80094002;
constexpr std::uint32_t bad_request = 0x80070057;  // E_INVALIDARG

using cms_ptr =
    std::unique_ptr<CMS_ContentInfo, crypto::openssl_deleter<CMS_ContentInfo, CMS_ContentInfo_free>>;
using store_ptr = std::unique_ptr<X509_STORE, crypto::openssl_deleter<X509_STORE, X509_STORE_free>>;

std::string_view local_name(const char* qname) {
  std::string_view n(qname);
  auto colon = n.find(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

// The namespace URI of a node's prefix, looked up through its ancestors.
std::string namespace_of(pugi::xml_node node) {
  std::string_view n(node.name());
  auto colon = n.find(':');
  std::string attr = colon == std::string_view::npos
                         ? "xmlns"
                         : "xmlns:" + std::string(n.substr(0, colon));
  for (auto p = node; p; p = p.parent())
    if (auto a = p.attribute(attr.c_str())) return a.value();
  return {};
}

// The first child with this namespace and local name.
pugi::xml_node child(pugi::xml_node parent, std::string_view ns, std::string_view name) {
  for (auto c : parent.children())
    if (c.type() == pugi::node_element && local_name(c.name()) == name && namespace_of(c) == ns)
      return c;
  return {};
}

std::string text_of(pugi::xml_node node) { return node ? node.child_value() : ""; }

std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// AD CS wraps its base64 in lines ending "&#xD;" [REF §5; CEPCES strips it].
std::string wrapped_base64(std::string_view der) {
  auto b64 = crypto::base64_encode(
      crypto::byte_view(reinterpret_cast<const std::uint8_t*>(der.data()), der.size()));
  std::string out;
  for (std::size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "&#xD;\n";
  return out;
}

std::optional<std::string> unbase64(std::string_view text) {
  std::string clean;
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c))) clean += c;
  auto bytes = crypto::base64_decode(clean);
  if (!bytes) return std::nullopt;
  return std::string(bytes->begin(), bytes->end());
}

sim_response soap(int status, std::string body) {
  return {status, std::move(body), "application/soap+xml; charset=utf-8", {}};
}

std::string envelope_text(std::string_view action, const std::string& relates_to,
                          const std::string& body) {
  return fmt::format(
      "<s:Envelope xmlns:s=\"{}\" xmlns:a=\"{}\"><s:Header><a:Action "
      "s:mustUnderstand=\"1\">{}</a:Action>{}</s:Header><s:Body>{}</s:Body></s:Envelope>",
      soap12, wsa, action,
      relates_to.empty() ? "" : "<a:RelatesTo>" + escape(relates_to) + "</a:RelatesTo>", body);
}

// --- DER, for the CMC answer and the name-value pairs

std::string tlv(unsigned char tag, const std::string& content) {
  std::string out(1, static_cast<char>(tag));
  auto n = content.size();
  if (n < 0x80) {
    out += static_cast<char>(n);
  } else if (n < 0x100) {
    out += '\x81';
    out += static_cast<char>(n);
  } else {
    out += '\x82';
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xff);
  }
  return out + content;
}

std::string der_integer(std::uint32_t v) {
  std::string bytes;
  do {
    bytes.insert(bytes.begin(), static_cast<char>(v & 0xff));
    v >>= 8;
  } while (v);
  if (static_cast<unsigned char>(bytes[0]) & 0x80) bytes.insert(bytes.begin(), '\0');
  return tlv(0x02, bytes);
}

std::string der_oid(const char* dotted) {
  std::unique_ptr<ASN1_OBJECT, crypto::openssl_deleter<ASN1_OBJECT, ASN1_OBJECT_free>> o{
      OBJ_txt2obj(dotted, 1)};
  unsigned char* p = nullptr;
  int n = i2d_ASN1_OBJECT(o.get(), &p);
  std::string out(reinterpret_cast<char*>(p), static_cast<std::size_t>(n));
  OPENSSL_free(p);
  return out;
}

// One TLV at `at`: its tag and content; false when it runs past the end.
bool read_tlv(std::string_view der, std::size_t& at, unsigned char& tag, std::string_view& content) {
  if (at + 2 > der.size()) return false;
  tag = static_cast<unsigned char>(der[at]);
  std::size_t len = static_cast<unsigned char>(der[at + 1]);
  std::size_t head = 2;
  if (len & 0x80) {
    std::size_t bytes = len & 0x7f;
    if (bytes == 0 || bytes > 2 || at + 2 + bytes > der.size()) return false;
    len = 0;
    for (std::size_t i = 0; i < bytes; ++i)
      len = (len << 8) | static_cast<unsigned char>(der[at + 2 + i]);
    head += bytes;
  }
  if (at + head + len > der.size()) return false;
  content = der.substr(at + head, len);
  at += head + len;
  return true;
}

std::string from_bmp(std::string_view bmp) {
  std::string out;
  for (std::size_t i = 0; i + 1 < bmp.size(); i += 2) {
    unsigned c = (static_cast<unsigned char>(bmp[i]) << 8) | static_cast<unsigned char>(bmp[i + 1]);
    out += c < 0x80 ? static_cast<char>(c) : '?';
  }
  return out;
}

// The name-value pairs signed into a request [WCCE 2.2.2.7.10: SEQUENCE of
// two BMPStrings], as name -> value.
std::map<std::string, std::string> name_value_pairs(CMS_ContentInfo* cms) {
  std::map<std::string, std::string> out;
  auto* infos = CMS_get0_SignerInfos(cms);
  std::unique_ptr<ASN1_OBJECT, crypto::openssl_deleter<ASN1_OBJECT, ASN1_OBJECT_free>> oid{
      OBJ_txt2obj(name_value_pair, 1)};
  for (int i = 0; infos && i < sk_CMS_SignerInfo_num(infos); ++i) {
    auto* si = sk_CMS_SignerInfo_value(infos, i);
    for (int at = -1; (at = CMS_signed_get_attr_by_OBJ(si, oid.get(), at)) >= 0;) {
      auto* attr = CMS_signed_get_attr(si, at);
      for (int v = 0; v < X509_ATTRIBUTE_count(attr); ++v) {
        auto* type = X509_ATTRIBUTE_get0_type(attr, v);
        if (!type || type->type != V_ASN1_SEQUENCE) continue;
        std::string_view seq(reinterpret_cast<const char*>(type->value.sequence->data),
                             static_cast<std::size_t>(type->value.sequence->length));
        std::size_t pos = 0;
        unsigned char tag = 0;
        std::string_view outer, name, value;
        if (!read_tlv(seq, pos, tag, outer) || tag != 0x30) continue;
        std::size_t inner = 0;
        unsigned char t1 = 0, t2 = 0;
        if (read_tlv(outer, inner, t1, name) && read_tlv(outer, inner, t2, value) && t1 == 0x1e &&
            t2 == 0x1e)
          out[from_bmp(name)] = from_bmp(value);
      }
    }
  }
  return out;
}

bool has_eku(X509* cert, const char* oid) {
  std::unique_ptr<EXTENDED_KEY_USAGE, crypto::openssl_deleter<EXTENDED_KEY_USAGE, EXTENDED_KEY_USAGE_free>>
      eku{static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(cert, NID_ext_key_usage, nullptr, nullptr))};
  if (!eku) return false;
  char buf[128];
  for (int i = 0; i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
    OBJ_obj2txt(buf, sizeof buf, sk_ASN1_OBJECT_value(eku.get(), i), 1);
    if (std::string_view(buf) == oid) return true;
  }
  return false;
}

}  // namespace

struct msca_sim::envelope {
  pugi::xml_document doc;
  pugi::xml_node header, body;
  std::string action, message_id;
  std::string problem;  // "" when the envelope reads
  std::string caller;   // --auth kerberos: the client's principal
};

msca_sim::msca_sim(std::string ca_name, std::string auth, std::string username,
                   std::string password, std::string machine_name, std::string keytab)
    : ca_name_(std::move(ca_name)),
      auth_(std::move(auth)),
      username_(std::move(username)),
      password_(std::move(password)),
      machine_name_(std::move(machine_name)) {
  auto root = crypto::create_root_ca("ecdsa-p256", ca_name_, std::chrono::system_clock::now() -
                                                                 std::chrono::hours(1),
                                     std::chrono::hours(24 * 3650));
  ca_pem_ = root.cert_pem;
  ca_cert_ = std::move(crypto::parse_certificates(root.cert_pem).front());
  ca_key_ = crypto::parse_private_key(root.key_pem);
  if (auth_ == "kerberos") acceptor_ = std::make_unique<negotiate_acceptor>(std::move(keytab));
  reset();
}

msca_sim::~msca_sim() = default;

void msca_sim::reset() {
  // OIDs in the form AD gives templates (1.3.6.1.4.1.311.21.8.<forest>.<n>).
  templates_ = {
      {.name = "MachineEnrollmentAgent", .oid = "1.3.6.1.4.1.311.21.8.7.1", .agent = true},
      {.name = "EnrollmentAgentClientAuth",
       .oid = "1.3.6.1.4.1.311.21.8.7.6",
       .agent = true,
       .client_auth = true},
      {.name = "WebServer", .oid = "1.3.6.1.4.1.311.21.8.7.2", .ra_signatures = 1},
      {.name = "WebServerApproval",
       .oid = "1.3.6.1.4.1.311.21.8.7.3",
       .ra_signatures = 1,
       .mode = template_mode::pending},
      {.name = "WebServerDenied",
       .oid = "1.3.6.1.4.1.311.21.8.7.4",
       .ra_signatures = 1,
       .mode = template_mode::deny},
      {.name = "PlainWebServer", .oid = "1.3.6.1.4.1.311.21.8.7.5"},
  };
  requests_.clear();
  counters_.clear();
  // Request ids are sequential per CA and not reset by a restart of the
  // service [REF §5]; a reset keeps them growing too.
}

std::string msca_sim::auth_word() const {
  if (auth_ == "certificate") return "Certificate";
  return auth_ == "kerberos" ? "Kerberos" : "UsernamePassword";
}

// RFC 4559 4.1: "If the server receives a request for an access-protected
// object, and if an acceptable Authorization header has not been sent, the
// server responds with a "401 Unauthorized" status code, and a
// "WWW-Authenticate:" header". "The initial WWW-Authenticate header will not
// carry any gssapi-data." The client's principal is the caller.
std::optional<sim_response> msca_sim::negotiate(sim_request& r, envelope& e) {
  auto header = r.header("Authorization");
  constexpr std::string_view scheme = "Negotiate ";
  auto challenge = [](std::string why) {
    return sim_response{401,
                        "<html><body>401 Unauthorized: " + why + "</body></html>",
                        "text/html",
                        {{"WWW-Authenticate", "Negotiate"}}};
  };
  if (header.size() <= scheme.size() || !iequal(header.substr(0, scheme.size()), scheme)) {
    ++counters_["auth_challenged"];
    return challenge("no Negotiate credentials");
  }
  auto got = acceptor_->accept(std::string_view(header).substr(scheme.size()));
  if (got.principal.empty()) {
    ++counters_["auth_refused"];
    return challenge(got.error);
  }
  ++counters_["auth_accepted"];
  e.caller = got.principal;
  reply_token_ = got.reply_token;
  return std::nullopt;
}

// The acceptor's last leg, when it made one, in a WWW-Authenticate header of
// the answer (RFC 4559's mutual authentication; IIS sends it on the 200).
sim_response msca_sim::with_reply(sim_response response) {
  if (!reply_token_.empty())
    response.headers.emplace_back("WWW-Authenticate", "Negotiate " + reply_token_);
  reply_token_.clear();
  return response;
}

std::string msca_sim::ces_path() const {
  std::string encoded;
  for (unsigned char c : ca_name_)
    encoded += std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~'
                   ? std::string(1, static_cast<char>(c))
                   : fmt::format("%{:02X}", c);
  return "/" + encoded + "_CES_" + auth_word() + "/service.svc/CES";
}

std::string msca_sim::cep_path() const {
  return "/ADPolicyProvider_CEP_" + auth_word() + "/service.svc/CEP";
}

const sim_template* msca_sim::find_template(const std::string& name) const {
  for (const auto& t : templates_)
    if (t.name == name || t.oid == name) return &t;
  return nullptr;
}

bool msca_sim::authenticated(const envelope& e) const {
  if (auth_ != "username") return true;  // the TLS layer checked the client certificate
  // WS-Security UsernameToken, PasswordText [REF §5].
  auto security = child(e.header, secext, "Security");
  auto token = child(security, secext, "UsernameToken");
  return text_of(child(token, secext, "Username")) == username_ &&
         text_of(child(token, secext, "Password")) == password_;
}

sim_response msca_sim::fault(std::uint32_t hresult, const std::string& reason,
                             std::uint32_t request_id, const std::string& relates_to, bool sender) {
  ++counters_["faults"];
  // [WSTEP] 3.1.4.1.3.x: a SOAP fault whose detail is a
  // CertificateEnrollmentWSDetail (ErrorCode: the HRESULT as a signed int).
  auto detail = fmt::format(
      "<s:Detail><CertificateEnrollmentWSDetail xmlns=\"{}\" "
      "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><BinaryResponse "
      "xsi:nil=\"true\"/><ErrorCode>{}</ErrorCode><InvalidRequest>{}</InvalidRequest>{}</"
      "CertificateEnrollmentWSDetail></s:Detail>",
      enrollment_ns, static_cast<std::int32_t>(hresult), sender ? "true" : "false",
      request_id ? fmt::format("<RequestID>{}</RequestID>", request_id)
                 : "<RequestID xsi:nil=\"true\"/>");
  // WCF's subcodes: a security failure is wsse:InvalidSecurity, an unknown
  // action wsa:ActionNotSupported (WS-Security 1.0 §12, WS-Addressing
  // SOAP binding §6.4.1.3); a CA refusal has none here.
  std::string subcode;
  if (reason.find("(InvalidSecurity)") != std::string::npos)
    subcode = fmt::format("<s:Subcode><s:Value xmlns:a=\"{}\">a:InvalidSecurity</s:Value></s:Subcode>",
                          secext);
  else if (reason.find("(ActionNotSupported)") != std::string::npos)
    subcode = fmt::format(
        "<s:Subcode><s:Value xmlns:a=\"{}\">a:ActionNotSupported</s:Value></s:Subcode>", wsa);
  auto body = fmt::format(
      "<s:Fault><s:Code><s:Value>{}</s:Value>{}</s:Code><s:Reason><s:Text "
      "xml:lang=\"en-US\">{}</s:Text></s:Reason>{}</s:Fault>",
      sender ? "s:Sender" : "s:Receiver", subcode, escape(reason), hresult ? detail : "");
  return soap(500, envelope_text("http://www.w3.org/2005/08/addressing/soap/fault", relates_to, body));
}

std::string msca_sim::issue_certificate(request_record& rec, const sim_template& t, X509_REQ* csr) {
  crypto::x509_ptr cert{X509_new()};
  X509_set_version(cert.get(), 2);
  auto serial = fresh_serial();
  std::unique_ptr<BIGNUM, crypto::openssl_deleter<BIGNUM, BN_free>> bn{
      BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr)};
  BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()));
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert_.get()));
  // The agent template builds the subject from the machine's DNS name and
  // ignores the CSR's [REF §5].
  if (t.agent) {
    std::unique_ptr<X509_NAME, crypto::openssl_deleter<X509_NAME, X509_NAME_free>> name{
        X509_NAME_new()};
    X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(machine_name_.c_str()), -1,
                               -1, 0);
    X509_set_subject_name(cert.get(), name.get());
  } else {
    X509_set_subject_name(cert.get(), X509_REQ_get_subject_name(csr));
  }
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 60L * 60 * 24 * 365);
  X509_set_pubkey(cert.get(), X509_REQ_get0_pubkey(csr));
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca_cert_.get(), cert.get(), nullptr, nullptr, 0);
  auto add = [&](int nid, const char* value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (ext) {
      X509_add_ext(cert.get(), ext, -1);
      X509_EXTENSION_free(ext);
    }
  };
  add(NID_basic_constraints, "critical,CA:FALSE");
  add(NID_key_usage, "critical,digitalSignature");
  std::string agent_usage = std::string(agent_eku) + (t.client_auth ? ",clientAuth" : "");
  add(NID_ext_key_usage, t.agent ? agent_usage.c_str() : "serverAuth,clientAuth");
  // The request's subjectAltName, as the WebServer template takes it.
  if (!t.agent)
    if (auto* exts = X509_REQ_get_extensions(csr)) {
      for (int i = 0; i < sk_X509_EXTENSION_num(exts); ++i) {
        auto* ext = sk_X509_EXTENSION_value(exts, i);
        if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) == NID_subject_alt_name)
          X509_add_ext(cert.get(), ext, -1);
      }
      sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    }
  X509_sign(cert.get(), ca_key_.get(), EVP_sha256());
  rec.subject = crypto::subject_line(cert.get());
  return crypto::certificate_to_pem(cert.get());
}

// Reads the envelope both services take, as WCF checks it: a body it
// cannot read is 400; SOAP 1.1, another action or bad credentials a fault.
std::optional<sim_response> msca_sim::open(sim_request& r, envelope& e, std::string_view action) {
  // IIS authenticates before the service reads anything.
  if (acceptor_)
    if (auto refused = negotiate(r, e)) return refused;
  auto parsed = e.doc.load_buffer(r.body.data(), r.body.size(),
                                  pugi::parse_default & ~pugi::parse_doctype);
  auto root = e.doc.document_element();
  if (!parsed || !root || local_name(root.name()) != "Envelope") return soap(400, "");
  if (namespace_of(root) != soap12)
    return fault(0, "SOAP 1.2 is required (VersionMismatch)", 0, "", true);
  e.header = child(root, soap12, "Header");
  e.body = child(root, soap12, "Body");
  e.action = text_of(child(e.header, wsa, "Action"));
  e.message_id = text_of(child(e.header, wsa, "MessageID"));
  if (e.action != action)
    return fault(0, "The message with Action '" + e.action + "' cannot be processed (ActionNotSupported)",
                 0, e.message_id, true);
  if (!authenticated(e)) {
    ++counters_["auth_refused"];
    return fault(0, "An error occurred when verifying security for the message (InvalidSecurity)", 0,
                 e.message_id, true);
  }
  return std::nullopt;
}

sim_response msca_sim::ces(sim_request& r) { return with_reply(serve_ces(r)); }
sim_response msca_sim::cep(sim_request& r) { return with_reply(serve_cep(r)); }

sim_response msca_sim::serve_ces(sim_request& r) {
  ++counters_["ces_requests"];
  envelope e;
  if (auto refused = open(r, e, rst_action)) return *refused;
  auto rst = child(e.body, wst, "RequestSecurityToken");
  if (!rst) return fault(bad_request, "no RequestSecurityToken", 0, e.message_id, true);
  auto type = text_of(child(rst, wst, "RequestType"));
  if (type == issue_type) return issue(e);
  if (type == query_type) return query(e);
  return fault(bad_request, "unknown RequestType " + type, 0, e.message_id, true);
}

sim_response msca_sim::issue(const envelope& e) {
  auto rst = child(e.body, wst, "RequestSecurityToken");
  auto token = child(rst, secext, "BinarySecurityToken");
  std::string value_type = token.attribute("ValueType").value();
  auto der = unbase64(text_of(token));
  if (!token || !der) return fault(bad_request, "no request in BinarySecurityToken", 0, e.message_id, true);
  request_record rec;
  rec.id = next_id_++;  // failed and denied requests take an id too [REF §5]
  ++counters_["issue_requests"];
  std::map<std::string, std::string> pairs;
  crypto::x509_req_ptr csr;
  if (value_type.ends_with("#PKCS7")) {
    auto* p = reinterpret_cast<const unsigned char*>(der->data());
    cms_ptr cms{d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(der->size()))};
    if (!cms) {
      rec.state = "failed";
      rec.hresult = bad_request;
      requests_[rec.id] = rec;
      ERR_clear_error();
      return fault(bad_request, "the PKCS#7 request cannot be read", rec.id, e.message_id, true);
    }
    // [WCCE]: the signer chains to a CA this CA trusts and holds the
    // Certificate Request Agent EKU; else CERTSRV_E_SIGNATURE_REJECTED.
    store_ptr store{X509_STORE_new()};
    X509_STORE_add_cert(store.get(), ca_cert_.get());
    // Its EKU is the Certificate Request Agent's, not S/MIME's.
    X509_STORE_set_purpose(store.get(), X509_PURPOSE_ANY);
    std::unique_ptr<BIO, crypto::openssl_deleter<BIO, BIO_free_all>> out{BIO_new(BIO_s_mem())};
    bool verified = CMS_verify(cms.get(), nullptr, store.get(), nullptr, out.get(),
                               CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) == 1;
    bool chained = verified &&
                   CMS_verify(cms.get(), nullptr, store.get(), nullptr, nullptr, CMS_BINARY) == 1;
    ERR_clear_error();
    STACK_OF(X509)* signers = verified ? CMS_get0_signers(cms.get()) : nullptr;
    X509* signer = signers && sk_X509_num(signers) > 0 ? sk_X509_value(signers, 0) : nullptr;
    if (signer) rec.signer = crypto::subject_line(signer);
    if (signers) sk_X509_free(signers);
    char* data = nullptr;
    long len = BIO_get_mem_data(out.get(), &data);
    std::string content(data ? data : "", static_cast<std::size_t>(std::max(len, 0L)));
    auto* q = reinterpret_cast<const unsigned char*>(content.data());
    csr.reset(d2i_X509_REQ(nullptr, &q, static_cast<long>(content.size())));
    pairs = name_value_pairs(cms.get());
    if (!verified || !chained || !signer || !has_eku(signer, agent_eku) || !csr) {
      rec.state = "denied";
      rec.hresult = signature_rejected;
      requests_[rec.id] = rec;
      ++counters_["signature_rejected"];
      return fault(signature_rejected,
                   "The request was signed by a certificate that is not valid for it "
                   "(CERTSRV_E_SIGNATURE_REJECTED)",
                   rec.id, e.message_id);
    }
  } else {
    auto* p = reinterpret_cast<const unsigned char*>(der->data());
    csr.reset(d2i_X509_REQ(nullptr, &p, static_cast<long>(der->size())));
    if (!csr) {
      ERR_clear_error();
      return fault(bad_request, "the PKCS#10 request cannot be read", rec.id, e.message_id, true);
    }
  }
  rec.csr_der = *der;
  rec.requester = pairs.count("requestername") ? pairs["requestername"] : "";
  // Kerberos: the authenticated caller; it is the requester of its own request.
  rec.caller = e.caller;
  if (rec.requester.empty()) rec.requester = e.caller;
  // The template: AdditionalContext's CertificateTemplate, or the
  // CertificateTemplate name-value pair [REF §5: all must agree].
  std::string template_name;
  auto context = child(rst, "http://schemas.xmlsoap.org/ws/2006/12/authorization", "AdditionalContext");
  for (auto item : context.children())
    if (local_name(item.name()) == "ContextItem" &&
        std::string_view(item.attribute("Name").value()) == "CertificateTemplate")
      for (auto v : item.children())
        if (local_name(v.name()) == "Value") template_name = v.child_value();
  if (auto it = pairs.find("CertificateTemplate"); it != pairs.end()) {
    if (!template_name.empty() && template_name != it->second) {
      rec.state = "denied";
      rec.hresult = 0x80094802;  // CERTSRV_E_TEMPLATE_CONFLICT
      requests_[rec.id] = rec;
      return fault(rec.hresult, "The request names conflicting templates", rec.id, e.message_id);
    }
    template_name = it->second;
  }
  rec.template_name = template_name;
  const auto* t = find_template(template_name);
  if (!t) {
    rec.state = "denied";
    rec.hresult = unsupported_cert_type;
    requests_[rec.id] = rec;
    return fault(unsupported_cert_type,
                 "The requested certificate template is not supported by this CA. 0x80094800 "
                 "(-2146875392 CERTSRV_E_UNSUPPORTED_CERT_TYPE)",
                 rec.id, e.message_id);
  }
  if (!t->enroll) {
    rec.state = "denied";
    rec.hresult = template_denied;
    requests_[rec.id] = rec;
    return fault(template_denied,
                 "Denied by Policy Module 0x80094012, The permissions on the certificate template "
                 "do not allow the current user to enroll for this type of certificate.",
                 rec.id, e.message_id);
  }
  if (t->ra_signatures > 0 && rec.signer.empty()) {
    rec.state = "denied";
    rec.hresult = signature_policy_required;
    requests_[rec.id] = rec;
    return fault(signature_policy_required,
                 "Denied by Policy Module 0x80094809, The request must be signed by an "
                 "enrollment agent (CERTSRV_E_SIGNATURE_POLICY_REQUIRED)",
                 rec.id, e.message_id);
  }
  switch (t->mode) {
    case template_mode::deny:
      rec.state = "denied";
      rec.hresult = template_denied;
      requests_[rec.id] = rec;
      return fault(template_denied,
                   "Denied by Policy Module 0x80094012, The permissions on the certificate "
                   "template do not allow the current user to enroll for this type of certificate.",
                   rec.id, e.message_id);
    case template_mode::pending:
      rec.state = "pending";
      requests_[rec.id] = rec;
      ++counters_["pending"];
      return answer(requests_[rec.id], e.message_id);
    case template_mode::issue:
      break;
  }
  rec.cert_pem = issue_certificate(rec, *t, csr.get());
  rec.state = "issued";
  requests_[rec.id] = rec;
  ++counters_["issued"];
  return answer(requests_[rec.id], e.message_id);
}

sim_response msca_sim::query(const envelope& e) {
  auto rst = child(e.body, wst, "RequestSecurityToken");
  auto id_text = text_of(child(rst, enrollment_ns, "RequestID"));
  ++counters_["queries"];
  std::uint32_t id = 0;
  try {
    id = static_cast<std::uint32_t>(std::stoul(id_text));
  } catch (const std::exception&) {
    return fault(bad_request, "QueryTokenStatus needs a RequestID", 0, e.message_id, true);
  }
  auto it = requests_.find(id);
  if (it == requests_.end())
    return fault(no_request, "The request does not exist. 0x80094002 (CERTSRV_E_NO_REQUEST)", id,
                 e.message_id);
  auto& rec = it->second;
  if (rec.state == "denied" || rec.state == "failed")
    return fault(rec.hresult ? rec.hresult : admin_denied,
                 "The request was denied by a certificate manager or CA administrator. "
                 "0x80094014 (CERTSRV_E_ADMIN_DENIED_REQUEST)",
                 id, e.message_id);
  return answer(rec, e.message_id);
}

sim_response msca_sim::answer(const request_record& rec, const std::string& relates_to) {
  bool issued = rec.state == "issued";
  // The CMC full PKI response [REF §5]: a SignedData (content type
  // id-cct-PKIResponse, signed by the CA) whose certificates are the chain,
  // its content a PKIResponse with one statusInfo: success 0, pending 3.
  std::string status_info = tlv(
      0x30, tlv(0x02, std::string(1, issued ? '\0' : '\3')) + tlv(0x30, der_integer(1)));
  std::string tagged =
      tlv(0x30, der_integer(1) + der_oid(cmc_status_info) + tlv(0x31, status_info));
  std::string pki_response = tlv(0x30, tlv(0x30, tagged) + tlv(0x30, "") + tlv(0x30, ""));
  std::unique_ptr<BIO, crypto::openssl_deleter<BIO, BIO_free_all>> content{
      BIO_new_mem_buf(pki_response.data(), static_cast<int>(pki_response.size()))};
  cms_ptr cms{CMS_sign(ca_cert_.get(), ca_key_.get(), nullptr, nullptr, CMS_BINARY | CMS_PARTIAL)};
  std::unique_ptr<ASN1_OBJECT, crypto::openssl_deleter<ASN1_OBJECT, ASN1_OBJECT_free>> ctype{
      OBJ_txt2obj(cmc_pki_response, 1)};
  CMS_set1_eContentType(cms.get(), ctype.get());
  crypto::x509_ptr leaf;
  if (issued) {
    leaf = std::move(crypto::parse_certificates(rec.cert_pem).front());
    CMS_add1_cert(cms.get(), leaf.get());
  }
  CMS_final(cms.get(), content.get(), nullptr, CMS_BINARY);
  unsigned char* p = nullptr;
  int n = i2d_CMS_ContentInfo(cms.get(), &p);
  std::string cmc(reinterpret_cast<char*>(p), static_cast<std::size_t>(std::max(n, 0)));
  OPENSSL_free(p);
  ERR_clear_error();

  std::string requested;
  if (issued) {
    unsigned char* q = nullptr;
    int m = i2d_X509(leaf.get(), &q);
    std::string leaf_der(reinterpret_cast<char*>(q), static_cast<std::size_t>(m));
    OPENSSL_free(q);
    requested = fmt::format(
        "<BinarySecurityToken ValueType=\"{}\" EncodingType=\"{}\" xmlns=\"{}\">{}</"
        "BinarySecurityToken>",
        x509v3_type, base64_encoding, secext, wrapped_base64(leaf_der));
  } else {
    // A pending answer refers to the request instead [REF §5; CEPCES].
    requested = fmt::format(
        "<SecurityTokenReference xmlns=\"{}\"><Reference URI=\"{}\"/></SecurityTokenReference>",
        secext, rec.id);
  }
  auto body = fmt::format(
      "<RequestSecurityTokenResponseCollection xmlns=\"{wst}\"><RequestSecurityTokenResponse>"
      "<TokenType>{x509}</TokenType><DispositionMessage xml:lang=\"en-US\" xmlns=\"{enr}\">{disp}"
      "</DispositionMessage><BinarySecurityToken ValueType=\"{pkcs7}\" EncodingType=\"{enc}\" "
      "xmlns=\"{sec}\">{cmc}</BinarySecurityToken><RequestedSecurityToken>{req}"
      "</RequestedSecurityToken><RequestID xmlns=\"{enr}\">{id}</RequestID>"
      "</RequestSecurityTokenResponse></RequestSecurityTokenResponseCollection>",
      fmt::arg("wst", wst), fmt::arg("x509", x509v3_type), fmt::arg("enr", enrollment_ns),
      fmt::arg("disp", issued ? "Issued" : "Taken Under Submission"), fmt::arg("pkcs7", pkcs7_type),
      fmt::arg("enc", base64_encoding), fmt::arg("sec", secext), fmt::arg("cmc", wrapped_base64(cmc)),
      fmt::arg("req", requested), fmt::arg("id", rec.id));
  return soap(200, envelope_text(rstrc_action, relates_to, body));
}

sim_response msca_sim::serve_cep(sim_request& r) {
  ++counters_["cep_requests"];
  envelope e;
  if (auto refused = open(r, e, get_policies_action)) return *refused;
  if (!child(e.body, policy_ns, "GetPolicies"))
    return fault(0, "no GetPolicies in the body", 0, e.message_id, true);
  return soap(200, envelope_text(std::string(get_policies_action) + "Response", e.message_id,
                                 policies_xml()));
}

std::string msca_sim::policies_xml() const {
  // [XCEP] 3.1.4.1.3: the response (policies, each naming its template OID
  // and CAs by reference), the CAs (one cAURI per CES endpoint, with the
  // authentication it takes: 4 username, 8 certificate), the OIDs.
  std::string policies, oids;
  int ref = 1;
  const int agent_eku_ref = 100;
  for (const auto& t : templates_) {
    auto ra = t.ra_signatures > 0
                  ? fmt::format("<rARequirements><rASignatures>{}</rASignatures><rAEKUs>"
                                "<oIDReference>{}</oIDReference></rAEKUs><rAPolicies "
                                "xsi:nil=\"true\"/></rARequirements>",
                                t.ra_signatures, agent_eku_ref)
                  : "<rARequirements xsi:nil=\"true\"/>";
    policies += fmt::format(
        "<policy><policyOIDReference>{ref}</policyOIDReference><cAs><cAReference>0</cAReference>"
        "</cAs><attributes><commonName>{name}</commonName><policySchema>2</policySchema>"
        "<certificateValidity><validityPeriodSeconds>31536000</validityPeriodSeconds>"
        "<renewalPeriodSeconds>3628800</renewalPeriodSeconds></certificateValidity><permission>"
        "<enroll>{enroll}</enroll><autoEnroll>false</autoEnroll></permission>"
        "<privateKeyAttributes><minimalKeyLength>256</minimalKeyLength><keySpec "
        "xsi:nil=\"true\"/><keyUsageProperty xsi:nil=\"true\"/><permissions xsi:nil=\"true\"/>"
        "<algorithmOIDReference xsi:nil=\"true\"/><cryptoProviders xsi:nil=\"true\"/>"
        "</privateKeyAttributes><revision><majorRevision>100</majorRevision><minorRevision>2"
        "</minorRevision></revision><supersededPolicies xsi:nil=\"true\"/><privateKeyFlags>0"
        "</privateKeyFlags><subjectNameFlags>{subject_flags}</subjectNameFlags><enrollmentFlags>"
        "{enrollment_flags}</enrollmentFlags><generalFlags>66112</generalFlags>"
        "<hashAlgorithmOIDReference xsi:nil=\"true\"/>{ra}<keyArchivalAttributes "
        "xsi:nil=\"true\"/><extensions xsi:nil=\"true\"/></attributes></policy>",
        fmt::arg("ref", ref), fmt::arg("name", escape(t.name)),
        fmt::arg("enroll", t.enroll ? "true" : "false"),
        // CT_FLAG_ENROLLEE_SUPPLIES_SUBJECT (1) unless the CA builds it
        // from the directory (the agent template: SUBJECT_REQUIRE_DNS_AS_CN).
        fmt::arg("subject_flags", t.agent ? "402653184" : "1"),
        // CT_FLAG_PEND_ALL_REQUESTS (2) for a template held for a manager.
        fmt::arg("enrollment_flags", t.mode == template_mode::pending ? "2" : "0"),
        fmt::arg("ra", ra));
    oids += fmt::format(
        "<oID><value>{}</value><group>9</group><oIDReferenceID>{}</oIDReferenceID><defaultName>"
        "{}</defaultName></oID>",
        t.oid, ref, escape(t.name));
    ++ref;
  }
  oids += fmt::format(
      "<oID><value>{}</value><group>7</group><oIDReferenceID>{}</oIDReferenceID><defaultName>"
      "Certificate Request Agent</defaultName></oID>",
      agent_eku, agent_eku_ref);
  unsigned char* p = nullptr;
  int n = i2d_X509(ca_cert_.get(), &p);
  std::string ca_der(reinterpret_cast<char*>(p), static_cast<std::size_t>(n));
  OPENSSL_free(p);
  auto ca = fmt::format(
      "<cA><uris><cAURI><clientAuthentication>{}</clientAuthentication><uri>{}</uri><priority>1"
      "</priority><renewalOnly>false</renewalOnly></cAURI></uris><certificate>{}</certificate>"
      "<enrollPermission>true</enrollPermission><cAReferenceID>0</cAReferenceID></cA>",
      auth_ == "certificate" ? 8
      : auth_ == "kerberos"  ? 2
                             : 4,
      escape(base_url_ + ces_path()), wrapped_base64(ca_der));
  return fmt::format(
      "<GetPoliciesResponse xmlns=\"{}\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
      "<response><policyID>{{5C0E7A3E-0000-4000-8000-00000000C8C5}}</policyID>"
      "<policyFriendlyName>cbcs-sim AD</policyFriendlyName><nextUpdateHours>8</nextUpdateHours>"
      "<policiesNotChanged xsi:nil=\"true\"/><policies>{}</policies></response><cAs>{}</cAs>"
      "<oIDs>{}</oIDs></GetPoliciesResponse>",
      policy_ns, policies, ca, oids);
}

sim_response msca_sim::admin(sim_request& r, const std::string& operation) {
  auto error = [](int status, std::string_view m) {
    return sim_response::json(status, json_object{}.str("error", m).done());
  };
  if (operation == "requests") {
    std::string list = "[";
    for (const auto& [id, rec] : requests_) {
      if (list.size() > 1) list += ",";
      list += json_object{}
                  .num("id", id)
                  .str("template", rec.template_name)
                  .str("requester", rec.requester)
                  .str("caller", rec.caller)
                  .str("signer", rec.signer)
                  .str("state", rec.state)
                  .num("hresult", rec.hresult)
                  .str("subject", rec.subject)
                  .str("certificate", rec.cert_pem)
                  .done();
    }
    return sim_response::json(200, json_object{}.raw("requests", list + "]").done());
  }
  if (operation == "stats") {
    json_object o;
    for (const auto& [k, v] : counters_) o.num(k, v);
    return sim_response::json(200, o.done());
  }
  if (operation == "approve" || operation == "deny") {
    std::uint32_t id = 0;
    try {
      id = static_cast<std::uint32_t>(std::stoul(r.param("id")));
    } catch (const std::exception&) {
      return error(400, "bad request id");
    }
    auto it = requests_.find(id);
    if (it == requests_.end() || it->second.state != "pending")
      return error(404, "no pending request with that id");
    auto& rec = it->second;
    if (operation == "deny") {
      rec.state = "denied";
      rec.hresult = admin_denied;
    } else {
      const auto* t = find_template(rec.template_name);
      auto* data = reinterpret_cast<const unsigned char*>(rec.csr_der.data());
      crypto::x509_req_ptr csr;
      // The request is the PKCS#10, or a CMS around it.
      cms_ptr cms{d2i_CMS_ContentInfo(nullptr, &data, static_cast<long>(rec.csr_der.size()))};
      if (cms) {
        ASN1_OCTET_STRING** content = CMS_get0_content(cms.get());
        if (content && *content) {
          auto* q = (*content)->data;
          csr.reset(d2i_X509_REQ(nullptr, const_cast<const unsigned char**>(&q), (*content)->length));
        }
      } else {
        data = reinterpret_cast<const unsigned char*>(rec.csr_der.data());
        csr.reset(d2i_X509_REQ(nullptr, &data, static_cast<long>(rec.csr_der.size())));
      }
      ERR_clear_error();
      if (!t || !csr) return error(500, "the stored request cannot be read");
      rec.cert_pem = issue_certificate(rec, *t, csr.get());
      rec.state = "issued";
      ++counters_["issued"];
    }
    return sim_response::json(200, json_object{}.num("id", id).str("state", rec.state).done());
  }
  if (operation == "template") {
    auto name = r.param("name");
    sim_template* t = nullptr;
    for (auto& x : templates_)
      if (x.name == name) t = &x;
    if (!t) {
      templates_.push_back({.name = name, .oid = fmt::format("1.3.6.1.4.1.311.21.8.7.{}",
                                                             templates_.size() + 1)});
      t = &templates_.back();
    }
    // {"mode":"issue|pending|deny","enroll":bool,"ra_signatures":N} as text
    // fields: the admin API is ours, kept simple.
    std::string compact;
    for (char c : r.body)
      if (!std::isspace(static_cast<unsigned char>(c))) compact += c;
    auto has = [&](std::string_view word) { return compact.find(word) != std::string::npos; };
    if (has("\"mode\":\"issue\"")) t->mode = template_mode::issue;
    if (has("\"mode\":\"pending\"")) t->mode = template_mode::pending;
    if (has("\"mode\":\"deny\"")) t->mode = template_mode::deny;
    if (has("\"enroll\":false")) t->enroll = false;
    if (has("\"enroll\":true")) t->enroll = true;
    if (has("\"ra_signatures\":1")) t->ra_signatures = 1;
    if (has("\"ra_signatures\":0")) t->ra_signatures = 0;
    return sim_response::json(200, json_object{}.str("name", t->name).done());
  }
  return error(404, "no such admin operation");
}

}  // namespace cbcs::sim::msca
