#include "protocol/ca/msca/dcom_transport.hpp"

#include <fmt/format.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "protocol/ca/msca/dcom_wire.hpp"
#include "protocol/ca/msca/msca_backend.hpp"

namespace cbcs::protocol::ca::msca {
namespace {

using steady = std::chrono::steady_clock;

// E_UNEXPECTED: a call of a kind the transport does not know.
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

std::string duration_text(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return fmt::format("{} s", d.count() / 1000);
  return fmt::format("{} ms", d.count());
}

struct queued_call {
  std::optional<dcom_call> call;  // nullopt: not a DCOM call (answered 400)
  http_request request;
  transport::completion done;
  steady::time_point due;
};

// "ICertRequest2::Submit (ca01\Corp CA)"
std::string call_name(const queued_call& q) {
  if (!q.call) return "a call that is no DCOM call";
  return fmt::format("{} ({})", com_method(q.call->kind), q.call->config);
}

// What the transport and its COM threads share: a thread left in a hung
// call outlives the transport when it must, holding this.
struct shared_state {
  ca_com_maker make;
  std::chrono::milliseconds deadline;
  std::mutex mu;
  std::condition_variable work;   // workers: a call queued, stop, a new live worker
  std::condition_variable watch;  // the watchdog: a call began or ended, a thread ended
  std::deque<queued_call> queue;
  bool stopping = false;
  std::uint64_t live = 0;  // the worker that takes calls; 0: none
  std::uint64_t next_id = 1;
  // The live worker's call in progress: its completion until someone answers it.
  bool in_call = false;
  bool timed_out = false;  // answered by the watchdog; the thread is still in it
  transport::completion current_done;
  steady::time_point current_due;
  std::string current_name;
  int abandoned = 0;  // threads left in a call that did not answer, still in it
};

void answer(ca_com* com, const std::string& unavailable, const queued_call& q,
            const transport::completion& done) {
  if (!com) {
    done({}, {.kind = transport_failure::not_sent, .message = unavailable});
    return;
  }
  if (!q.call) {
    done({.status = 400,
          .body = "message=not a DCOM call: " + q.request.method + " " + q.request.url + "\n"},
         {});
    return;
  }
  com_answer a;
  try {
    a = call_com(*com, *q.call);
  } catch (const std::exception& e) {
    // Unknown whether the call reached the CA (a Submit may have): in doubt,
    // as a transport failure, never a final answer.
    done({}, {.kind = transport_failure::network,
              .message = fmt::format("{} failed: {} (AD CS over DCOM)", call_name(q), e.what())});
    return;
  }
  done(encode_answer(a), {});
}

void start_worker(const std::shared_ptr<shared_state>& s);

// One COM thread: its object made and destroyed here (a COM object stays in
// the apartment it was made in); it takes calls while it is the live one.
void serve(std::shared_ptr<shared_state> s, std::uint64_t id) {
  std::unique_ptr<ca_com> com;
  std::string unavailable;
  try {
    com = s->make ? s->make() : nullptr;
    if (!com) unavailable = "DCOM to AD CS is not available in this cbcs (Windows only)";
  } catch (const std::exception& e) {
    unavailable = fmt::format("DCOM to AD CS could not start: {}", e.what());
  }
  std::unique_lock lock(s->mu);
  for (;;) {
    s->work.wait(lock, [&] { return s->live != id || s->stopping || !s->queue.empty(); });
    if (s->live != id || s->queue.empty()) break;  // replaced, or stopping with nothing left
    auto q = std::move(s->queue.front());
    s->queue.pop_front();
    s->in_call = true;
    s->timed_out = false;
    s->current_done = std::move(q.done);
    s->current_due = q.due;
    s->current_name = call_name(q);
    s->watch.notify_all();
    lock.unlock();
    // The answer goes to whoever holds the completion then: this call's,
    // unless the watchdog answered it (timed out) meanwhile.
    answer(com.get(), unavailable, q, [s, id](http_response r, transport_error e) {
      transport::completion done;
      {
        std::lock_guard g(s->mu);
        if (s->live == id) {
          done = std::move(s->current_done);
          s->current_done = nullptr;
          // Answered: no deadline while the completion runs (unlocked).
          s->current_due = steady::time_point::max();
        }
      }
      if (done) done(std::move(r), std::move(e));
    });
    lock.lock();
    if (s->live != id) {  // left behind while in the call
      --s->abandoned;
      s->watch.notify_all();
      break;
    }
    s->in_call = false;
    s->timed_out = false;
    s->current_done = nullptr;
    s->watch.notify_all();
  }
  lock.unlock();
  com.reset();  // on this thread, in its apartment
}

// Under s->mu: the live worker (in a call) is left to it; a new one takes
// the next calls unless the transport is closing.
void abandon_live(const std::shared_ptr<shared_state>& s) {
  ++s->abandoned;
  s->in_call = false;
  s->timed_out = false;
  s->current_done = nullptr;
  s->live = 0;
  if (!s->stopping) start_worker(s);
  s->work.notify_all();
}

void start_worker(const std::shared_ptr<shared_state>& s) {
  s->live = s->next_id++;
  std::thread(serve, s, s->live).detach();
}

// Answers every call whose deadline passed; returns when the transport
// closes and nothing is left.
void watchdog(std::shared_ptr<shared_state> s) {
  std::unique_lock lock(s->mu);
  for (;;) {
    std::vector<std::pair<transport::completion, transport_error>> fire;
    auto now = steady::now();
    // A hung call already answered (another thread was left behind then):
    // left behind in its turn once that one has returned, or at once when
    // the transport closes (its destructor never waits on a hung call).
    if (s->in_call && s->timed_out && (s->abandoned == 0 || s->stopping)) abandon_live(s);
    if (s->in_call && !s->timed_out && s->current_done && now >= s->current_due) {
      fire.emplace_back(
          std::move(s->current_done),
          transport_error{.kind = transport_failure::network,
                          .message = fmt::format("{} did not answer within {} (AD CS over DCOM)",
                                                 s->current_name, duration_text(s->deadline))});
      s->current_done = nullptr;
      s->timed_out = true;
      if (s->abandoned == 0 || s->stopping) abandon_live(s);
    }
    bool no_worker = s->stopping && s->live == 0;
    while (!s->queue.empty() && (no_worker || now >= s->queue.front().due)) {
      auto q = std::move(s->queue.front());
      s->queue.pop_front();
      auto why = no_worker ? fmt::format("{} was not made: the DCOM transport closed", call_name(q))
                           : fmt::format("{} was not made within {}: {} has not answered",
                                         call_name(q), duration_text(s->deadline), s->current_name);
      fire.emplace_back(std::move(q.done),
                        transport_error{.kind = transport_failure::not_sent, .message = why});
    }
    if (!fire.empty()) {
      lock.unlock();
      for (auto& [done, error] : fire) done({}, std::move(error));
      lock.lock();
      continue;
    }
    if (s->stopping && s->queue.empty() && !s->in_call) return;
    auto next = steady::time_point::max();
    if (s->in_call && !s->timed_out) next = s->current_due;
    if (!s->queue.empty()) next = std::min(next, s->queue.front().due);
    if (next == steady::time_point::max())
      s->watch.wait(lock);
    else
      s->watch.wait_until(lock, next);
  }
}

class dcom_transport final : public transport {
 public:
  dcom_transport(ca_com_maker make, std::chrono::milliseconds deadline)
      : state_(std::make_shared<shared_state>()) {
    state_->make = std::move(make);
    state_->deadline = deadline;
    std::lock_guard lock(state_->mu);
    start_worker(state_);
    watchdog_ = std::thread(watchdog, state_);
  }

