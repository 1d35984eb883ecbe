// The approval test type on the driver harness: pending with a reason until
// its approval file appears, then issued.

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "driver_harness.hpp"
#include "test_pki.hpp"
#include "tests/ca/approval/approval_type.hpp"

using namespace cbcs;
namespace ca = protocol::ca;

TEST_SUITE("approval test type") {
  TEST_CASE("pending (needs_approval) until approved, then issued") {
    test::temp_dir dir;
    const auto& type = test_types::approval::type();
    CHECK(type.name == "approval");
    auto driver = type.make_driver({.name = "slow", .settings = {{"approvals", dir.path()}}});
    ca::job j{.id = "job-a1",
              .op = ca::operation::enroll,
              .backend = "slow",
              .csr_pem = test::make_csr("p256", "a.example")};
    auto session = driver->start(j, {});
    ca::step_context ctx{std::chrono::system_clock::now()};
    auto first = session->next(nullptr, ctx);
    REQUIRE(std::holds_alternative<ca::outcome>(first));
    CHECK(std::get<ca::outcome>(first).what == ca::outcome::kind::pending);
    CHECK(std::get<ca::outcome>(first).pending_reason == "needs_approval");
    std::ofstream(std::filesystem::path(dir.path()) / "job-a1") << "ok";
    auto r = test::drive(*session, {}, ctx);
    CHECK(r.outcome.what == ca::outcome::kind::issued);
  }
}
