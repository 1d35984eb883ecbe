#include "protocol/ca/msca/dcom_transport.hpp"

#include <fmt/format.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

#include "protocol/ca/msca/dcom_wire.hpp"

namespace cbcs::protocol::ca::msca {
namespace {

// E_UNEXPECTED: a ca_com that threw rather than answering with an HRESULT.
constexpr std::uint32_t e_unexpected = 0x8000FFFF;

com_answer call_com(ca_com& com, const dcom_call& c) {
  switch (c.kind) {
    case dcom_call_kind::submit:
      return com.submit(c.config, c.request_b64, c.format, c.attributes);
    case dcom_call_kind::retrieve:
      return com.retrieve_pending(c.config, c.id);
    case dcom_call_kind::revoke:
      return com.revoke(c.config, c.serial_hex, c.reason);
    case dcom_call_kind::resubmit:
      return com.resubmit(c.config, c.id);
    case dcom_call_kind::property:
      return com.ca_property(c.config, c.id, c.index);
  }
  return {.hresult = e_unexpected};
}

class dcom_transport final : public transport {
 public:
  explicit dcom_transport(ca_com_maker make) : make_(std::move(make)) {}

  ~dcom_transport() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    worker_.join();
  }

  void send(const http_request& request, completion done) override {
    {
      std::lock_guard lock(mu_);
      queue_.emplace_back(request, std::move(done));
    }
    wake_.notify_one();
  }

 private:
  void serve() {
    // Made and destroyed here: a COM object stays in the apartment it was made in.
    std::unique_ptr<ca_com> com;
    std::string unavailable;
    try {
      com = make_ ? make_() : nullptr;
      if (!com) unavailable = "DCOM to AD CS is not available in this cbcs (Windows only)";
    } catch (const std::exception& e) {
      unavailable = fmt::format("DCOM to AD CS could not start: {}", e.what());
    }
    std::unique_lock lock(mu_);
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      auto [request, done] = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      answer(com.get(), unavailable, request, done);
      lock.lock();
    }
  }

  static void answer(ca_com* com, const std::string& unavailable, const http_request& request,
                     const completion& done) {
    if (!com) {
      done({}, {.kind = transport_failure::not_sent, .message = unavailable});
      return;
    }
    auto call = decode_call(request);
    if (!call) {
      done({.status = 400,
            .body = "message=not a DCOM call: " + request.method + " " + request.url + "\n"},
           {});
      return;
    }
    com_answer a;
    try {
      a = call_com(*com, *call);
    } catch (const std::exception& e) {
      a = {.hresult = e_unexpected, .message = e.what()};
    }
    done(encode_answer(a), {});
  }

  ca_com_maker make_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::pair<http_request, completion>> queue_;
  bool stopping_ = false;
  std::thread worker_{[this] { serve(); }};  // last: the members above exist
};

}  // namespace

std::unique_ptr<transport> make_dcom_transport(ca_com_maker make) {
  return std::make_unique<dcom_transport>(std::move(make));
}

// COM gives its calls no deadline of ours: DCOM's own (RPC) timeouts apply.
std::unique_ptr<transport> make_msca_transport(const driver_config& backend,
                                               const transport_timeouts&) {
#ifdef _WIN32
  if (setting(backend.settings, "transport") == "dcom")
    return make_dcom_transport(make_windows_ca_com);
#else
  (void)backend;
#endif
  return nullptr;
}

}  // namespace cbcs::protocol::ca::msca
