#pragma once
// The simulated AD CS behind its enrollment web services, without the
// network (msca_main.cpp puts it on sim_server): CES ([MS-WSTEP]) and CEP
// ([MS-XCEP]) for one CA and one authentication, as Microsoft publishes one
// pair of endpoints per authentication. Written from the open
// specifications and a public client, not from our driver; each rule cites
// its source:
//  [REF]    ../shared/reference/ca-apis.md (the steering repository) §5
//  [WSTEP]  [MS-WSTEP] 3.1.4.1 (RequestSecurityToken2, RequestType Issue and
//           QueryTokenStatus, the response collection, faults with
//           CertificateEnrollmentWSDetail)
//  [XCEP]   [MS-XCEP] 3.1.4.1 (GetPolicies: policies, cAs, oIDs)
//  [WCCE]   [MS-WCCE] 3.2.2.6.2.1.2 (requests on behalf of another: a CMS
//           signed by a Certificate Request Agent, the requestername pair)
//  [RFC4559] HTTP Negotiate (--auth kerberos: IIS's Windows Authentication
//           in front of CES_Kerberos and CEP_Kerberos)
//  [CEPCES] openSUSE's cepces (Python), a public client of both services
//
// The CA: a root made at start. Templates (admin PUT /admin/templates/NAME):
// MachineEnrollmentAgent issues the Certificate Request Agent EKU (its
// subject from the machine's name, the CSR's ignored: [REF §5]);
// EnrollmentAgentClientAuth, a duplicate that adds Client Authentication (its
// certificate then opens this simulator's TLS port too); WebServer
// needs one agent signature; others by the admin. Each issues at once,
// holds for a CA manager (Taken Under Submission) or denies. One thread.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "crypto/openssl_types.hpp"
#include "tests/sim/common/sim_routes.hpp"
#include "tests/sim/msca/negotiate_acceptor.hpp"

namespace cbcs::sim::msca {

enum class template_mode { issue, pending, deny };

struct sim_template {
  std::string name;
  std::string oid;
  bool agent = false;  // issues the Certificate Request Agent EKU
  bool client_auth = false;  // and Client Authentication (a duplicate template that adds it)
  int ra_signatures = 0;  // agent signatures a request needs [WCCE]
  template_mode mode = template_mode::issue;
  bool enroll = true;  // the caller's Enroll permission
};

struct request_record {
  std::uint32_t id = 0;
  std::string template_name;
  std::string requester;  // the requestername pair, else the Kerberos caller, else ""
  std::string caller;     // --auth kerberos: the client's principal
  std::string signer;     // the agent certificate's subject, "" for a plain PKCS#10
  std::string state;      // issued, pending, denied, failed
  std::uint32_t hresult = 0;
  std::string subject;
  std::string cert_pem;
  std::string csr_der;
};

class msca_sim {
 public:
  // auth: "certificate", "username" or "kerberos" (the endpoints' <Auth>
  // part); keytab: the service's keys for kerberos.
  msca_sim(std::string ca_name, std::string auth, std::string username, std::string password,
           std::string machine_name, std::string keytab = {});
  ~msca_sim();

  sim_response ces(sim_request& r);
  sim_response cep(sim_request& r);
  sim_response admin(sim_request& r, const std::string& operation);
  void reset();

  std::string ca_pem() const { return ca_pem_; }
  // Where clients find the two services on this simulator.
  std::string ces_path() const;
  std::string cep_path() const;
  void set_base_url(std::string url) { base_url_ = std::move(url); }

 private:
  // A parsed SOAP request's parts the services look at.
  struct envelope;
  // The envelope read and checked (SOAP 1.2, the action, the credentials):
  // nullopt, or the answer that refuses it.
  std::optional<sim_response> open(sim_request& r, envelope& e, std::string_view action);
  std::optional<sim_response> negotiate(sim_request& r, envelope& e);
  sim_response with_reply(sim_response response);
  sim_response serve_ces(sim_request& r);
  sim_response serve_cep(sim_request& r);
  std::string auth_word() const;
  sim_response issue(const envelope& e);
  sim_response query(const envelope& e);
  sim_response answer(const request_record& r, const std::string& relates_to);
  sim_response fault(std::uint32_t hresult, const std::string& reason, std::uint32_t request_id,
                     const std::string& relates_to, bool sender = false);
  std::string issue_certificate(request_record& rec, const sim_template& t, X509_REQ* csr);
  bool authenticated(const envelope& e) const;
  const sim_template* find_template(const std::string& name) const;
  std::string policies_xml() const;

  std::string ca_name_, auth_, username_, password_, machine_name_, base_url_;
  std::vector<sim_template> templates_;
  std::map<std::uint32_t, request_record> requests_;
  std::uint32_t next_id_ = 1;
  std::map<std::string, std::int64_t> counters_;
  crypto::pkey_ptr ca_key_;
  crypto::x509_ptr ca_cert_;
  std::string ca_pem_;
  std::unique_ptr<negotiate_acceptor> acceptor_;  // --auth kerberos
  std::string reply_token_;                       // the acceptor's last output token
};

}  // namespace cbcs::sim::msca
