#include <doctest/doctest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "actors/http/http_client.hpp"
#include "actors/http/io_delivery.hpp"

namespace cbcs {
namespace {

// Which thread ran each message, by its number.
struct ran_on {
  std::mutex mu;
  std::map<int, std::thread::id> threads;

  void note(int n) {
    std::lock_guard lock(mu);
    threads[n] = std::this_thread::get_id();
  }
  std::thread::id wait_for(int n) {
    for (int i = 0; i < 500; ++i) {
      {
        std::lock_guard lock(mu);
        if (auto it = threads.find(n); it != threads.end()) return it->second;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return {};
  }
};

// Notes its message, and passes 101..999 on to `next` (plus one).
caf::behavior recorder(caf::event_based_actor* self, std::shared_ptr<ran_on> log, caf::actor next) {
  return {[=](int n) {
    log->note(n);
    if (n > 100 && n < 1000 && next) self->send(next, n + 1);
  }};
}

std::thread::id thread_of(actors::io_runner& io) {
  std::promise<std::thread::id> id;
  actors::post_to(io, [&] { id.set_value(std::this_thread::get_id()); });
  return id.get_future().get();
}

}  // namespace

TEST_SUITE("io_delivery") {
  TEST_CASE("an answer on the I/O thread runs its actor there, and only that actor") {
    auto io = actors::make_io_runner();  // outlives the actor system below
    auto io_thread = thread_of(*io);
    CHECK(actors::current_io_runner() == nullptr);
    {
      caf::actor_system_config cfg;
      caf::actor_system sys{cfg};
      auto log = std::make_shared<ran_on>();
      auto second = sys.spawn(recorder, log, caf::actor{});
      auto first = sys.spawn(recorder, log, second);
      auto to_first = caf::actor_cast<caf::strong_actor_ptr>(first);
      // Both idle first: an actor still starting up on a scheduler thread
      // would take its next message there.
      caf::anon_send(first, 0);
      caf::anon_send(second, -1);
      REQUIRE(log->wait_for(0) != std::thread::id{});
      REQUIRE(log->wait_for(-1) != std::thread::id{});
      std::this_thread::sleep_for(std::chrono::milliseconds(100));

      actors::post_to(*io, [&] {
        CHECK(actors::current_io_runner() == io.get());
        actors::send_from_io(to_first, caf::make_message(1));
      });
      CHECK(log->wait_for(1) == io_thread);

      // What the actor sends from there goes to the scheduler's threads.
      actors::post_to(*io, [&] { actors::send_from_io(to_first, caf::make_message(200)); });
      CHECK(log->wait_for(200) == io_thread);
      auto forwarded = log->wait_for(201);
      CHECK(forwarded != std::thread::id{});
      CHECK(forwarded != io_thread);

      // A burst: the first messages run here, the rest on the scheduler's
      // threads (the I/O thread carries every socket); none is lost.
      actors::post_to(*io, [&] {
        for (int n = 1000; n < 1100; ++n) actors::send_from_io(to_first, caf::make_message(n));
      });
      CHECK(log->wait_for(1000) == io_thread);
      auto last = log->wait_for(1099);
      CHECK(last != std::thread::id{});
      CHECK(last != io_thread);

      // From any other thread it is an ordinary send.
      actors::send_from_io(to_first, caf::make_message(2));
      auto other = log->wait_for(2);
      CHECK(other != std::thread::id{});
      CHECK(other != io_thread);
      caf::anon_send_exit(first, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(second, caf::exit_reason::user_shutdown);
    }
  }
}

}  // namespace cbcs
