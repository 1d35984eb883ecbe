#include <doctest/doctest.h>

#include <sqlite3.h>

#include <chrono>
#include <filesystem>

#include <fmt/format.h>

#include "config/config_error.hpp"
#include "config/journal.hpp"
#include "protocol/ca/job_codec.hpp"
#include "protocol/common/sqlite_file.hpp"
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

// Runs SQL on the file directly, as an older cbcs or a damaged disk would leave it.
void raw_sql(const std::filesystem::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(protocol::sqlite_file_name(file).c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string message = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE_MESSAGE(rc == SQLITE_OK, message);
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

  TEST_CASE("acknowledged jobs leave after their retention, oldest first; open ones never") {
    using namespace std::chrono;
    test::temp_dir dir;
    config::journal j(std::filesystem::path(dir.path()) / "journal.db");
    auto now = system_clock::now();
    j.begin();
    for (auto id : {"old1", "old2", "old3", "new", "unacked", "open"}) j.accept(make_job(id));
    for (auto id : {"old1", "old2", "old3", "new", "unacked"})
      j.finish(id, ca::outcome::issued("CERT", "", "01"));
    j.acknowledge("old2", now - hours(24 * 9));
    j.acknowledge("old1", now - hours(24 * 8));
    j.acknowledge("old3", now - hours(24 * 10));
    j.acknowledge("new", now - hours(1));
    j.commit();
    j.begin();
    CHECK(j.prune(now - hours(24 * 7), 2) == 2);  // a bounded batch: the two oldest
    j.commit();
    CHECK_FALSE(j.find("old3"));
    CHECK_FALSE(j.find("old2"));
    CHECK(j.find("old1"));
    j.begin();
    CHECK(j.prune(now - hours(24 * 7), 2) == 1);
    CHECK(j.prune(now - hours(24 * 7), 2) == 0);
    j.commit();
    CHECK(j.count() == 3);
    CHECK(j.find("new"));
    CHECK(j.find("open"));
    auto unacked = j.unacknowledged_results();
    REQUIRE(unacked.size() == 1);
    CHECK(unacked[0].job.id == "unacked");
    CHECK(unacked[0].result->certificate_pem == "CERT");
    // A second acknowledgement does not restart the retention.
    j.begin();
    j.acknowledge("new", now - hours(24 * 30));
    CHECK(j.prune(now - hours(24 * 7), 100) == 0);
    // A job still open that a CLI command acknowledged (it stopped waiting
    // for a pending order) keeps its resume token for good.
    j.set_resume_token("open", "order-42");
    j.acknowledge("open", now - hours(24 * 30));
    CHECK(j.prune(now - hours(24 * 7), 100) == 0);
    j.commit();
    REQUIRE(j.find("open"));
    CHECK(j.find("open")->resume_token == "order-42");
  }

  TEST_CASE("the first result of a job is its result") {
    test::temp_dir dir;
    config::journal j(std::filesystem::path(dir.path()) / "journal.db");
    j.begin();
    j.accept(make_job("a"));
    j.finish("a", ca::outcome::issued("FIRST", "", "01"));
    j.finish("a", ca::outcome::failed(ca::error_class::internal, "late"));
    j.commit();
    CHECK(j.find("a")->result->certificate_pem == "FIRST");
  }

  TEST_CASE("another process's commit between a read and a write never locks the journal") {
    // Seen: the service read a job back (find), a CLI command on the same
    // data directory committed, and every later commit of the service failed
    // "database is locked" until a restart.
    test::temp_dir dir;
    auto file = std::filesystem::path(dir.path()) / "journal.db";
    config::journal service(file);
    service.begin();
    CHECK_FALSE(service.accept(make_job("pending")));
    service.commit();
    REQUIRE(service.find("pending"));
    CHECK(service.count() == 1);
    service.begin();
    REQUIRE(service.accept(make_job("pending")));  // a duplicate is read back inside accept
    service.commit();

    config::journal cli(file);
    cli.begin();
    CHECK_FALSE(cli.accept(make_job("from-cli")));
    cli.commit();

    service.begin();
    CHECK_FALSE(service.accept(make_job("from-scm")));
    service.commit();
    CHECK(service.count() == 3);
    CHECK(cli.find("from-scm"));
  }

  TEST_CASE("a busy journal is a delay: a failed begin is followed by one that works") {
    test::temp_dir dir;
    auto file = std::filesystem::path(dir.path()) / "journal.db";
    config::journal service(file);
    sqlite3* other = nullptr;
    REQUIRE(sqlite3_open(protocol::sqlite_file_name(file).c_str(), &other) == SQLITE_OK);
    REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
    service.set_busy_wait(std::chrono::milliseconds(50));
    bool refused = false;
    try {
      service.begin();
    } catch (const config::journal_error& e) {
      refused = true;
      CHECK(e.sqlite_code() == SQLITE_BUSY);
      service.rollback();
    }
    CHECK(refused);
    REQUIRE(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(other);
    service.begin();
    CHECK_FALSE(service.accept(make_job("after")));
    service.commit();
  }

  TEST_CASE("SQLite's refusals are journal errors with SQLite's code") {
    test::temp_dir dir;
    config::journal j(std::filesystem::path(dir.path()) / "journal.db");
    j.set_max_pages(1);
    j.begin();
    auto big = make_job("big");
    big.params["note"] = std::string(20000, 'x');
    try {
      j.accept(big);
      j.commit();
      FAIL("a full journal accepted 20 KB");
    } catch (const config::journal_error& e) {
      CHECK(e.sqlite_code() == SQLITE_FULL);
    }
    j.rollback();
    j.rollback();  // twice is harmless
    CHECK_FALSE(j.find("big"));
  }

  TEST_CASE("a journal of schema version 1 is carried over when opened") {
    test::temp_dir dir;
    auto file = std::filesystem::path(dir.path()) / "journal.db";
    auto request = [](const char* id) { return ca::to_json(make_job(id)); };
    {
      auto sql = fmt::format(
          R"sql(CREATE TABLE jobs (id TEXT PRIMARY KEY, request TEXT NOT NULL,
                state INTEGER NOT NULL, resume_token TEXT NOT NULL DEFAULT '', result TEXT,
                acked INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
             INSERT INTO jobs VALUES('open', '{}', 0, 'arn:cert/9', NULL, 0);
             INSERT INTO jobs VALUES('done', '{}', 1, '', '{}', 0);
             INSERT INTO jobs VALUES('acked', '{}', 1, '', '{}', 1);)sql",
          request("open"), request("done"), ca::to_json(ca::outcome::issued("C1", "", "0d")),
          request("acked"), ca::to_json(ca::outcome::issued("C2", "", "0e")));
      raw_sql(file, sql);
    }
    config::journal j(file);
    // What SCM already holds is not carried over (version 1 never pruned).
    CHECK(j.count() == 2);
    CHECK_FALSE(j.find("acked"));
    auto open = j.unfinished();
    REQUIRE(open.size() == 1);
    CHECK(open[0].resume_token == "arn:cert/9");
    auto unacked = j.unacknowledged_results();
    REQUIRE(unacked.size() == 1);
    CHECK(unacked[0].result->serial_hex == "0d");
  }

  TEST_CASE("a journal from a newer cbcs is refused with a clear error, not rewritten") {
    test::temp_dir dir;
    auto file = std::filesystem::path(dir.path()) / "journal.db";
    raw_sql(file, "PRAGMA user_version = 99");
    CHECK_THROWS_WITH_AS(config::journal{file}, doctest::Contains("newer cbcs"),
                         config::config_error);
  }

  TEST_CASE("a damaged record hides no other job; reading it says it is damaged") {
    test::temp_dir dir;
    auto file = std::filesystem::path(dir.path()) / "journal.db";
    config::journal(file).accept(make_job("good"));  // outside a transaction: its own commit
    raw_sql(file, "INSERT INTO job(id, request) VALUES('bad', '{not json')");
    config::journal j(file);
    auto open = j.unfinished();
    REQUIRE(open.size() == 1);
    CHECK(open[0].job.id == "good");
    CHECK(j.damaged_entries() == 1);
    CHECK_THROWS_AS(j.find("bad"), config::config_error);
    try {
      j.find("bad");
    } catch (const config::journal_error&) {
      FAIL("a damaged record is not a SQLite failure");
    } catch (const config::config_error&) {
    }
  }
}
