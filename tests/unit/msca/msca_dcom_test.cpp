// AD CS over DCOM without a domain: the transport (-transport dcom) drives a
// fake ca_com in place of CertCli/CertAdm's objects, and the driver's reading
// of what it answered is checked for each disposition and COM failure:
// issued, taken under submission, denied (GetLastStatus named), RPC server
// unavailable and access denied. Natively and under Wine; the driver's own
// sessions over DCOM only where it runs (Windows: elsewhere -transport dcom
// is a settings problem).

#include <doctest/doctest.h>

#include <fmt/format.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "crypto/base64.hpp"
#include "crypto/pem.hpp"
#include "driver_harness.hpp"
#include "protocol/ca/msca/dcom_api.hpp"
#include "protocol/ca/msca/dcom_transport.hpp"
#include "protocol/ca/msca/dcom_wire.hpp"
#include "protocol/ca/msca/msca_driver.hpp"
#include "test_pki.hpp"

using namespace cbcs;
namespace ca = protocol::ca;
namespace msca = protocol::ca::msca;

namespace msca_dcom_test {

// What the fake was asked, and on which thread.
struct fake_log {
  std::mutex mu;
  std::vector<std::string> calls;  // "submit HOST\CA pkcs7 CertificateTemplate:X"
  std::vector<std::thread::id> threads;
  std::deque<msca::com_answer> answers;  // the next calls' answers, in order
  int made = 0;                          // ca_com objects made (one per COM thread)
  // The next `hang` calls block until `released`: a CA that does not answer.
  int hang = 0;
  int hanging = 0;  // calls blocked now
  bool released = false;
  std::condition_variable changed;
};

// ICertRequest2 and ICertAdmin2 as a script: each call answers the next.
class fake_ca_com final : public msca::ca_com {
 public:
  explicit fake_ca_com(std::shared_ptr<fake_log> log) : log_(std::move(log)) {}

  msca::com_answer submit(const std::string& config, const std::string& request_b64,
                          msca::request_format format, const std::string& attributes) override {
    return next(fmt::format("submit {} {} {} {}", config,
                            format == msca::request_format::pkcs7 ? "pkcs7" : "pkcs10", attributes,
                            request_b64.empty() ? "no request" : "request"));
  }
  msca::com_answer retrieve_pending(const std::string& config, long id) override {
    return next(fmt::format("retrieve {} {}", config, id));
  }
  msca::com_answer revoke(const std::string& config, const std::string& serial,
                          long reason) override {
    return next(fmt::format("revoke {} {} {}", config, serial, reason));
  }
  msca::com_answer resubmit(const std::string& config, long id) override {
    return next(fmt::format("resubmit {} {}", config, id));
  }
  msca::com_answer ca_property(const std::string& config, long id, long index) override {
    return next(fmt::format("property {} {} {}", config, id, index));
  }

 private:
  msca::com_answer next(std::string call) {
    std::unique_lock lock(log_->mu);
    log_->calls.push_back(std::move(call));
    log_->threads.push_back(std::this_thread::get_id());
    if (log_->hang > 0) {
      --log_->hang;
      ++log_->hanging;
      log_->changed.notify_all();
      log_->changed.wait(lock, [&] { return log_->released; });
      --log_->hanging;
      log_->changed.notify_all();
    }
    if (log_->answers.empty()) throw std::runtime_error("the fake has no answer left");
    auto a = std::move(log_->answers.front());
    log_->answers.pop_front();
    return a;
  }

