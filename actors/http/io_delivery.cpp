#include "actors/http/io_delivery.hpp"

#include <caf/actor_system.hpp>
#include <caf/execution_unit.hpp>
#include <caf/resumable.hpp>
#include <caf/scheduled_actor.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>

#include <memory>

#include "actors/http/http_client.hpp"
#include "crypto/per_thread.hpp"

namespace cbcs::actors {
namespace {

// The I/O thread as a CAF execution unit for the actors its answers wake.
// CAF runs an actor woken by a send on the sender's execution unit; here
// that is only the actor the answer is for. Whatever else it wakes goes to
// the scheduler, so the I/O thread never takes on the rest of the system.
class io_execution_unit final : public caf::execution_unit {
 public:
  explicit io_execution_unit(io_runner& runner) : runner_(runner) {}

  void deliver(caf::abstract_actor& to, caf::message msg) {
    system_ = &to.home_system();
    target_ = dynamic_cast<caf::resumable*>(&to);
    struct clear_target {
      caf::resumable*& target;
      ~clear_target() { target = nullptr; }
    } clear{target_};
    to.enqueue(nullptr, caf::make_message_id(), std::move(msg), this);
  }

  void exec_later(caf::resumable* job) override {
    // The reference CAF took for the schedule travels with the job.
    if (job != target_) return system_->scheduler().enqueue(job);
    post_to(runner_, [this, job, sys = system_] { run(job, sys); });
  }

 private:
  // An answer or two, and what they set off, run here. A backlog (a burst of
  // new jobs) goes to the scheduler's threads: the I/O thread also carries
  // the SCM session and every other backend's sockets.
  static constexpr std::size_t max_throughput = 32;

  void run(caf::resumable* job, caf::actor_system* sys) {
    system_ = sys;
    switch (job->resume(this, max_throughput)) {
      case caf::resumable::resume_later:
        sys->scheduler().enqueue(job);
        break;
      case caf::resumable::done:
      case caf::resumable::awaiting_message:
        intrusive_ptr_release(job);
        break;
      case caf::resumable::shutdown_execution_unit:
        break;  // only the scheduler's own shutdown job says this
    }
  }

  io_runner& runner_;
  caf::resumable* target_ = nullptr;
};

}  // namespace

void send_from_io(const caf::strong_actor_ptr& to, caf::message msg) {
  if (!to) return;
  auto* runner = current_io_runner();
  if (!runner) {
    to->get()->enqueue(nullptr, caf::make_message_id(), std::move(msg), nullptr);
    return;
  }
  // One per I/O thread, made on it; it lives as long as the thread.
  CBCS_PER_THREAD(std::unique_ptr<io_execution_unit>, unit);
  if (!unit) unit = std::make_unique<io_execution_unit>(*runner);
  unit->deliver(*to->get(), std::move(msg));
}

}  // namespace cbcs::actors
