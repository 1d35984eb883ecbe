// protocol::scm::decode (the session's text frames, from SCM) and the
// registration readers (decode_registration_response, _error, _request): the
// whole input goes to each. Each either throws scm_protocol_error with one
// printable line made of the decoders' own words (and the sanitised type),
// so that no value of the input shows, or returns a message whose free texts are one line and whose
// encoding decodes to a message that encodes to the same text.

#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "fuzz_check.hpp"
#include "fuzz_words.hpp"
#include "protocol/ca/job_codec.hpp"
#include "protocol/scm/messages.hpp"

namespace {

using namespace cbcs;
namespace scm = protocol::scm;

// The words of the decoders' messages: field names, type names and rule
// texts. Once the sanitised type is taken out, a message holds only these,
// numbers and the words of simdjson's messages: nothing copied from the input.
constexpr std::string_view vocabulary =
    "type seq connector_id version protocol backends name health message server_time_ms "
    "heartbeat_interval_ms time_ms ack lease_id lease_expires_at_ms job job_id accepted reason "
    "outcome next_poll_at_ms csr certificate chain code ref_seq reconnect_after_ms token hostname "
    "os os_version scm_ca session_url group error id operation backend serial validity_seconds "
    "profile params report retryable backend_code poll_after_ms "
    "hello hello_ack heartbeat heartbeat_ack job_ack result result_ack pending renew_identity "
    "identity bye cancel "
    "frame field is missing must be a string not empty valid id PEM CERTIFICATE REQUEST an "
    "integer negative too large positive true or false object array that travels as message "
    "JSON has no unsupported type registration request response wss URL unknown hold strings of "
    "bytes over the limit "
    // read_pending's reason check (found by the fuzz smoke: the list lacked it)
    "reason word of a-z and '_'";

const fuzz::word_set& known_words() {
  static const auto words = fuzz::words_with_simdjson(vocabulary);
  return words;
}

// Printable ASCII: no byte of the input's strings beyond what sanitize() lets through.
bool printable(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

void check_error(const scm::scm_protocol_error& e, std::string_view input) {
  std::string what = e.what();
  fuzz::check(!what.empty(), "empty error message");
  fuzz::check(printable(what), "error message is not one printable line", what);
  fuzz::check(what.size() <= 300, "error message too long (does it carry a value?)", what);
  fuzz::check(printable(e.type()) && e.type().size() <= 67, "type() is not sanitised", e.type());
  fuzz::check((e.kind() == scm::error_kind::too_large) == (input.size() > scm::max_frame_bytes),
              "too_large for a frame within the limit", what);
  fuzz::check(!e.seq() || *e.seq() <= static_cast<std::uint64_t>(scm::max_json_integer),
              "seq() beyond 2^53-1");
  // The sanitised type is the one value a message may show: as the context
  // in front ("<type>: field ...") or quoted.
  const auto& type = e.type();
  if (!type.empty() && what.starts_with(type + ":")) what.erase(0, type.size() + 1);
  auto quoted = "\"" + type + "\"";
  for (auto at = what.find(quoted); at != std::string::npos; at = what.find(quoted, at))
    what.erase(at, quoted.size());
  auto stranger = fuzz::stranger_word(what, known_words());
  fuzz::check(stranger.empty(), "error message holds a word that is not the decoders' own",
              e.what());
}

// Free texts as the decoder promises them.
bool one_line(std::string_view s) {
  if (s.size() > scm::max_text_bytes) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    auto next = i + 1 < s.size() ? static_cast<unsigned char>(s[i + 1]) : 0;
    if (c < 0x20 || c == 0x7f || (c == 0xc2 && next >= 0x80 && next < 0xa0)) return false;
    if (s.substr(i, 3) == "\xe2\x80\xa8" || s.substr(i, 3) == "\xe2\x80\xa9") return false;
  }
  return true;
}

void check_texts(const std::vector<scm::backend_info>& backends) {
  for (const auto& b : backends)
    fuzz::check(one_line(b.message), "backend message is not one line", b.message);
}

void check_fields(const scm::message& m) {
  std::visit(
      [](const auto& msg) {
        using T = std::decay_t<decltype(msg)>;
        auto text = [](const std::string& s) {
          fuzz::check(one_line(s), "decoded text is not one line", s);
        };
        if constexpr (requires { msg.job_id; }) {
          // error's job_id is optional; everywhere else it is required.
          if (!std::is_same_v<T, scm::error_msg> || !msg.job_id.empty())
            fuzz::check(protocol::ca::is_valid_job_id(msg.job_id), "invalid job id accepted",
                        msg.job_id);
        }
        if constexpr (requires { msg.message; }) text(msg.message);
        if constexpr (requires { msg.reason; }) text(msg.reason);
        if constexpr (std::is_same_v<T, scm::error_msg>) text(msg.code);
        if constexpr (std::is_same_v<T, scm::hello_msg>) check_texts(msg.backends);
        if constexpr (std::is_same_v<T, scm::heartbeat_msg>)
          if (msg.backends) check_texts(*msg.backends);
        if constexpr (std::is_same_v<T, scm::job_msg>)
          fuzz::check(protocol::ca::is_valid_job_id(msg.job.id), "invalid job id accepted");
      },
      m);
}

void frame(std::string_view input) {
  scm::message m;
  try {
    m = scm::decode(input);
  } catch (const scm::scm_protocol_error& e) {
    return check_error(e, input);
  } catch (const std::exception& e) {
    fuzz::fail("decode threw something other than scm_protocol_error", e.what());
  }
  fuzz::check(scm::seq_of(m) <= static_cast<std::uint64_t>(scm::max_json_integer),
              "seq beyond 2^53-1");
  check_fields(m);
  auto text = scm::encode(m);
  fuzz::check(text.find('\n') == std::string::npos, "encoded frame is not one line", text);
  scm::message back;
  try {
    back = scm::decode(text);
  } catch (const std::exception& e) {
    fuzz::fail("encode(decode(x)) does not decode", std::string(e.what()) + " in " + text);
  }
  fuzz::check(back.index() == m.index(), "round trip changed the type", text);
  fuzz::check(scm::seq_of(back) == scm::seq_of(m), "round trip changed seq", text);
  fuzz::check(scm::encode(back) == text, "round trip changed the message", text);
}

// Calls read(input); on success checks that encode() reads back the same.
template <class Read, class Same>
void body(std::string_view input, Read read, Same same) {
  decltype(read(input)) r;
  try {
    r = read(input);
  } catch (const scm::scm_protocol_error& e) {
    return check_error(e, input);
  } catch (const std::exception& e) {
    fuzz::fail("a registration reader threw something other than scm_protocol_error", e.what());
  }
  auto text = scm::encode(r);
  decltype(r) back;
  try {
    back = read(text);
  } catch (const std::exception& e) {
    fuzz::fail("encode(decode(x)) does not decode", std::string(e.what()) + " in " + text);
  }
  fuzz::check(same(r, back), "registration body round trip changed it", text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto input = fuzz::as_text(data, size);
  frame(input);
  body(
      input, [](std::string_view s) { return scm::decode_registration_response(s); },
      [](const scm::registration_response& a, const scm::registration_response& b) {
        return a.connector_id == b.connector_id && a.certificate_pem == b.certificate_pem &&
               a.chain_pem == b.chain_pem && a.scm_ca_pem == b.scm_ca_pem &&
               a.session_url == b.session_url && a.group == b.group;
      });
  body(
      input, [](std::string_view s) { return scm::decode_registration_error(s); },
      [](const scm::registration_error& a, const scm::registration_error& b) {
        // `cbcs register` prints both in one line.
        fuzz::check(printable(a.code) && a.code.size() <= 67, "error code not sanitised", a.code);
        fuzz::check(one_line(a.message), "registration error message is not one line", a.message);
        return a.code == b.code && a.message == b.message;
      });
  body(
      input, [](std::string_view s) { return scm::decode_registration_request(s); },
      [](const scm::registration_request& a, const scm::registration_request& b) {
        return a.token == b.token && a.csr_pem == b.csr_pem && a.hostname == b.hostname &&
               a.os == b.os && a.os_version == b.os_version && a.version == b.version;
      });
  return 0;
}
