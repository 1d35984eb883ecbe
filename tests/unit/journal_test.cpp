#include <doctest/doctest.h>

#include <filesystem>

#include "config/journal.hpp"
#include "test_pki.hpp"

using namespace cbcs;
namespace ca = protocol::ca;

namespace {

ca::job make_job(const std::string& id) {
  ca::job j;
  j.id = id;
  j.op = ca::operation::enroll;
  j.backend = "local";
  j.csr_pem = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n";
  j.validity_seconds = 86400;
  j.params["ca_arn"] = "arn:aws:acm-pca:eu-west-1:1:certificate-authority/x";
  return j;
}

}  // namespace

TEST_SUITE("journal") {
  TEST_CASE("a job id is accepted once; a second time the journal answers") {
    test::temp_dir dir;
    config::journal j(std::filesystem::path(dir.path()) / "journal.db");
    j.begin();
    CHECK_FALSE(j.accept(make_job("a")));
    auto again = j.accept(make_job("a"));
    j.commit();
    REQUIRE(again);
    CHECK(again->state == config::job_state::accepted);
    CHECK(again->job.params.at("ca_arn").starts_with("arn:"));
    CHECK(j.count() == 1);
  }

  TEST_CASE("results, resume tokens and acknowledgements survive reopening") {
    test::temp_dir dir;
    auto file = std::filesystem::path(dir.path()) / "journal.db";
    {
      config::journal j(file);
      j.begin();
      j.accept(make_job("a"));
      j.accept(make_job("b"));
      j.accept(make_job("c"));
      j.set_resume_token("b", "arn:cert/123");
      j.finish("a", ca::outcome::issued("CERT", "CHAIN", "0a1b"));
      j.finish("c", ca::outcome::failed(ca::error_class::rejected, "no", "Denied"));
      j.acknowledge("c");
      j.commit();
    }
    config::journal j(file);
    auto unfinished = j.unfinished();
    REQUIRE(unfinished.size() == 1);
    CHECK(unfinished[0].job.id == "b");
    CHECK(unfinished[0].resume_token == "arn:cert/123");
    auto unacked = j.unacknowledged_results();
    REQUIRE(unacked.size() == 1);
    CHECK(unacked[0].job.id == "a");
    REQUIRE(unacked[0].result);
    CHECK(unacked[0].result->serial_hex == "0a1b");
    auto c = j.find("c");
    REQUIRE(c);
    CHECK(c->acked);
    CHECK(c->result->error == ca::error_class::rejected);
    CHECK(c->result->backend_code == "Denied");
    CHECK_FALSE(j.find("zzz"));
  }

  TEST_CASE("an uncommitted batch is gone after a crash, a committed one is not") {
    test::temp_dir dir;
    auto file = std::filesystem::path(dir.path()) / "journal.db";
    {
      config::journal j(file);
      j.begin();
      j.accept(make_job("kept"));
      j.commit();
      j.begin();
      j.accept(make_job("lost"));
      // destroyed without commit: SQLite rolls the open transaction back
    }
    config::journal j(file);
    CHECK(j.find("kept"));
    CHECK_FALSE(j.find("lost"));
  }
}