  // The live worker makes the calls already queued (each within its
  // deadline, which the watchdog keeps); a thread in a hung call is left.
  ~dcom_transport() override {
    {
      std::lock_guard lock(state_->mu);
      state_->stopping = true;
    }
    state_->work.notify_all();
    state_->watch.notify_all();
    watchdog_.join();
  }

  void send(const http_request& request, completion done) override {
    queued_call q{.call = decode_call(request),
                  .request = request,
                  .done = std::move(done),
                  .due = steady::now() + state_->deadline};
    {
      std::lock_guard lock(state_->mu);
      state_->queue.push_back(std::move(q));
    }
    state_->work.notify_all();
    state_->watch.notify_all();
  }

 private:
  std::shared_ptr<shared_state> state_;
  std::thread watchdog_;
};

}  // namespace

std::unique_ptr<transport> make_dcom_transport(ca_com_maker make,
                                               std::chrono::milliseconds deadline) {
  return std::make_unique<dcom_transport>(std::move(make), deadline);
}

// The attempt limit the drivers count on: connect + request.
std::unique_ptr<transport> make_msca_transport(const driver_config& backend,
                                               const transport_timeouts& timeouts) {
#ifdef _WIN32
  auto transport = setting(backend.settings, "transport");
  if ((transport.empty() ? default_transport : std::string_view(transport)) == "dcom")
    return make_dcom_transport(make_windows_ca_com, timeouts.connect + timeouts.request);
#else
  (void)backend;
  (void)timeouts;
#endif
  return nullptr;
}

}  // namespace cbcs::protocol::ca::msca
