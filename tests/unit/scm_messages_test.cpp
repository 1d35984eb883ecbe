#include <doctest/doctest.h>

#include <simdjson.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "protocol/ca/job_codec.hpp"
#include "protocol/common/json_writer.hpp"
#include "protocol/scm/messages.hpp"
#include "test_pki.hpp"

namespace scm = cbcs::protocol::scm;
namespace ca = cbcs::protocol::ca;

namespace {

const char* const csr_pem =
    "-----BEGIN CERTIFICATE REQUEST-----\nMIIBfake\n-----END CERTIFICATE REQUEST-----\n";
const char* const cert_pem = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
const char* const chain_pem = "-----BEGIN CERTIFICATE-----\nMIIBchain\n-----END CERTIFICATE-----\n";

template <class T>
T round_trip(const T& in) {
  auto frame = scm::encode(in);
  CHECK(frame == scm::encode(scm::message(in)));
  // One line per frame: simulators and logs may rely on it.
  CHECK(frame.find('\n') == std::string::npos);
  auto decoded = scm::decode(frame);
  REQUIRE(std::holds_alternative<T>(decoded));
  CHECK(scm::type_of(decoded) == T::type);
  CHECK(scm::seq_of(decoded) == in.seq);
  // Encoding what we decoded gives the same text: nothing was lost.
  CHECK(scm::encode(decoded) == frame);
  return std::get<T>(decoded);
}

ca::job sample_job() {
  ca::job j;
  j.id = "job-7f3a9c";
  j.op = ca::operation::enroll;
  j.backend = "aws-prod";
  j.csr_pem = csr_pem;
  j.validity_seconds = 86400 * 90;
  j.profile = "EndEntityCertificate/V1";
  j.params = {{"ca_arn", "arn:aws:acm-pca:eu-west-1:111122223333:certificate-authority/x"}};
  return j;
}

// One valid sample of every message, for the table-driven checks below.
std::vector<scm::message> samples() {
  scm::hello_msg hello{.seq = 1, .connector_id = "c-01", .version = "0.1.0"};
  hello.backends = {{"aws-prod", "acmpca", scm::health::healthy, ""},
                    {"dc", "digicert", scm::health::degraded, "429 from the API"}};
  scm::heartbeat_msg heartbeat{.seq = 4, .time_ms = 1700000000000};
  heartbeat.backends = std::vector<scm::backend_info>{{"dc", "digicert", scm::health::healthy, ""}};
  scm::job_msg job{.seq = 5, .lease_id = "l-1", .lease_expires_at_ms = 1700000030000};
  job.job = sample_job();
  scm::result_msg result{.seq = 7, .job_id = "job-7f3a9c"};
  result.outcome = ca::outcome::issued(cert_pem, chain_pem, "1f03a2");
  return {
      hello,
      scm::hello_ack_msg{.seq = 1, .server_time_ms = 1700000000000, .heartbeat_interval_ms = 20000},
      heartbeat,
      scm::heartbeat_ack_msg{.seq = 2, .ack = 4, .time_ms = 1700000000001},
      job,
      scm::job_ack_msg{.seq = 6,
                       .job_id = "job-7f3a9c",
                       .lease_id = "l-1",
                       .accepted = false,
                       .reason = "busy",
                       .message = "64 jobs in flight"},
      result,
      scm::result_ack_msg{.seq = 8, .job_id = "job-7f3a9c"},
      scm::pending_msg{.seq = 9,
                       .job_id = "job-7f3a9c",
                       .next_poll_at_ms = 1700000060000,
                       .message = "awaiting approval",
                       .reason = "needs_approval"},
      scm::renew_identity_msg{.seq = 10, .csr_pem = csr_pem},
      scm::identity_msg{.seq = 11, .certificate_pem = cert_pem, .chain_pem = chain_pem},
      scm::error_msg{.seq = 12,
                     .code = "unknown_job",
                     .message = "no such job",
                     .ref_seq = 7,
                     .job_id = "job-7f3a9c"},
      scm::bye_msg{
          .seq = 13, .reason = "maintenance", .message = "upgrading", .reconnect_after_ms = 30000},
      scm::cancel_msg{.seq = 14, .job_id = "job-7f3a9c", .reason = "order withdrawn"},
  };
}

// The fields each type must carry; every other field of a sample is optional.
const std::map<std::string, std::set<std::string>>& required_fields() {
  static const std::map<std::string, std::set<std::string>> table = {
      {"hello", {"type", "seq", "connector_id", "version", "protocol", "backends"}},
      {"hello_ack", {"type", "seq", "protocol", "server_time_ms", "heartbeat_interval_ms"}},
      {"heartbeat", {"type", "seq", "time_ms"}},
      {"heartbeat_ack", {"type", "seq", "ack", "time_ms"}},
      {"job", {"type", "seq", "lease_id", "lease_expires_at_ms", "job"}},
      {"job_ack", {"type", "seq", "job_id", "lease_id", "accepted", "reason"}},
      {"result", {"type", "seq", "job_id", "outcome"}},
      {"result_ack", {"type", "seq", "job_id"}},
      {"pending", {"type", "seq", "job_id", "next_poll_at_ms"}},
      {"renew_identity", {"type", "seq", "csr"}},
      {"identity", {"type", "seq", "certificate"}},
      {"error", {"type", "seq", "code", "message"}},
      {"bye", {"type", "seq", "reason"}},
      {"cancel", {"type", "seq", "job_id"}},
  };
  return table;
}

// Rebuilds a flat JSON object with one member removed, replaced or added.
std::string edit(const std::string& frame, const std::string& key,
                 std::optional<std::string> raw_value) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  REQUIRE_FALSE(parser.parse(frame).get(obj));
  std::string out = "{";
  bool first = true;
  bool seen = false;
  auto add = [&](std::string_view k, std::string_view raw) {
    if (!first) out += ',';
    first = false;
    cbcs::protocol::append_json_string(out, k);
    out += ':';
    out += raw;
  };
  for (auto [k, v] : obj) {
    if (k == key) {
      seen = true;
      if (raw_value) add(k, *raw_value);
    } else {
      add(k, simdjson::minify(v));
    }
  }
  if (!seen && raw_value) add(key, *raw_value);
  return out + "}";
}

