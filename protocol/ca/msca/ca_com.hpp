#pragma once
// The calls the DCOM transport makes on AD CS, behind an interface so the
// transport runs against a fake in the unit tests (Linux and Wine) and
// against CertCli/CertAdm's COM objects on Windows (ca_com_windows.cpp).
// Plain strings and numbers: no protocol, no settings. One object lives on
// the transport's own thread (COM's multithreaded apartment) and is called
// from there only.

#include <cstdint>
#include <memory>
#include <string>

namespace cbcs::protocol::ca::msca {

// Submit's dispositions (certcli.h CR_DISP_*; [REF §5]: not DB_DISP_*).
enum cr_disp : long {
  cr_disp_incomplete = 0,
  cr_disp_error = 1,
  cr_disp_denied = 2,
  cr_disp_issued = 3,
  cr_disp_issued_out_of_band = 4,
  cr_disp_under_submission = 5,
  cr_disp_revoked = 6,
};

// What one call answered. `hresult`: the call's own failure (E_ACCESSDENIED,
// RPC_S_SERVER_UNAVAILABLE: then nothing else is set), else GetLastStatus
// (why a request was denied or failed; 0 when issued).
struct com_answer {
  std::uint32_t hresult = 0;
  long disposition = cr_disp_incomplete;
  long request_id = 0;          // GetRequestId
  std::string message;          // GetDispositionMessage
  std::string certificate_b64;  // GetCertificate(CR_OUT_BASE64): the DER
  std::string chain_b64;        // GetCertificate(CR_OUT_BASE64 | CR_OUT_CHAIN): PKCS#7
  std::string value;            // GetCAProperty: a string, or a certificate's base64 DER
};

// Which request Submit carries (CR_IN_PKCS10 or CR_IN_PKCS7, with CR_IN_BASE64).
enum class request_format : std::uint8_t { pkcs10, pkcs7 };

// GetCAProperty's PropId values (certcli.h CR_PROP_*) the report asks for.
inline constexpr long cr_prop_caname = 6;        // CR_PROP_CANAME (string)
inline constexpr long cr_prop_cacert = 0x0c;     // CR_PROP_CASIGCERT (binary, by index)
inline constexpr long cr_prop_templates = 0x1d;  // CR_PROP_TEMPLATES (string)

class ca_com {
 public:
  virtual ~ca_com() = default;
  // ICertRequest2::Submit(CR_IN_BASE64 | format, request, attributes,
  // config); then GetLastStatus, GetRequestId, GetDispositionMessage and,
  // when issued, GetCertificate (leaf, then chain).
  virtual com_answer submit(const std::string& config, const std::string& request_b64,
                            request_format format, const std::string& attributes) = 0;
  // ICertRequest2::RetrievePending(request_id, config), then as Submit.
  virtual com_answer retrieve_pending(const std::string& config, long request_id) = 0;
  // ICertAdmin2::RevokeCertificate(config, serial hex, reason, now).
  virtual com_answer revoke(const std::string& config, const std::string& serial_hex,
                            long reason) = 0;
  // ICertAdmin2::ResubmitRequest(config, request_id): its disposition.
  virtual com_answer resubmit(const std::string& config, long request_id) = 0;
  // ICertRequest2::GetCAProperty(config, id, index, type, CR_OUT_BASE64).
  virtual com_answer ca_property(const std::string& config, long property_id, long index) = 0;
};

// CertCli/CertAdm's own objects (Windows only; elsewhere nullptr). Made on
// the thread that calls it: it joins the multithreaded apartment there.
std::unique_ptr<ca_com> make_windows_ca_com();

}  // namespace cbcs::protocol::ca::msca