  std::shared_ptr<fake_log> log_;
};

struct sent {
  ca::http_response response;
  ca::transport_error error;
};

// One request through the transport, waiting for its completion (which
// runs on the transport's thread).
// `answered`, when given, counts the completion's runs (it must run once).
sent send(ca::transport& t, const ca::http_request& request, std::atomic<int>* answered = nullptr) {
  auto p = std::make_shared<std::promise<sent>>();
  auto f = p->get_future();
  t.send(request, [p, answered](ca::http_response r, ca::transport_error e) {
    if (answered && ++*answered > 1) return;
    p->set_value({std::move(r), std::move(e)});
  });
  REQUIRE(f.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  return f.get();
}

msca::msca_settings settings() {
  msca::msca_settings s;
  s.name = "ad";
  s.server = "ca01.corp.example";
  s.ca = "Corp CA";
  s.transport = "dcom";
  return s;
}

std::string b64_of_pem(const std::string& pem) {
  auto der = crypto::pem_block_der(pem, "CERTIFICATE");
  return crypto::base64_encode(*der);
}

std::string b64(const std::string& der) {
  return crypto::base64_encode(
      crypto::byte_view(reinterpret_cast<const std::uint8_t*>(der.data()), der.size()));
}

// COM's base64 comes wrapped with CR LF: the transport makes it one line.
std::string wrapped(const std::string& b64) {
  std::string out;
  for (std::size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\r\n";
  return out;
}

// The transport over a fake answering `answers`; the request it reads.
struct rig {
  std::shared_ptr<fake_log> log = std::make_shared<fake_log>();
  std::unique_ptr<ca::transport> transport;

  explicit rig(std::chrono::milliseconds deadline = std::chrono::seconds(30))
      : transport(make(deadline)) {}

  // A test that failed early leaves no call blocked.
  ~rig() {
    std::lock_guard lock(log->mu);
    log->released = true;
    log->changed.notify_all();
  }

  std::unique_ptr<ca::transport> make(std::chrono::milliseconds deadline) {
    return msca::make_dcom_transport(
        [l = log] {
          {
            std::lock_guard lock(l->mu);
            ++l->made;
          }
          return std::make_unique<fake_ca_com>(l);
        },
        deadline);
  }

  void script(std::initializer_list<msca::com_answer> answers, int hang = 0) {
    std::lock_guard lock(log->mu);
    log->answers.insert(log->answers.end(), answers);
    log->hang += hang;
  }

  // Lets every blocked call return, and waits until they have.
  void release() {
    std::unique_lock lock(log->mu);
    log->released = true;
    log->changed.notify_all();
    REQUIRE(
        log->changed.wait_for(lock, std::chrono::seconds(10), [&] { return log->hanging == 0; }));
  }

  ca::http_request submit() {
    std::string cms = "0\x82 a CMS on behalf";
    return msca::dcom_submit(
        settings(),
        crypto::byte_view(reinterpret_cast<const std::uint8_t*>(cms.data()), cms.size()),
        msca::request_format::pkcs7, "WebServer");
  }

  // Submits once with `answer` scripted; what the driver reads of it.
  msca::ces_answer submit_answered(msca::com_answer answer) {
    {
      std::lock_guard lock(log->mu);
      log->answers.push_back(std::move(answer));
    }
    auto r = send(*transport, submit());
    CHECK_FALSE(r.error);
    return msca::read_dcom_answer(r.response, settings());
  }
};

}  // namespace msca_dcom_test

namespace mt = msca_dcom_test;

TEST_SUITE("msca dcom") {
  TEST_CASE("the wire: a call and an answer read back as written, one line each") {
    auto request = mt::rig{}.submit();
    CHECK(request.method == "CALL");
    CHECK(request.url == "dcom://ca01.corp.example/submit");
    CHECK(request.placement);
    CHECK(request.rate_class == "issue");
    auto call = msca::decode_call(request);
    REQUIRE(call);
    CHECK(call->kind == msca::dcom_call_kind::submit);
    CHECK(call->config == "ca01.corp.example\\Corp CA");
    CHECK(call->format == msca::request_format::pkcs7);
    CHECK(call->attributes == "CertificateTemplate:WebServer");
    auto retrieve = msca::dcom_retrieve(mt::settings(), "57");
    CHECK_FALSE(retrieve.placement);
    REQUIRE(msca::decode_call(retrieve));
    CHECK(msca::decode_call(retrieve)->id == 57);
    CHECK_FALSE(msca::decode_call({.method = "POST", .url = "https://ca01/x"}));
    CHECK_FALSE(msca::decode_call({.method = "CALL", .url = "dcom://ca01/format-disk"}));

    auto answer = msca::encode_answer({.hresult = 0x80094012,
                                       .disposition = msca::cr_disp_denied,
                                       .request_id = 58,
                                       .message = "Denied by Policy Module\r\nline two",
                                       .certificate_b64 = mt::wrapped(std::string(100, 'A'))});
    CHECK(answer.body.find('\r') == std::string::npos);
    auto back = msca::decode_answer(answer);
    REQUIRE(back);
    CHECK(back->hresult == 0x80094012);
    CHECK(back->disposition == msca::cr_disp_denied);
    CHECK(back->request_id == 58);
    CHECK(back->message == "Denied by Policy Module\nline two");
    CHECK(back->certificate_b64 == std::string(100, 'A'));
    CHECK_FALSE(msca::decode_answer({.status = 400, .body = "message=no"}));
  }

  TEST_CASE("the transport makes every call on the fake, on one thread of its own") {
    mt::rig r;
    {
      std::lock_guard lock(r.log->mu);
      r.log->answers = {{.disposition = msca::cr_disp_under_submission, .request_id = 57},
                        {.disposition = msca::cr_disp_under_submission, .request_id = 57}};
    }
    mt::send(*r.transport, r.submit());
    mt::send(*r.transport, msca::dcom_retrieve(mt::settings(), "57"));
    std::lock_guard lock(r.log->mu);
    REQUIRE(r.log->calls.size() == 2);
    CHECK(r.log->calls[0] ==
          "submit ca01.corp.example\\Corp CA pkcs7 CertificateTemplate:WebServer request");
    CHECK(r.log->calls[1] == "retrieve ca01.corp.example\\Corp CA 57");
    CHECK(r.log->threads[0] == r.log->threads[1]);
    CHECK(r.log->threads[0] != std::this_thread::get_id());
  }

  TEST_CASE("issued: the certificate and the chain GetCertificate gave") {
    auto root = test::make_self_signed("p256", "Corp CA");
    auto leaf = test::make_self_signed("p256", "web.example");
    auto a = mt::rig{}.submit_answered(
        {.disposition = msca::cr_disp_issued,
         .request_id = 57,
         .message = "Issued",
         .certificate_b64 = mt::wrapped(mt::b64_of_pem(leaf.cert_pem)),
         .chain_b64 = mt::wrapped(mt::b64(test::certs_only_cms(leaf.cert_pem + root.cert_pem)))});
    REQUIRE(a.what == msca::ces_answer::kind::issued);
    CHECK(a.request_id == "57");
    CHECK(a.certificate_pem == leaf.cert_pem);
    CHECK(a.chain_pem == root.cert_pem);  // the leaf left out
    CHECK(a.serial_hex == crypto::certificate_serial_hex(leaf.cert_pem));
  }

  TEST_CASE("taken under submission: pending with the request id") {
    auto a = mt::rig{}.submit_answered({.disposition = msca::cr_disp_under_submission,
                                        .request_id = 57,
                                        .message = "Taken Under Submission"});
    CHECK(a.what == msca::ces_answer::kind::pending);
    CHECK(a.request_id == "57");
  }

  TEST_CASE("denied: GetLastStatus named, its class; a manager's denial says so") {
    auto a = mt::rig{}.submit_answered({.hresult = 0x80094012,
                                        .disposition = msca::cr_disp_denied,
                                        .request_id = 58,
                                        .message = "Denied by Policy Module"});
    CHECK(a.what == msca::ces_answer::kind::refused);
    CHECK(a.failure.error == ca::error_class::auth);
    CHECK(test::contains(a.failure.message, "AD CS denied request 58"));
    CHECK(test::contains(a.failure.message, "CERTSRV_E_TEMPLATE_DENIED (0x80094012)"));
    CHECK(test::contains(a.failure.message, "Denied by Policy Module"));
    CHECK(a.failure.backend_code == "0x80094012");
    CHECK_FALSE(a.failure.retryable);

    auto m = mt::rig{}.submit_answered({.disposition = msca::cr_disp_denied, .request_id = 59});
    CHECK(m.failure.error == ca::error_class::rejected);
    CHECK(test::contains(m.failure.message, "CERTSRV_E_ADMIN_DENIED_REQUEST"));
  }

  TEST_CASE("RPC server unavailable: unavailable and retried, one line naming it") {
    auto a = mt::rig{}.submit_answered({.hresult = 0x800706BA});
    CHECK(a.what == msca::ces_answer::kind::refused);
    CHECK(a.failure.error == ca::error_class::unavailable);
    CHECK(a.failure.retryable);
    CHECK(test::contains(a.failure.message, "RPC_S_SERVER_UNAVAILABLE (0x800706BA)"));
    CHECK(test::contains(a.failure.message, "ca01.corp.example\\Corp CA"));
    CHECK(a.failure.message.find('\n') == std::string::npos);
  }

  TEST_CASE("access denied: auth, naming the identity DCOM runs as") {
    auto a = mt::rig{}.submit_answered({.hresult = 0x80070005});
    CHECK(a.failure.error == ca::error_class::auth);
    CHECK_FALSE(a.failure.retryable);
    CHECK(test::contains(a.failure.message, "E_ACCESSDENIED (0x80070005)"));
    CHECK(test::contains(a.failure.message, "the computer account"));
    CHECK(a.failure.message.find('\n') == std::string::npos);
  }

  TEST_CASE("CertCli not registered (Wine): REGDB_E_CLASSNOTREG named, not retried") {
    auto a = mt::rig{}.submit_answered({.hresult = 0x80040154});
    CHECK(a.what == msca::ces_answer::kind::refused);
    CHECK(a.failure.error == ca::error_class::rejected);
    CHECK_FALSE(a.failure.retryable);
    CHECK(test::contains(a.failure.message,
                         "over DCOM failed: REGDB_E_CLASSNOTREG (0x80040154): the COM class is "
                         "not registered on this machine"));
  }

  TEST_CASE("no COM, a ca_com that throws, an answer that cannot be read") {
    {
      auto t = msca::make_dcom_transport([] { return std::unique_ptr<msca::ca_com>(); },
                                         std::chrono::seconds(30));
      auto r = mt::send(*t, mt::rig{}.submit());
      CHECK(r.error.kind == ca::transport_failure::not_sent);
      CHECK(test::contains(r.error.message, "Windows only"));
    }
    {
      mt::rig r;  // no answer scripted: the fake throws
      auto sent = mt::send(*r.transport, r.submit());
      // The Submit may have reached the CA: in doubt, not a final refusal.
      CHECK(sent.error.kind == ca::transport_failure::network);
      CHECK(sent.error.message ==
            "ICertRequest2::Submit (ca01.corp.example\\Corp CA) failed: the fake has no answer "
            "left (AD CS over DCOM)");
      auto bad = mt::send(*r.transport, {.method = "CALL", .url = "dcom://ca01/nothing"});
      CHECK(bad.response.status == 400);
      auto b = msca::read_dcom_answer(bad.response, mt::settings());
      CHECK(b.failure.error == ca::error_class::internal);
      CHECK(test::contains(b.failure.message, "not a DCOM call"));
    }
  }

  TEST_CASE("a call that does not answer: network in time, naming it; the next call works") {
    mt::rig r(std::chrono::seconds(2));  // a new thread beats it under load
    auto& t = r.transport;
    r.script({{.disposition = msca::cr_disp_under_submission, .request_id = 57},
              {.disposition = msca::cr_disp_under_submission, .request_id = 58}},
             1);
    std::atomic<int> answered{0};
    auto hung = mt::send(*t, r.submit(), &answered);
    CHECK(hung.error.kind == ca::transport_failure::network);
    CHECK(hung.error.message ==
          "ICertRequest2::Submit (ca01.corp.example\\Corp CA) did not answer within 2 s (AD CS "
          "over DCOM)");
    // The next call goes on a new thread with a new object, and works.
    auto next = mt::send(*t, msca::dcom_retrieve(mt::settings(), "57"));
    CHECK_FALSE(next.error);
    CHECK(msca::read_dcom_answer(next.response, mt::settings()).what ==
          msca::ces_answer::kind::pending);
    {
      std::lock_guard lock(r.log->mu);
      CHECK(r.log->made == 2);
      REQUIRE(r.log->threads.size() == 2);
      CHECK(r.log->threads[0] != r.log->threads[1]);
    }
    // The hung call's late answer goes nowhere: its completion ran once.
    r.release();
    t.reset();
    CHECK(answered == 1);
  }

  TEST_CASE("hung calls: at most one thread left behind; queued calls fail not sent") {
    mt::rig r(std::chrono::seconds(2));  // a new thread beats it under load
    auto& t = r.transport;
    r.script({{.disposition = msca::cr_disp_under_submission, .request_id = 57},
              {.disposition = msca::cr_disp_under_submission, .request_id = 58},
              {.disposition = msca::cr_disp_under_submission, .request_id = 59}},
             2);
    CHECK(mt::send(*t, r.submit()).error.kind == ca::transport_failure::network);
    // The second hangs on the thread that replaced the first: answered, not replaced.
    CHECK(mt::send(*t, r.submit()).error.kind == ca::transport_failure::network);
    auto queued = mt::send(*t, msca::dcom_retrieve(mt::settings(), "57"));
    CHECK(queued.error.kind == ca::transport_failure::not_sent);
    CHECK(test::contains(queued.error.message,
                         "ICertRequest2::RetrievePending (ca01.corp.example\\Corp CA) was not "
                         "made within 2 s: ICertRequest2::Submit"));
    {
      std::lock_guard lock(r.log->mu);
      CHECK(r.log->made == 2);
      CHECK(r.log->hanging == 2);
      CHECK(r.log->calls.size() == 2);
    }
    // Both return: a call works again (on a third thread, or the second's).
    r.release();
    auto again = mt::send(*t, msca::dcom_retrieve(mt::settings(), "59"));
    CHECK_FALSE(again.error);
    std::lock_guard lock(r.log->mu);
    CHECK(r.log->made <= 3);
  }

  TEST_CASE("a completion that runs past the deadline: answered once, waited for on close") {
    const auto deadline = std::chrono::seconds(2);  // a new thread beats it under load
    mt::rig r(deadline);
    r.script({{.disposition = msca::cr_disp_under_submission, .request_id = 57}});
    std::mutex mu;
    std::condition_variable cv;
    int runs = 0;
    bool finished = false;
    ca::transport_error first;
    const auto due = std::chrono::steady_clock::now() + deadline;
    r.transport->send(r.submit(), [&](ca::http_response, ca::transport_error e) {
      {
        std::lock_guard lock(mu);
        if (++runs == 1) first = e;
        cv.notify_all();
      }
      // Still running when the call's deadline passes: the watchdog must
      // neither answer it again nor call an empty completion.
      std::this_thread::sleep_until(due + deadline / 2);
      std::lock_guard lock(mu);
      finished = true;
    });
    {
      std::unique_lock lock(mu);
      REQUIRE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return runs > 0; }));
    }
    r.transport.reset();  // waits for the completion the worker runs
    std::lock_guard lock(mu);
    CHECK(finished);
    CHECK(runs == 1);
    CHECK_FALSE(first);
  }

  TEST_CASE("closing the transport while a call hangs returns within its deadline") {
    mt::rig r(std::chrono::milliseconds(200));
    auto& t = r.transport;
    r.script({}, 1);
    std::promise<ca::transport_error> p;
    t->send(r.submit(), [&p](ca::http_response, ca::transport_error e) { p.set_value(e); });
    {
      std::unique_lock lock(r.log->mu);
      REQUIRE(r.log->changed.wait_for(lock, std::chrono::seconds(10),
                                      [&] { return r.log->hanging == 1; }));
    }
    t.reset();  // returns once the deadline has passed, the thread left behind
    auto f = p.get_future();
    REQUIRE(f.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
    CHECK(f.get().kind == ca::transport_failure::network);
    r.release();
  }

  TEST_CASE("ResubmitRequest (-autoapprove): issued, still pending, denied, not a CA manager") {
    auto resubmitted = [](msca::com_answer answer) {
      mt::rig r;
      r.script({std::move(answer)});
      auto sent = mt::send(*r.transport, msca::dcom_resubmit(mt::settings(), "57"));
      CHECK_FALSE(sent.error);
      {
        std::lock_guard lock(r.log->mu);
        CHECK(r.log->calls == std::vector<std::string>{"resubmit ca01.corp.example\\Corp CA 57"});
      }
      return msca::read_dcom_resubmit(sent.response, mt::settings(), "57");
    };
    using kind = msca::resubmit_answer::kind;
    CHECK(resubmitted({.disposition = msca::cr_disp_issued, .request_id = 57}).what ==
          kind::issued);
    CHECK(resubmitted({.disposition = msca::cr_disp_under_submission}).what == kind::pending);
    auto denied = resubmitted({.disposition = msca::cr_disp_denied, .message = "Denied by Policy"});
    CHECK(denied.what == kind::denied);
    CHECK(denied.failure.error == ca::error_class::rejected);
    CHECK(
        test::contains(denied.failure.message, "AD CS denied request 57 when cbcs resubmitted it"));
    auto refused = resubmitted({.hresult = 0x80070005});
    CHECK(refused.what == kind::not_allowed);
    CHECK(refused.failure.error == ca::error_class::auth);
    CHECK(refused.failure.message ==
          "ICertAdmin2::ResubmitRequest of request 57 at ca01.corp.example\\Corp CA: "
          "E_ACCESSDENIED (0x80070005): access is denied: the machine (the computer account the "
          "service runs as) lacks Issue and Manage Certificates on the CA");
    CHECK(resubmitted({.hresult = 0x80094009}).what == kind::not_allowed);
    // CERTSRV_E_BAD_REQUESTSTATUS: no longer pending (an earlier resubmit
    // that timed out may have issued it): RetrievePending tells.
    CHECK(resubmitted({.hresult = 0x80094003}).what == kind::not_pending);
    CHECK(resubmitted({.disposition = static_cast<long>(static_cast<std::int32_t>(0x80094003u))})
              .what == kind::not_pending);
    // [MS-CSRA] 3.1.4.1.3: a request the CA does not find comes back as
    // 0x80094004 in the disposition, with S_OK.
    auto gone =
        resubmitted({.disposition = static_cast<long>(static_cast<std::int32_t>(0x80094004u))});
    CHECK(gone.what == kind::failed);
    CHECK(test::contains(gone.failure.message, "0x80094004"));
    auto down = resubmitted({.hresult = 0x800706BA});
    CHECK(down.what == kind::failed);
    CHECK(down.failure.retryable);
  }

  TEST_CASE("-transport dcom: Windows' own transport; elsewhere a settings problem") {
    ca::driver_config c{.name = "ad"};
    c.settings = {{"server", "ca01.corp.example"}, {"ca", "Corp CA"}, {"transport", "dcom"}};
    auto d = msca::make_driver(c);
    auto* checked = dynamic_cast<ca::checks_settings*>(d.get());
    REQUIRE(checked);
    auto t = msca::make_msca_transport(c, {});
#ifdef _WIN32
    CHECK(checked->settings_problem().empty());
    CHECK(t);
#else
    CHECK(test::contains(checked->settings_problem(), "-transport dcom needs Windows"));
    CHECK_FALSE(t);
#endif
    c.settings["transport"] = "ces";
    CHECK_FALSE(msca::make_msca_transport(c, {}));
    // None given: DCOM on Windows (its default there), the HTTP client elsewhere.
    c.settings.erase("transport");
#ifdef _WIN32
    CHECK(msca::make_msca_transport(c, {}));
#else
    CHECK_FALSE(msca::make_msca_transport(c, {}));
#endif
  }

#ifdef _WIN32
  // The driver's own sessions over the transport's wire, where -transport
  // dcom is no settings problem.
  TEST_CASE("the driver over DCOM: the agent's request pending then issued, revoke, test") {
    ca::driver_config c{.name = "ad"};
    c.settings = {{"server", "ca01.corp.example"},
                  {"ca", "Corp CA"},
                  {"transport", "dcom"},
                  {"template", "WebServer"}};
    auto d = msca::make_driver(c);
    const ca::step_context ctx{std::chrono::system_clock::now()};
    auto leaf = test::make_self_signed("p256", "agent host");
    {
      ca::job j{.id = "job-1",
                .op = ca::operation::enroll,
                .backend = "ad",
                .csr_pem = test::make_csr("p256", "agent host")};
      j.params.emplace("agent", "1");
      auto s = d->start(j, "");
      test::exchange ex[] = {
          {.method = "CALL",
           .url = "dcom://ca01.corp.example/submit",
           .body_has = {"format=pkcs10", "attributes=CertificateTemplate:MachineEnrollmentAgent",
                        "config=ca01.corp.example\\\\Corp CA"},
           .answer = msca::encode_answer(
               {.disposition = msca::cr_disp_under_submission, .request_id = 57})},
          {.method = "CALL",
           .url = "dcom://ca01.corp.example/retrieve",
           .body_has = {"id=57"},
           .answer = msca::encode_answer({.disposition = msca::cr_disp_issued,
                                          .request_id = 57,
                                          .certificate_b64 = mt::b64_of_pem(leaf.cert_pem)})}};
      auto r = test::drive(*s, ex, ctx);
      CHECK(r.outcome.what == ca::outcome::kind::issued);
      CHECK(r.outcome.certificate_pem == leaf.cert_pem);
      REQUIRE_FALSE(r.interim.empty());
      CHECK(r.interim[0].pending_reason == "needs_approval");
    }
    // -autoapprove: ResubmitRequest after Submit's pending, then RetrievePending.
    c.settings["autoapprove"] = "true";
    auto approving = msca::make_driver(c);
    auto agent_job = [&](const char* id) {
      ca::job j{.id = id,
                .op = ca::operation::enroll,
                .backend = "ad",
                .csr_pem = test::make_csr("p256", "agent host")};
      j.params.emplace("agent", "1");
      return approving->start(j, "");
    };
    auto pending57 =
        msca::encode_answer({.disposition = msca::cr_disp_under_submission, .request_id = 57});
    auto issued57 = msca::encode_answer({.disposition = msca::cr_disp_issued,
                                         .request_id = 57,
                                         .certificate_b64 = mt::b64_of_pem(leaf.cert_pem)});
    {
      auto s = agent_job("job-a1");
      test::exchange ex[] = {
          {.url = "dcom://ca01.corp.example/submit", .answer = pending57},
          {.url = "dcom://ca01.corp.example/resubmit",
           .body_has = {"id=57", "config=ca01.corp.example\\\\Corp CA"},
           .answer = msca::encode_answer({.disposition = msca::cr_disp_issued, .request_id = 57})},
          {.url = "dcom://ca01.corp.example/retrieve", .body_has = {"id=57"}, .answer = issued57}};
      auto r = test::drive(*s, ex, ctx);
      CHECK(r.outcome.what == ca::outcome::kind::issued);
      CHECK(r.outcome.certificate_pem == leaf.cert_pem);
    }
    {
      // CERTSRV_E_BAD_REQUESTSTATUS (an earlier resubmit that timed out
      // issued it): fetched at once, no CA manager asked for.
      auto s = agent_job("job-a1b");
      test::exchange ex[] = {
          {.url = "dcom://ca01.corp.example/submit", .answer = pending57},
          {.url = "dcom://ca01.corp.example/resubmit",
           .answer = msca::encode_answer({.hresult = 0x80094003})},
          {.url = "dcom://ca01.corp.example/retrieve", .body_has = {"id=57"}, .answer = issued57}};
      auto r = test::drive(*s, ex, ctx);
      CHECK(r.outcome.what == ca::outcome::kind::issued);
      REQUIRE(r.interim.size() >= 2);
      CHECK(r.interim[1].pending_reason == "processing");
      CHECK_FALSE(test::contains(r.interim[1].message, "CA manager"));
    }
    {
      // Not a CA manager: pending for one, saying why; never resubmitted again.
      auto s = agent_job("job-a2");
      test::exchange ex[] = {{.url = "dcom://ca01.corp.example/submit", .answer = pending57},
                             {.url = "dcom://ca01.corp.example/resubmit",
                              .answer = msca::encode_answer({.hresult = 0x80070005})},
                             {.url = "dcom://ca01.corp.example/retrieve", .answer = pending57},
                             {.url = "dcom://ca01.corp.example/retrieve", .answer = issued57}};
      auto r = test::drive(*s, ex, ctx);
      CHECK(r.outcome.what == ca::outcome::kind::issued);
      REQUIRE(r.interim.size() >= 3);
      CHECK(r.interim[1].pending_reason == "needs_approval");
      CHECK(test::contains(r.interim[1].message, "lacks Issue and Manage Certificates"));
      CHECK(test::contains(r.interim[2].message, "lacks Issue and Manage Certificates"));
      CHECK(r.interim[1].message.find('\n') == std::string::npos);
    }
    {
      auto s = agent_job("job-a3");
      test::exchange ex[] = {
          {.url = "dcom://ca01.corp.example/submit", .answer = pending57},
          {.url = "dcom://ca01.corp.example/resubmit",
           .answer = msca::encode_answer({.disposition = msca::cr_disp_denied})}};
      auto r = test::drive(*s, ex, ctx);
      CHECK(r.outcome.what == ca::outcome::kind::failed);
      CHECK(r.outcome.error == ca::error_class::rejected);
      CHECK(test::contains(r.outcome.message, "AD CS denied request 57 when cbcs resubmitted it"));
    }
    for (auto [reason, code] :
         {std::pair{"certificateHold", "reason=6"}, std::pair{"removeFromCRL", "reason=8"},
          std::pair{"", "reason=0"}}) {
      auto s = d->start({.id = "job-2",
                         .op = ca::operation::revoke,
                         .backend = "ad",
                         .serial_hex = "0A:DC",
                         .reason = reason},
                        "");
      test::exchange ex[] = {{.method = "CALL",
                              .url = "dcom://ca01.corp.example/revoke",
                              .body_has = {"serial=0adc", code},
                              .answer = msca::encode_answer({})}};
      CHECK(test::drive(*s, ex, ctx).outcome.what == ca::outcome::kind::done);
    }
    {
      auto s = d->start({.id = "job-3",
                         .op = ca::operation::revoke,
                         .backend = "ad",
                         .serial_hex = "0adc",
                         .reason = "keyCompromise"},
                        "");
      test::exchange ex[] = {{.method = "CALL",
                              .url = "dcom://ca01.corp.example/revoke",
                              .answer = msca::encode_answer({.hresult = 0x80070005})}};
      auto r = test::drive(*s, ex, ctx);
      CHECK(r.outcome.error == ca::error_class::auth);
      CHECK(test::contains(r.outcome.message, "E_ACCESSDENIED (0x80070005)"));
    }
    {
      auto s = d->start({.id = "job-4",
                         .op = ca::operation::revoke,
                         .backend = "ad",
                         .serial_hex = "0adc",
                         .reason = "privilegeWithdrawn"},
                        "");
      auto r = test::drive(*s, {}, ctx);
      CHECK(r.outcome.error == ca::error_class::invalid_request);
    }
    {
      auto root = test::make_self_signed("p256", "Corp CA");
      auto s = d->start({.id = "job-5", .op = ca::operation::test, .backend = "ad"}, "");
      test::exchange ex[] = {
          {.url = "dcom://ca01.corp.example/property",
           .body_has = {"id=6"},
           .answer = msca::encode_answer({.value = "Corp CA"})},
          {.url = "dcom://ca01.corp.example/property",
           .body_has = {"id=12", "index=-1"},
           .answer = msca::encode_answer({.value = mt::b64_of_pem(root.cert_pem)})},
          {.url = "dcom://ca01.corp.example/property",
           .body_has = {"id=29"},
           .answer = msca::encode_answer(
               {.value = "WebServer\n1.3.6.1.4.1.311.21.8.1\nUser\n1.3.6.1.4.1.311.21.8.2\n"})}};
      auto r = test::drive(*s, ex, ctx);
      CHECK(r.outcome.what == ca::outcome::kind::done);
      CHECK(test::contains(r.outcome.report_json, "\"WebServer\""));
      CHECK(test::contains(r.outcome.message, "does not publish template MachineEnrollmentAgent"));
    }
  }
#endif
}
