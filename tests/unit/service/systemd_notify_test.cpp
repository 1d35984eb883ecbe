// systemd's notification protocol against a socket the test listens on, and
// the health watchdog with a real runtime whose router waits on a journal
// another connection holds locked.

#include <doctest/doctest.h>

#include <unistd.h>

#include <atomic>
#include <thread>

#include <fmt/format.h>

#include "actors/connector_runtime.hpp"
#include "config/data_dir.hpp"
#include "config/journal.hpp"
#include "cli/service/health_watchdog.hpp"
#include "cli/service/systemd_notify.hpp"
#include "service/notify_socket.hpp"
#include "test_pki.hpp"

using namespace cbcs;
using namespace std::chrono_literals;
namespace svc = cbcs::cli::service;

TEST_SUITE("systemd_notify") {
  TEST_CASE(
      "abstract and path sockets hear READY, STATUS, WATCHDOG and STOPPING, one datagram each") {
    test::temp_dir dir;
    for (bool abstract : {true, false}) {
      test::notify_listener listener(abstract ? std::string{} : dir.path());
      svc::systemd_notifier n(listener.name().c_str(), nullptr, nullptr);
      REQUIRE(n.active());
      n.ready();
      n.status("connected to SCM\nWATCHDOG=1");
      n.alive();
      n.stopping();
      CHECK(listener.next(2s) == "READY=1");
      // A newline in a status cannot smuggle a second assignment in.
      CHECK(listener.next(2s) == "STATUS=connected to SCM WATCHDOG=1");
      CHECK(listener.next(2s) == "WATCHDOG=1");
      CHECK(listener.next(2s) == "STOPPING=1");
      CHECK_FALSE(listener.next(100ms).has_value());
    }
  }

  TEST_CASE("no NOTIFY_SOCKET: nothing happens; a bad one is refused with a reason") {
    svc::systemd_notifier none(nullptr, "1000000", nullptr);
    CHECK_FALSE(none.active());
    CHECK(none.watchdog_interval().count() == 0);
    none.ready();  // no-op, no crash
    svc::systemd_notifier relative("run/notify", nullptr, nullptr);
    CHECK_FALSE(relative.active());
    CHECK(relative.problem().find("neither a path") != std::string::npos);
    std::string long_name = "/" + std::string(200, 'x');
    svc::systemd_notifier too_long(long_name.c_str(), nullptr, nullptr);
    CHECK_FALSE(too_long.active());
  }

  TEST_CASE("the watchdog interval is WATCHDOG_USEC, for this process only") {
    test::notify_listener listener;
    auto me = std::to_string(::getpid());
    CHECK(svc::systemd_notifier(listener.name().c_str(), "2500000", nullptr).watchdog_interval() ==
          2500000us);
    CHECK(
        svc::systemd_notifier(listener.name().c_str(), "2500000", me.c_str()).watchdog_interval() ==
        2500000us);
    CHECK(svc::systemd_notifier(listener.name().c_str(), "2500000", "1").watchdog_interval() ==
          0us);
    CHECK(svc::systemd_notifier(listener.name().c_str(), "soon", nullptr).watchdog_interval() ==
          0us);
    CHECK(svc::systemd_notifier(listener.name().c_str(), "", nullptr).watchdog_interval() == 0us);
    // Beyond a day: a day (2^64-1 us once became a negative interval).
    CHECK(svc::systemd_notifier(listener.name().c_str(), "18446744073709551615", nullptr)
              .watchdog_interval() == std::chrono::hours(24));
  }
}

TEST_SUITE("health_watchdog") {
  TEST_CASE("WATCHDOG=1 every half interval while the router answers, none while it is blocked") {
    test::temp_dir dir;
    actors::connector_runtime runtime(
        {.data_dir = dir.path(), .durable_journal = false, .trace = false});
    // Another process holding the journal's write lock (a CLI command, a
    // backup): the router's next commit waits in SQLite until it is let go.
    config::journal holder(config::journal_file(dir.path()), false);
    test::notify_listener listener;
    svc::systemd_notifier n(listener.name().c_str(), "400000", nullptr);  // 400 ms
    std::atomic<int> failures{0}, recoveries{0};
    svc::health_watchdog watchdog(
        n, {{"the job router", [&runtime](auto timeout) { return runtime.probe(timeout); }}},
        n.watchdog_interval(), [&](const std::string& line) {
          if (line.find("did not answer") != std::string::npos) ++failures;
          if (line.find("again") != std::string::npos) ++recoveries;
        });
    // Healthy: one about every 200 ms.
    int seen = 0;
    auto start = std::chrono::steady_clock::now();
    while (seen < 4) {
      auto d = listener.next(2s);
      REQUIRE(d.has_value());
      CHECK(*d == "WATCHDOG=1");
      ++seen;
    }
    auto took = std::chrono::steady_clock::now() - start;
    CHECK(took >= 450ms);  // not a flood: four at 200 ms steps, the first at once
    // Blocked for 1.5 s: a job to commit while the lock is held. No alive()
    // during the block (a little slack for one sent just before the router
    // reached the commit).
    holder.begin();
    std::thread release([&holder] {
      std::this_thread::sleep_for(1500ms);
      holder.rollback();
    });
    runtime.submit({.id = "wedge-1",
                    .op = protocol::ca::operation::revoke,
                    .backend = "nowhere",
                    .serial_hex = "01"},
                   [](const std::string&, const protocol::ca::outcome&) {});
    auto blocked_at = std::chrono::steady_clock::now();
    while (auto d = listener.next(50ms)) {  // drain what was sent before the stall
    }
    std::optional<std::chrono::steady_clock::time_point> resumed;
    while (!resumed) {
      auto d = listener.next(3s);
      REQUIRE(d.has_value());
      resumed = std::chrono::steady_clock::now();
    }
    CHECK(*resumed - blocked_at >= 1200ms);
    CHECK(failures.load() >= 1);
    // After the block it answers again and alive() resumes at its rhythm.
    CHECK(listener.next(2s) == "WATCHDOG=1");
    CHECK(recoveries.load() >= 1);
    release.join();
    watchdog.stop();
    runtime.stop();
  }

  TEST_CASE("a stopped runtime's router does not answer") {
    test::temp_dir dir;
    actors::connector_runtime runtime(
        {.data_dir = dir.path(), .durable_journal = false, .trace = false});
    CHECK(runtime.probe(5s));
    runtime.stop();
    CHECK_FALSE(runtime.probe(200ms));
  }
}