std::string without(const std::string& frame, const std::string& key) {
  return edit(frame, key, std::nullopt);
}

std::string with(const std::string& frame, const std::string& key, const std::string& raw) {
  return edit(frame, key, raw);
}

// Decoding must fail with this kind; returns the error for further checks.
scm::scm_protocol_error failure(std::string_view frame, scm::error_kind kind) {
  try {
    (void)scm::decode(frame);
  } catch (const scm::scm_protocol_error& e) {
    CHECK(e.kind() == kind);
    std::string what = e.what();
    CHECK(what.find('\n') == std::string::npos);  // one line
    CHECK_FALSE(what.empty());
    return e;
  }
  FAIL("decoded without an error: " << frame.substr(0, 200));
  return scm::scm_protocol_error(kind, "unreachable");
}

}  // namespace

TEST_SUITE("scm messages") {
  TEST_CASE("hello, hello_ack, heartbeat and heartbeat_ack round trip") {
    auto all = samples();
    auto hello = round_trip(std::get<scm::hello_msg>(all[0]));
    CHECK(hello.connector_id == "c-01");
    CHECK(hello.version == "0.1.0");
    CHECK(hello.protocol == scm::protocol_version);
    REQUIRE(hello.backends.size() == 2);
    CHECK(hello.backends == std::get<scm::hello_msg>(all[0]).backends);

    scm::hello_msg empty{.seq = 1, .connector_id = "c-01", .version = "0.1.0"};
    CHECK(round_trip(empty).backends.empty());

    auto ack = round_trip(std::get<scm::hello_ack_msg>(all[1]));
    CHECK(ack.protocol == 1);
    CHECK(ack.server_time_ms == 1700000000000);
    CHECK(ack.heartbeat_interval_ms == 20000);

    auto beat = round_trip(std::get<scm::heartbeat_msg>(all[2]));
    CHECK(beat.time_ms == 1700000000000);
    REQUIRE(beat.backends.has_value());
    CHECK(beat.backends->size() == 1);
    // No inventory and an empty inventory are different statements.
    scm::heartbeat_msg quiet{.seq = 3, .time_ms = 5};
    CHECK_FALSE(round_trip(quiet).backends.has_value());
    scm::heartbeat_msg none_left{
        .seq = 3, .time_ms = 5, .backends = std::vector<scm::backend_info>{}};
    auto decoded = round_trip(none_left);
    REQUIRE(decoded.backends.has_value());
    CHECK(decoded.backends->empty());

    auto hack = round_trip(std::get<scm::heartbeat_ack_msg>(all[3]));
    CHECK(hack.ack == 4);
    CHECK(hack.time_ms == 1700000000001);
  }

  TEST_CASE("job carries the job codec's form; job_ack accepted and refused") {
    auto all = samples();
    auto job = round_trip(std::get<scm::job_msg>(all[4]));
    CHECK(job.lease_id == "l-1");
    CHECK(job.lease_expires_at_ms == 1700000030000);
    CHECK(ca::to_json(job.job) == ca::to_json(sample_job()));
    // The inner object is exactly job_codec's JSON.
    CHECK(cbcs::test::contains(scm::encode(all[4]), "\"job\":" + ca::to_json(sample_job())));

    for (auto op : {ca::operation::renew, ca::operation::revoke, ca::operation::inventory,
                    ca::operation::test}) {
      scm::job_msg m{.seq = 1, .lease_id = "l", .lease_expires_at_ms = 0};
      m.job.id = "j-1";
      m.job.op = op;
      m.job.backend = "b";
      m.job.serial_hex = "0a";
      m.job.reason = "keyCompromise";
      CHECK(ca::to_json(round_trip(m).job) == ca::to_json(m.job));
    }

    auto refused = round_trip(std::get<scm::job_ack_msg>(all[5]));
    CHECK_FALSE(refused.accepted);
    CHECK(refused.reason == scm::refusal::busy);
    CHECK(refused.message == "64 jobs in flight");
    scm::job_ack_msg ok{.seq = 2, .job_id = "job-1", .lease_id = "l-9", .accepted = true};
    auto accepted = round_trip(ok);
    CHECK(accepted.accepted);
    CHECK(accepted.reason.empty());
    CHECK(accepted.job_id == "job-1");
    CHECK(accepted.lease_id == "l-9");
  }

  TEST_CASE("result carries every final outcome; result_ack and pending") {
    std::vector<ca::outcome> outcomes = {
        ca::outcome::issued(cert_pem, chain_pem, "1f03a2"),
        ca::outcome::failed(ca::error_class::throttled, "rate limited", "ThrottlingException"),
        ca::outcome::failed(ca::error_class::rejected, "policy says no"),
        ca::outcome::done("{\"revoked\":true}"),
    };
    for (const auto& o : outcomes) {
      scm::result_msg m{.seq = 3, .job_id = "job-1", .outcome = o};
      auto back = round_trip(m);
      CHECK(back.job_id == "job-1");
      CHECK(ca::to_json(back.outcome) == ca::to_json(o));
    }
    auto ack = round_trip(scm::result_ack_msg{.seq = 4, .job_id = "job-1"});
    CHECK(ack.job_id == "job-1");

    auto pending = round_trip(std::get<scm::pending_msg>(samples()[8]));
    CHECK(pending.next_poll_at_ms == 1700000060000);
    CHECK(pending.message == "awaiting approval");
    CHECK(pending.reason == "needs_approval");
    auto bare = round_trip(scm::pending_msg{.seq = 1, .job_id = "j", .next_poll_at_ms = 0});
    CHECK(bare.message.empty());
    CHECK(bare.reason.empty());
    // A reason is a word: anything else is a malformed frame, named so.
    try {
      scm::decode(
          R"({"type":"pending","seq":1,"job_id":"j","next_poll_at_ms":0,"reason":"Bad Word"})");
      FAIL("a reason that is not a word was accepted");
    } catch (const scm::scm_protocol_error& e) {
      CHECK(std::string(e.what()).find("field \"reason\" must be a word") != std::string::npos);
    }
  }

  TEST_CASE("renew_identity, identity, error and bye round trip") {
    auto all = samples();
    CHECK(round_trip(std::get<scm::renew_identity_msg>(all[9])).csr_pem == csr_pem);
    auto id = round_trip(std::get<scm::identity_msg>(all[10]));
    CHECK(id.certificate_pem == cert_pem);
    CHECK(id.chain_pem == chain_pem);
    CHECK(round_trip(scm::identity_msg{.seq = 1, .certificate_pem = cert_pem}).chain_pem.empty());

    auto err = round_trip(std::get<scm::error_msg>(all[11]));
    CHECK(err.code == scm::error_code::unknown_job);
    CHECK(err.ref_seq == std::optional<std::uint64_t>(7));
    CHECK(err.job_id == "job-7f3a9c");
    auto bare = round_trip(scm::error_msg{.seq = 2, .code = "internal", .message = ""});
    CHECK_FALSE(bare.ref_seq.has_value());
    CHECK(bare.job_id.empty());
    // ref_seq 0 is a value, not "absent".
    CHECK(round_trip(scm::error_msg{.seq = 2, .code = "x", .message = "m", .ref_seq = 0}).ref_seq ==
          std::optional<std::uint64_t>(0));

    auto bye = round_trip(std::get<scm::bye_msg>(all[12]));
    CHECK(bye.reason == scm::bye_reason::maintenance);
    CHECK(bye.message == "upgrading");
    CHECK(bye.reconnect_after_ms == 30000);
    CHECK(round_trip(scm::bye_msg{.seq = 1, .reason = "shutdown"}).reconnect_after_ms == 0);
  }

  TEST_CASE("cancel: a job id, an optional reason; the outcome it ends a job with") {
    auto all = samples();
    auto cancel = round_trip(std::get<scm::cancel_msg>(all[13]));
    CHECK(cancel.job_id == "job-7f3a9c");
    CHECK(cancel.reason == "order withdrawn");
    CHECK(scm::encode(all[13]) ==
          R"({"type":"cancel","seq":14,"job_id":"job-7f3a9c","reason":"order withdrawn"})");
    auto bare = round_trip(scm::cancel_msg{.seq = 1, .job_id = "j"});
    CHECK(bare.reason.empty());
    CHECK(scm::encode(bare) == R"({"type":"cancel","seq":1,"job_id":"j"})");
    CHECK(std::get<scm::cancel_msg>(
              scm::decode(R"({"type":"cancel","seq":2,"job_id":"j","reason":null})"))
              .reason.empty());
    // Job ids follow the one rule for job ids, and are not quoted back.
    CHECK(std::string(failure(R"({"type":"cancel","seq":3,"job_id":"two words"})",
                              scm::error_kind::malformed)
                          .what()) == "cancel: field \"job_id\" is not a valid job id");
    CHECK(std::string(
              failure(R"({"type":"cancel","seq":3,"job_id":")" + std::string(129, 'j') + R"("})",
                      scm::error_kind::malformed)
                  .what()) == "cancel: field \"job_id\" is not a valid job id");
    auto e =
        failure(R"({"type":"cancel","seq":4,"job_id":"j","reason":7})", scm::error_kind::malformed);
    CHECK(std::string(e.what()) == "cancel: field \"reason\" must be a string");
    CHECK(e.seq() == std::optional<std::uint64_t>(4));
    // A reason is one line, like every free text.
    CHECK(std::get<scm::cancel_msg>(
              scm::decode(R"({"type":"cancel","seq":5,"job_id":"j","reason":"a\nb"})"))
              .reason == "a b");

    auto o = scm::cancelled_outcome("order withdrawn");
    CHECK(o.what == ca::outcome::kind::failed);
    CHECK(o.error == ca::error_class::rejected);
    CHECK_FALSE(o.retryable);
    CHECK(o.message == "cancelled by SCM: order withdrawn");
    CHECK(scm::cancelled_outcome("").message == "cancelled by SCM");
    // It travels as a result like any other.
    auto result = round_trip(scm::result_msg{.seq = 6, .job_id = "j", .outcome = o});
    CHECK(ca::to_json(result.outcome) == ca::to_json(o));
  }

  TEST_CASE("free texts come out one line and bounded; everything else as sent") {
    // A peer's message goes to the log line by line: a line break would let
    // it write a log line of its own.
    auto err = std::get<scm::error_msg>(scm::decode(
        R"({"type":"error","seq":1,"code":"internal\n","message":"a\r\nFAKE: ok\u0085b\u2028c\u2029d\te\u007f\u001b[2K"})"));
    CHECK(err.code == "internal ");
    CHECK(err.message == "a  FAKE: ok b c d e  [2K");
    auto bye = std::get<scm::bye_msg>(scm::decode(
        R"({"type":"bye","seq":1,"reason":"shut\ndown","message":"caf\u00e9 \u00a0\ud83d\ude00"})"));
    CHECK(bye.reason == "shut down");
    CHECK(bye.message == "caf\xc3\xa9 \xc2\xa0\xf0\x9f\x98\x80");  // U+00A0 is no control

    // Over max_text_bytes: cut on a character boundary, marked, and stable.
    std::string long_text;
    for (int i = 0; i < 700; ++i) long_text += "\xc3\xa9";
    auto frame = scm::encode(scm::pending_msg{.seq = 1, .job_id = "j", .message = long_text});
    auto cut = std::get<scm::pending_msg>(scm::decode(frame)).message;
    CHECK(cut.size() <= scm::max_text_bytes);
    CHECK(cut.size() >= scm::max_text_bytes - 4);
    CHECK(cut.ends_with("\xc3\xa9..."));
    CHECK(std::get<scm::pending_msg>(
              scm::decode(scm::encode(scm::pending_msg{.seq = 1, .job_id = "j", .message = cut})))
              .message == cut);
    std::string exact(scm::max_text_bytes, 'x');
    CHECK(std::get<scm::pending_msg>(
              scm::decode(scm::encode(scm::pending_msg{.seq = 1, .job_id = "j", .message = exact})))
              .message == exact);

    auto ack = std::get<scm::job_ack_msg>(scm::decode(
        R"({"type":"job_ack","seq":1,"job_id":"j","lease_id":"l","accepted":false,"reason":"busy\n","message":"x\ny"})"));
    CHECK(ack.reason == "busy ");
    CHECK(ack.message == "x y");
    auto hello = std::get<scm::hello_msg>(scm::decode(
        R"({"type":"hello","seq":1,"connector_id":"c","version":"1","protocol":1,"backends":[{"name":"a","type":"local","health":"degraded","message":"x\ny"}]})"));
    CHECK(hello.backends.at(0).message == "x y");
    // PEM keeps its lines.
    CHECK(round_trip(scm::identity_msg{.seq = 1, .certificate_pem = cert_pem}).certificate_pem ==
          cert_pem);
  }

  TEST_CASE("text survives escaping; seq reaches 2^53-1") {
    std::string tricky = "quote\" back\\ \xc3\xa9\xe2\x82\xac \\u0000";
    auto bye = round_trip(scm::bye_msg{.seq = 1, .reason = "shutdown", .message = tricky});
    CHECK(bye.message == tricky);
    // Line breaks and controls in free texts become spaces (see above).
    auto flat = scm::decode(
        scm::encode(scm::bye_msg{.seq = 1, .reason = "shutdown", .message = "nl\n tab\t ctl\x01"}));
    CHECK(std::get<scm::bye_msg>(flat).message == "nl  tab  ctl ");
    auto big = round_trip(
        scm::heartbeat_ack_msg{.seq = (std::uint64_t{1} << 53) - 1, .ack = 0, .time_ms = 0});
    CHECK(big.seq == (std::uint64_t{1} << 53) - 1);
  }

  TEST_CASE("every type lists its required fields; every other field may be left out") {
    std::set<std::string> seen;
    for (const auto& m : samples()) {
      auto frame = scm::encode(m);
      std::string type(scm::type_of(m));
      seen.insert(type);
      CAPTURE(type);
      const auto& required = required_fields().at(type);
      simdjson::dom::parser parser;
      simdjson::dom::object obj;
      REQUIRE_FALSE(parser.parse(frame).get(obj));
      std::vector<std::string> keys;
      for (auto [k, v] : obj) keys.emplace_back(k);
      for (const auto& key : keys) {
        CAPTURE(key);
        auto missing = without(frame, key);
        if (required.count(key)) {
          auto e = failure(missing, scm::error_kind::malformed);
          CHECK(cbcs::test::contains(e.what(), "\"" + key + "\""));
          if (key != "type") {
            CHECK(cbcs::test::contains(e.what(), type + ": field \"" + key + "\" is missing"));
            CHECK(e.type() == type);
          }
        } else {
          CHECK(scm::type_of(scm::decode(missing)) == type);
        }
        // null is the wrong type for a required field and "absent" for an optional one.
        auto nulled = with(frame, key, "null");
        if (required.count(key)) {
          auto e = failure(nulled, scm::error_kind::malformed);
          CHECK(cbcs::test::contains(e.what(), "\"" + key + "\" must be"));
        } else {
          CHECK_NOTHROW(scm::decode(nulled));
        }
      }
    }
    CHECK(seen.size() == std::variant_size_v<scm::message>);
    CHECK(required_fields().size() == std::variant_size_v<scm::message>);
  }

  TEST_CASE("mistyped fields name the field and never repeat its value") {
    for (const auto& m : samples()) {
      auto frame = scm::encode(m);
      simdjson::dom::parser parser;
      simdjson::dom::object obj;
      REQUIRE_FALSE(parser.parse(frame).get(obj));
      std::vector<std::string> keys;
      for (auto [k, v] : obj) keys.emplace_back(k);
      for (const auto& key : keys) {
        if (key == "type") continue;
        CAPTURE(key);
        // Whatever the field should be, this is not it.
        auto wrong = simdjson::dom::element(obj[key]).is_string()
                         ? std::string("{\"v\":\"SECRET-VALUE-42\"}")
                         : std::string("\"SECRET-VALUE-42\"");
        auto e = failure(with(frame, key, wrong), scm::error_kind::malformed);
        CHECK_FALSE(cbcs::test::contains(e.what(), "SECRET-VALUE-42"));
        CHECK(cbcs::test::contains(e.what(), "\"" + key + "\" must be"));
      }
    }
    // A job id that breaks the rules is not quoted back either.
    auto e = failure(R"({"type":"result_ack","seq":1,"job_id":"SECRET VALUE"})",
                     scm::error_kind::malformed);
    CHECK(std::string(e.what()) == "result_ack: field \"job_id\" is not a valid job id");
  }

  TEST_CASE("unknown fields are ignored, unknown types are a kind of their own") {
    auto frame = scm::encode(samples()[0]);
    auto extended = with(frame, "future_field", R"({"nested":[1,2,{"x":null}]})");
    auto m = scm::decode(extended);
    CHECK(std::get<scm::hello_msg>(m).connector_id == "c-01");
    // Unknown fields inside nested objects too.
    auto in_backend = R"({"type":"hello","seq":1,"connector_id":"c","version":"1","protocol":2,)"
                      R"("backends":[{"name":"a","type":"local","health":"healthy","zone":"x"}]})";
    CHECK(std::get<scm::hello_msg>(scm::decode(in_backend)).protocol == 2);
    auto job_frame = R"({"type":"job","seq":3,"lease_id":"l","lease_expires_at_ms":1,)"
                     R"("job":{"id":"j","operation":"test","backend":"b","priority":9},"x":1})";
    CHECK(std::get<scm::job_msg>(scm::decode(job_frame)).job.id == "j");
    // A health state from a newer peer reads as unknown.
    auto odd = R"({"type":"hello","seq":1,"connector_id":"c","version":"1","protocol":1,)"
               R"("backends":[{"name":"a","type":"local","health":"sleepy"}]})";
    CHECK(std::get<scm::hello_msg>(scm::decode(odd)).backends.at(0).state == scm::health::unknown);

    auto e = failure(R"({"type":"frobnicate","seq":42,"anything":true})",
                     scm::error_kind::unsupported_type);
    CHECK(e.type() == "frobnicate");
    CHECK(e.seq() == std::optional<std::uint64_t>(42));
    CHECK(std::string(e.what()) == "unsupported message type \"frobnicate\"");
    // Even without a seq: the answer is still unsupported_type, without ref_seq.
    auto bare = failure(R"({"type":"frobnicate"})", scm::error_kind::unsupported_type);
    CHECK_FALSE(bare.seq().has_value());
    // The type as we report it is bounded and printable.
    auto long_type = failure(
        R"({"type":")" + std::string("\\u001b[31m") + std::string(500, 'A') + R"(","seq":1})",
        scm::error_kind::unsupported_type);
    CHECK(long_type.type().size() <= 67);
    CHECK(long_type.type().find('\x1b') == std::string::npos);
    CHECK(std::string(long_type.what()).size() < 120);
    // Type names are case-sensitive.
    failure(R"({"type":"Hello","seq":1})", scm::error_kind::unsupported_type);
  }

  TEST_CASE("frames that are not JSON objects") {
    for (std::string_view bad : {"", " ", "{", "hello", "{\"type\":\"hello\",}", "{} {}",
                                 "{\"type\":\"bye\",\"seq\":1,\"reason\":\"x\"} trailing", "nul"}) {
      CAPTURE(bad);
      auto e = failure(bad, scm::error_kind::malformed);
      CHECK(cbcs::test::contains(e.what(), "frame is not valid JSON"));
      CHECK(e.type().empty());
      CHECK_FALSE(e.seq().has_value());
    }
    // A default view has no data pointer at all.
    CHECK(cbcs::test::contains(failure(std::string_view{}, scm::error_kind::malformed).what(),
                               "frame is not valid JSON"));
    CHECK_THROWS_AS(scm::decode_registration_error(std::string_view{}), scm::scm_protocol_error);
    for (std::string_view bad : {"[]", "\"hello\"", "42", "null", "true"}) {
      CAPTURE(bad);
      CHECK(std::string(failure(bad, scm::error_kind::malformed).what()) ==
            "frame is not a JSON object");
    }
    // Invalid UTF-8 inside a string.
    failure("{\"type\":\"bye\",\"seq\":1,\"reason\":\"\xff\xfe\"}", scm::error_kind::malformed);
    CHECK(std::string(failure("{}", scm::error_kind::malformed).what()) ==
          "frame has no field \"type\"");
    CHECK(std::string(failure(R"({"type":7,"seq":1})", scm::error_kind::malformed).what()) ==
          "frame: field \"type\" must be a string");
  }

  TEST_CASE("seq: missing, negative, fractional, textual, too large") {
    auto base = std::string(R"({"type":"result_ack","job_id":"j-1")");
    auto e = failure(base + "}", scm::error_kind::malformed);
    CHECK(std::string(e.what()) == "result_ack: field \"seq\" is missing");
    CHECK_FALSE(e.seq().has_value());

    e = failure(base + ",\"seq\":-1}", scm::error_kind::malformed);
    CHECK(std::string(e.what()) == "result_ack: field \"seq\" must not be negative");
    CHECK_FALSE(e.seq().has_value());

    for (std::string raw : {"1.5", "\"1\"", "true", "[1]", "1e3", "18446744073709551615"}) {
      CAPTURE(raw);
      e = failure(base + ",\"seq\":" + raw + "}", scm::error_kind::malformed);
      CHECK(std::string(e.what()) == "result_ack: field \"seq\" must be an integer");
    }
    e = failure(base + ",\"seq\":9007199254740992}", scm::error_kind::malformed);
    CHECK(std::string(e.what()) == "result_ack: field \"seq\" is too large");

    // A frame of a known type with a good seq and a bad field keeps its seq,
    // so the answer can say which frame it was about.
    e = failure(R"({"type":"result_ack","seq":17,"job_id":""})", scm::error_kind::malformed);
    CHECK(e.seq() == std::optional<std::uint64_t>(17));
    CHECK(e.type() == "result_ack");
  }

  TEST_CASE("frames over 1 MiB are refused before parsing") {
    std::string frame = R"({"type":"heartbeat","seq":1,"time_ms":0})";
    std::string exact = frame + std::string(scm::max_frame_bytes - frame.size(), ' ');
    REQUIRE(exact.size() == scm::max_frame_bytes);
    CHECK(std::holds_alternative<scm::heartbeat_msg>(scm::decode(exact)));
    auto e = failure(exact + " ", scm::error_kind::too_large);
    CHECK(cbcs::test::contains(e.what(), "1048577 bytes"));
    // Garbage of that size is too_large, not malformed: nothing was read.
    failure(std::string(scm::max_frame_bytes + 1, '{'), scm::error_kind::too_large);
  }

  TEST_CASE("rules inside the messages") {
    auto m = [](std::string body) { return std::string(R"({"seq":1,)") + body + "}"; };
    CHECK(cbcs::test::contains(
        failure(m(R"("type":"hello","connector_id":"c","version":"1","protocol":0,"backends":[])"),
                scm::error_kind::malformed)
            .what(),
        "\"protocol\" must be positive"));
    CHECK(cbcs::test::contains(
        failure(m(R"("type":"hello","connector_id":"","version":"1","protocol":1,"backends":[])"),
                scm::error_kind::malformed)
            .what(),
        "\"connector_id\" must not be empty"));
    CHECK(
        std::string(
            failure(
                m(R"("type":"hello","connector_id":"c","version":"1","protocol":1,"backends":[1])"),
                scm::error_kind::malformed)
                .what()) == "hello: backends[0] must be an object");
    CHECK(
        std::string(
            failure(
                m(R"("type":"hello","connector_id":"c","version":"1","protocol":1,"backends":[{"name":"a","health":"healthy"}])"),
                scm::error_kind::malformed)
                .what()) == "hello: backends[0]: field \"type\" is missing");
    CHECK(cbcs::test::contains(
        failure(
            m(R"("type":"hello_ack","protocol":1,"server_time_ms":1,"heartbeat_interval_ms":0)"),
            scm::error_kind::malformed)
            .what(),
        "\"heartbeat_interval_ms\" must be positive"));
    CHECK(cbcs::test::contains(
        failure(m(R"("type":"job","lease_id":"l","lease_expires_at_ms":-5,"job":{})"),
                scm::error_kind::malformed)
            .what(),
        "\"lease_expires_at_ms\" must not be negative"));
    // The job codec's own reason comes through.
    CHECK(
        std::string(
            failure(
                m(R"("type":"job","lease_id":"l","lease_expires_at_ms":1,"job":{"id":"j","backend":"b"})"),
                scm::error_kind::malformed)
                .what()) ==
        "job: field \"job\" is not a valid job: field \"operation\" is missing");
    CHECK(cbcs::test::contains(
        failure(m(R"("type":"job","lease_id":"l","lease_expires_at_ms":1,"job":"{}")"),
                scm::error_kind::malformed)
            .what(),
        "\"job\" must be an object"));
    // A refusal must say why; an acceptance need not.
    CHECK(cbcs::test::contains(
        failure(m(R"("type":"job_ack","job_id":"j","lease_id":"l","accepted":false)"),
                scm::error_kind::malformed)
            .what(),
        "job_ack: field \"reason\" is missing"));
    CHECK(cbcs::test::contains(
        failure(m(R"("type":"job_ack","job_id":"j","lease_id":"l","accepted":"yes")"),
                scm::error_kind::malformed)
            .what(),
        "\"accepted\" must be true or false"));
    // Pending is its own message, not a result.
    CHECK(cbcs::test::contains(
        failure(
            m(R"("type":"result","job_id":"j","outcome":{"outcome":"pending","poll_after_ms":5})"),
            scm::error_kind::malformed)
            .what(),
        "is pending"));
    CHECK(cbcs::test::contains(
        failure(m(R"("type":"result","job_id":"j","outcome":{"outcome":"maybe"})"),
                scm::error_kind::malformed)
            .what(),
        "result: field \"outcome\" is not a valid outcome"));
    CHECK(cbcs::test::contains(
        failure(m(R"("type":"renew_identity","csr":"MIIB")"), scm::error_kind::malformed).what(),
        "\"csr\" must be a PEM CERTIFICATE REQUEST"));
    CHECK(cbcs::test::contains(
        failure(m(R"("type":"identity","certificate":"")"), scm::error_kind::malformed).what(),
        "\"certificate\" must be a PEM CERTIFICATE"));
    CHECK(cbcs::test::contains(
        failure(m(R"("type":"error","code":"","message":"m")"), scm::error_kind::malformed).what(),
        "\"code\" must not be empty"));
    CHECK(cbcs::test::contains(failure(m(R"("type":"error","code":"x","message":"m","ref_seq":-1)"),
                                       scm::error_kind::malformed)
                                   .what(),
                               "\"ref_seq\" must not be negative"));
    CHECK(cbcs::test::contains(failure(m(R"("type":"bye","reason":"x","reconnect_after_ms":1.5)"),
                                       scm::error_kind::malformed)
                                   .what(),
                               "\"reconnect_after_ms\" must be an integer"));
  }

  TEST_CASE("error kinds have the names of the error codes that answer them") {
    CHECK(std::string_view(scm::to_string(scm::error_kind::malformed)) ==
          scm::error_code::malformed);
    CHECK(std::string_view(scm::to_string(scm::error_kind::too_large)) ==
          scm::error_code::too_large);
    CHECK(std::string_view(scm::to_string(scm::error_kind::unsupported_type)) ==
          scm::error_code::unsupported_type);
    for (auto h : {scm::health::healthy, scm::health::degraded, scm::health::unhealthy,
                   scm::health::unknown})
      CHECK(scm::health_from_string(scm::to_string(h)) == h);
    // scm_protocol_error is an invalid_argument: generic handlers catch it.
    CHECK_THROWS_AS(scm::decode("x"), std::invalid_argument);
  }
}

TEST_SUITE("scm registration") {
  TEST_CASE("request, response and error round trip") {
    scm::registration_request req{.token = "cbcs1.abc.def",
                                  .csr_pem = csr_pem,
                                  .hostname = "ca-gw-01.example.com",
                                  .os = "linux",
                                  .os_version = "Debian GNU/Linux 12 (bookworm)",
                                  .version = "0.1.0"};
    auto r = scm::decode_registration_request(scm::encode(req));
    CHECK(r.token == req.token);
    CHECK(r.csr_pem == req.csr_pem);
    CHECK(r.hostname == req.hostname);
    CHECK(r.os == req.os);
    CHECK(r.os_version == req.os_version);
    CHECK(r.version == req.version);

    scm::registration_response resp{.connector_id = "c-01",
                                    .certificate_pem = cert_pem,
                                    .chain_pem = chain_pem,
                                    .scm_ca_pem = cert_pem,
                                    .session_url = "wss://scm.example.com/api/connector/v1/session",
                                    .group = "eu-pool"};
    auto back = scm::decode_registration_response(scm::encode(resp));
    CHECK(back.connector_id == "c-01");
    CHECK(back.certificate_pem == cert_pem);
    CHECK(back.chain_pem == chain_pem);
    CHECK(back.scm_ca_pem == cert_pem);
    CHECK(back.session_url == resp.session_url);
    CHECK(back.group == "eu-pool");
    resp.chain_pem.clear();
    resp.group.clear();
    back = scm::decode_registration_response(scm::encode(resp));
    CHECK(back.chain_pem.empty());
    CHECK(back.group.empty());

    for (auto code : {scm::registration_code::token_unknown, scm::registration_code::token_expired,
                      scm::registration_code::token_used, scm::registration_code::malformed_request,
                      scm::registration_code::csr_rejected, scm::registration_code::internal}) {
      scm::registration_error err{std::string(code), "explained"};
      auto e = scm::decode_registration_error(scm::encode(err));
      CHECK(e.code == code);
      CHECK(e.message == "explained");
    }
    CHECK(cbcs::test::contains(scm::encode(scm::registration_error{"token_used", "m"}),
                               R"("error":"token_used")"));
  }

  TEST_CASE("an error's message comes out one line: `cbcs register` prints it so") {
    // Found by fuzz_scm_messages (corpus/scm_messages/registration_error_multiline.json).
    auto e = scm::decode_registration_error(
        R"({"error":"internal","message":"line one\nFAKE: registered OK\r\n\u001b[2K"})");
    CHECK(e.code == "internal");
    CHECK(e.message == "line one FAKE: registered OK   [2K");
    auto huge = scm::decode_registration_error(
        scm::encode(scm::registration_error{"internal", std::string(100000, 'm')}));
    CHECK(huge.message.size() == scm::max_text_bytes);
    // The code was sanitised already; unknown codes stay legible.
    CHECK(scm::decode_registration_error(R"({"error":"new\tcode","message":""})").code ==
          "new?code");
  }

  TEST_CASE("each error code has its HTTP status") {
    CHECK(scm::http_status_of(scm::registration_code::malformed_request) == 400);
    CHECK(scm::http_status_of(scm::registration_code::csr_rejected) == 400);
    CHECK(scm::http_status_of(scm::registration_code::token_unknown) == 401);
    CHECK(scm::http_status_of(scm::registration_code::token_expired) == 401);
    CHECK(scm::http_status_of(scm::registration_code::token_used) == 409);
    CHECK(scm::http_status_of(scm::registration_code::internal) == 500);
    CHECK(scm::http_status_of("something_new") == 500);
  }

  TEST_CASE("malformed bodies name the field, never the token") {
    scm::registration_request req{.token = "cbcs1.SECRET-TOKEN.x",
                                  .csr_pem = csr_pem,
                                  .hostname = "h",
                                  .os = "linux",
                                  .os_version = "",
                                  .version = "0.1.0"};
    auto body = scm::encode(req);
    for (std::string key : {"token", "csr", "hostname", "os", "os_version", "version"}) {
      CAPTURE(key);
      try {
        (void)scm::decode_registration_request(without(body, key));
        FAIL("decoded");
      } catch (const scm::scm_protocol_error& e) {
        CHECK(std::string(e.what()) == "registration request: field \"" + key + "\" is missing");
      }
    }
    try {
      (void)scm::decode_registration_request(with(body, "csr", "\"cbcs1.SECRET-TOKEN.x\""));
      FAIL("decoded");
    } catch (const scm::scm_protocol_error& e) {
      CHECK_FALSE(cbcs::test::contains(e.what(), "SECRET"));
    }
    CHECK_THROWS_WITH_AS(scm::decode_registration_request("not json"),
                         doctest::Contains("registration request is not valid JSON"),
                         scm::scm_protocol_error);

    scm::registration_response resp{.connector_id = "c",
                                    .certificate_pem = cert_pem,
                                    .scm_ca_pem = cert_pem,
                                    .session_url = "wss://scm"};
    auto rbody = scm::encode(resp);
    for (std::string url : {"https://scm/x", "ws://scm", "wss://", ""}) {
      CAPTURE(url);
      CHECK_THROWS_WITH_AS(
          scm::decode_registration_response(with(rbody, "session_url", "\"" + url + "\"")),
          "registration response: field \"session_url\" must be a wss:// URL",
          scm::scm_protocol_error);
    }
    CHECK_THROWS_WITH_AS(scm::decode_registration_response(with(rbody, "scm_ca", "\"x\"")),
                         "registration response: field \"scm_ca\" must be a PEM CERTIFICATE",
                         scm::scm_protocol_error);
    CHECK_THROWS_WITH_AS(scm::decode_registration_response("[]"),
                         "registration response is not a JSON object", scm::scm_protocol_error);
    CHECK_THROWS_WITH_AS(scm::decode_registration_error(R"({"message":"m"})"),
                         "registration error: field \"error\" is missing", scm::scm_protocol_error);
  }
}
