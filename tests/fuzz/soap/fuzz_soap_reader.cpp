// protocol::soap's reader, protocol::ca::msca::wstep's and xcep's answers, on untrusted bytes
// (a CES or CEP answer, or whatever stands in its place). soap_document
// throws soap_error or gives an envelope; every typed reader then gives a
// value or soap_error, never anything else. Messages and read texts are one
// line; a request id read is a valid one; a fault's reason, written back by
// the writer, reads back unchanged (the writer escapes what the reader gives).

#include <stdexcept>
#include <string>

#include "fuzz_check.hpp"
#include "protocol/common/soap.hpp"
#include "protocol/common/soap_reader.hpp"
#include "protocol/common/text.hpp"
#include "protocol/ca/msca/hresult.hpp"
#include "protocol/ca/msca/wstep.hpp"
#include "protocol/ca/msca/xcep.hpp"

using namespace cbcs;
namespace soap = protocol::soap;
namespace wstep = protocol::ca::msca::wstep;
namespace xcep = protocol::ca::msca::xcep;

namespace {

void check_line(std::string_view text, std::size_t limit, std::string_view what) {
  fuzz::check(protocol::one_line(text, limit) == text, what, text);
}

template <class F>
void reading(std::string_view what, F f) {
  try {
    f();
  } catch (const soap::soap_error& e) {
    check_line(e.what(), 200, "a soap_error is not one short line");
  } catch (const std::exception& e) {
    fuzz::fail(what, e.what());
  }
}

void check_fault(const soap::fault& f) {
  check_line(f.reason, 2048, "the fault's reason is not one line");
  check_line(soap::describe(f), 400, "describe() is not one line within 400 bytes");
  // The reason goes back out through the writer and reads back the same.
  protocol::xml_element body("r");
  body.text(f.reason);
  soap::soap_document again(soap::write_envelope({.action = "a", .message_id = "m"}, body));
  fuzz::check(soap::element_text(soap::child_element(again.body(), "", "r")) == f.reason,
              "a fault's reason does not survive the writer");
  reading("read_fault_detail threw something else", [&] {
    if (auto d = wstep::read_fault_detail(f)) {
      fuzz::check(d->request_id.empty() || wstep::valid_request_id(d->request_id),
                  "an invalid RequestID was read", d->request_id);
      if (d->error_code)
        check_line(protocol::ca::msca::describe_hresult(static_cast<std::uint32_t>(*d->error_code)), 240,
                   "describe_hresult");
    }
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = fuzz::as_text(data, size);
  reading("soap_document threw something else", [&] {
    soap::soap_document doc(text);
    fuzz::check(soap::is_element(doc.envelope(), soap::ns_envelope, "Envelope"),
                "an envelope that is not SOAP 1.2's was accepted");
    fuzz::check(soap::is_element(doc.body(), soap::ns_envelope, "Body"), "no Body");
    reading("read_fault threw something else", [&] {
      if (auto f = soap::read_fault(doc)) check_fault(*f);
    });
    reading("read_token_response threw something else", [&] {
      if (auto r = wstep::read_token_response(doc)) {
        check_line(r->disposition_message, 512, "the disposition message is not one line");
        check_line(r->token_type, 256, "the token type is not one line");
        check_line(r->token_reference, 256, "the token reference is not one line");
        fuzz::check(r->request_id.empty() || wstep::valid_request_id(r->request_id),
                    "an invalid RequestID was read", r->request_id);
      }
    });
    reading("read_get_policies_response threw something else", [&] {
      if (auto p = xcep::read_get_policies_response(doc)) {
        for (const auto& t : p->templates) {
          fuzz::check(!t.common_name.empty(), "a template without a common name was read");
          check_line(t.common_name, 256, "a template's common name is not one line");
          check_line(t.oid, 256, "a template's OID is not one line");
        }
        for (const auto& ca : p->cas)
          for (const auto& u : ca.uris) check_line(u.uri, 2048, "a CA URI is not one line");
      }
    });
  });
  return 0;
}
