// The ca_com over CertCli's CCertRequest and CertAdm's CCertAdmin (Windows).
// MinGW's certcli.h and certadm.h declare the interfaces but no library
// defines their GUIDs: they are defined here, from Microsoft's SDK headers
// (certcli.h: MIDL_INTERFACE("a4772988-...") for ICertRequest2, the
// CCertRequest coclass 98aff3f0-...; certadm.h: ICertAdmin2 f7c3ac41-...,
// the CCertAdmin coclass 37eabaf0-...).

#include "protocol/ca/msca/ca_com.hpp"

#ifdef _WIN32

#include <windows.h>
// windows.h first: the CertSrv headers rely on its types.
#include <certadm.h>
#include <certcli.h>
#include <oleauto.h>

#include <string>
#include <string_view>

namespace cbcs::protocol::ca::msca {
namespace {

// {98AFF3F0-5524-11D0-8812-00A0C903B83C} CLSID_CCertRequest (certcli.h)
constexpr GUID clsid_cert_request = {
    0x98aff3f0, 0x5524, 0x11d0, {0x88, 0x12, 0x00, 0xa0, 0xc9, 0x03, 0xb8, 0x3c}};
// {A4772988-4A85-4FA9-824E-B5CF5C16405A} IID_ICertRequest2 (certcli.h)
constexpr GUID iid_cert_request2 = {
    0xa4772988, 0x4a85, 0x4fa9, {0x82, 0x4e, 0xb5, 0xcf, 0x5c, 0x16, 0x40, 0x5a}};
// {37EABAF0-7FB6-11D0-8817-00A0C903B83C} CLSID_CCertAdmin (certadm.h)
constexpr GUID clsid_cert_admin = {
    0x37eabaf0, 0x7fb6, 0x11d0, {0x88, 0x17, 0x00, 0xa0, 0xc9, 0x03, 0xb8, 0x3c}};
// {F7C3AC41-B8CE-4FB4-AA58-3D1DC0E36B39} IID_ICertAdmin2 (certadm.h)
constexpr GUID iid_cert_admin2 = {
    0xf7c3ac41, 0xb8ce, 0x4fb4, {0xaa, 0x58, 0x3d, 0x1d, 0xc0, 0xe3, 0x6b, 0x39}};

// certcli.h's flags, named here so the calls read as Microsoft documents them.
constexpr LONG in_base64 = 0x1;        // CR_IN_BASE64
constexpr LONG in_pkcs10 = 0x100;      // CR_IN_PKCS10
constexpr LONG in_pkcs7 = 0x300;       // CR_IN_PKCS7
constexpr LONG out_base64 = 0x1;       // CR_OUT_BASE64 (no header, CR LF wrapped)
constexpr LONG out_chain = 0x100;      // CR_OUT_CHAIN: a PKCS#7 with the chain
constexpr LONG proptype_binary = 0x3;  // PROPTYPE_BINARY (certsrv.h)
constexpr LONG proptype_string = 0x4;  // PROPTYPE_STRING
// ICertAdmin::RevokeCertificate: MAXDWORD as the reason takes a
// certificate off hold (RFC 5280's removeFromCRL, 8).
constexpr LONG unrevoke = -1;

std::wstring widen(const std::string& s) {
  if (s.empty()) return {};
  int n = MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0);
  std::wstring out(static_cast<std::size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), out.data(), n);
  return out;
}

std::string narrow(const wchar_t* s, std::size_t size) {
  if (!s || size == 0) return {};
  int n = WideCharToMultiByte(CP_UTF8, 0, s, static_cast<int>(size), nullptr, 0, nullptr, nullptr);
  std::string out(static_cast<std::size_t>(n), '\0');
  WideCharToMultiByte(CP_UTF8, 0, s, static_cast<int>(size), out.data(), n, nullptr, nullptr);
  return out;
}

// A BSTR owned here: made from UTF-8, freed once.
class bstr {
 public:
  bstr() = default;
  explicit bstr(const std::string& s) {
    auto w = widen(s);
    value_ = SysAllocStringLen(w.data(), static_cast<UINT>(w.size()));
  }
  ~bstr() { SysFreeString(value_); }
  bstr(const bstr&) = delete;
  bstr& operator=(const bstr&) = delete;
  BSTR get() const { return value_; }
  BSTR* out() {
    SysFreeString(value_);
    value_ = nullptr;
    return &value_;
  }
  std::string utf8() const { return narrow(value_, value_ ? SysStringLen(value_) : 0); }

 private:
  BSTR value_ = nullptr;
};

template <class T>
class com_ptr {
 public:
  com_ptr() = default;
  ~com_ptr() { reset(); }
  void reset() {
    if (p_) p_->Release();
    p_ = nullptr;
  }
  com_ptr(const com_ptr&) = delete;
  com_ptr& operator=(const com_ptr&) = delete;
  T* operator->() const { return p_; }
  void** out() { return reinterpret_cast<void**>(&p_); }
  explicit operator bool() const { return p_ != nullptr; }

 private:
  T* p_ = nullptr;
};

class windows_ca_com final : public ca_com {
 public:
  windows_ca_com() : apartment_(CoInitializeEx(nullptr, COINIT_MULTITHREADED)) {}
  ~windows_ca_com() override {
    // The objects go before the apartment they live in.
    request_.reset();
    admin_.reset();
    if (SUCCEEDED(apartment_)) CoUninitialize();
  }

  com_answer submit(const std::string& config, const std::string& request_b64,
                    request_format format, const std::string& attributes) override {
    if (auto hr = request_object(); FAILED(hr)) return failure(hr);
    LONG disposition = 0;
    bstr request(request_b64), attrs(attributes), cfg(config);
    HRESULT hr =
        request_->Submit(in_base64 | (format == request_format::pkcs7 ? in_pkcs7 : in_pkcs10),
                         request.get(), attrs.get(), cfg.get(), &disposition);
    if (FAILED(hr)) return failure(hr);
    return read_request(disposition);
  }

  com_answer retrieve_pending(const std::string& config, long request_id) override {
    if (auto hr = request_object(); FAILED(hr)) return failure(hr);
    LONG disposition = 0;
    bstr cfg(config);
    HRESULT hr = request_->RetrievePending(request_id, cfg.get(), &disposition);
    if (FAILED(hr)) return failure(hr);
    return read_request(disposition);
  }

  com_answer revoke(const std::string& config, const std::string& serial_hex,
                    long reason) override {
    if (auto hr = admin_object(); FAILED(hr)) return failure(hr);
    bstr cfg(config), serial(serial_hex);
    // Date 0: revoked now (ICertAdmin::RevokeCertificate).
    HRESULT hr =
        admin_->RevokeCertificate(cfg.get(), serial.get(), reason == 8 ? unrevoke : reason, 0.0);
    return FAILED(hr) ? failure(hr) : com_answer{};
  }

  com_answer resubmit(const std::string& config, long request_id) override {
    if (auto hr = admin_object(); FAILED(hr)) return failure(hr);
    bstr cfg(config);
    LONG disposition = 0;
    HRESULT hr = admin_->ResubmitRequest(cfg.get(), request_id, &disposition);
    if (FAILED(hr)) return failure(hr);
    return {.disposition = disposition, .request_id = request_id};
  }

  com_answer ca_property(const std::string& config, long property_id, long index) override {
    if (auto hr = request_object(); FAILED(hr)) return failure(hr);
    bstr cfg(config);
    LONG type = property_id == cr_prop_cacert ? proptype_binary : proptype_string;
    VARIANT v;
    VariantInit(&v);
    HRESULT hr = request_->GetCAProperty(cfg.get(), property_id, index, type, out_base64, &v);
    if (FAILED(hr)) return failure(hr);
    com_answer a;
    if (v.vt == VT_BSTR) a.value = narrow(v.bstrVal, SysStringLen(v.bstrVal));
    // A binary's base64 comes wrapped: one line, as the wire carries it.
    if (type == proptype_binary)
      std::erase_if(a.value, [](char c) { return c == '\r' || c == '\n'; });
    VariantClear(&v);
    return a;
  }

 private:
  static com_answer failure(HRESULT hr) { return {.hresult = static_cast<std::uint32_t>(hr)}; }

  HRESULT request_object() {
    if (FAILED(apartment_) && apartment_ != RPC_E_CHANGED_MODE) return apartment_;
    if (request_) return S_OK;
    return CoCreateInstance(clsid_cert_request, nullptr, CLSCTX_INPROC_SERVER, iid_cert_request2,
                            request_.out());
  }

  HRESULT admin_object() {
    if (FAILED(apartment_) && apartment_ != RPC_E_CHANGED_MODE) return apartment_;
    if (admin_) return S_OK;
    return CoCreateInstance(clsid_cert_admin, nullptr, CLSCTX_INPROC_SERVER, iid_cert_admin2,
                            admin_.out());
  }

  // After Submit or RetrievePending: why (GetLastStatus), the request's
  // id, the CA's words and, when issued, the certificate and its chain.
  com_answer read_request(LONG disposition) {
    com_answer a{.disposition = disposition};
    LONG status = 0, id = 0;
    if (SUCCEEDED(request_->GetLastStatus(&status))) a.hresult = static_cast<std::uint32_t>(status);
    if (SUCCEEDED(request_->GetRequestId(&id))) a.request_id = id;
    bstr message;
    if (SUCCEEDED(request_->GetDispositionMessage(message.out()))) a.message = message.utf8();
    if (disposition == cr_disp_issued || disposition == cr_disp_issued_out_of_band) {
      bstr cert, chain;
      HRESULT hr = request_->GetCertificate(out_base64, cert.out());
      if (FAILED(hr)) return failure(hr);
      a.certificate_b64 = cert.utf8();
      if (SUCCEEDED(request_->GetCertificate(out_base64 | out_chain, chain.out())))
        a.chain_b64 = chain.utf8();
    }
    return a;
  }

  HRESULT apartment_;
  com_ptr<ICertRequest2> request_;
  com_ptr<ICertAdmin2> admin_;
};

}  // namespace

std::unique_ptr<ca_com> make_windows_ca_com() { return std::make_unique<windows_ca_com>(); }

}  // namespace cbcs::protocol::ca::msca

#else

namespace cbcs::protocol::ca::msca {

std::unique_ptr<ca_com> make_windows_ca_com() { return nullptr; }

}  // namespace cbcs::protocol::ca::msca

#endif
