#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "config/config_error.hpp"
#include "config/data_dir.hpp"
#include "config/journal.hpp"
#include "config/journal_repair.hpp"
#include "config/os/this_process.hpp"
#include "protocol/ca/job_codec.hpp"
#include "test_pki.hpp"

using namespace cbcs;
namespace ca = protocol::ca;
namespace fs = std::filesystem;

namespace {

ca::job repair_test_job(const std::string& id) {
  ca::job j;
  j.id = id;
  j.op = ca::operation::enroll;
  j.backend = "local";
  // About 1 KB a job: 300 jobs fill pages enough to damage some in the middle.
  j.csr_pem = "-----BEGIN CERTIFICATE REQUEST-----\n" + std::string(1000, 'A') +
              "\n-----END CERTIFICATE REQUEST-----\n";
  j.validity_seconds = 86400;
  return j;
}

ca::outcome repair_test_issued() {
  ca::outcome o;
  o.what = ca::outcome::kind::issued;
  o.certificate_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  o.serial_hex = "01";
  return o;
}

std::string repair_test_bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

constexpr std::size_t repair_test_jobs = 300;

// 300 jobs: 100 accepted, 50 with a resume token (pending at a CA), 75
// finished, 75 finished and acknowledged. Closing checkpoints the WAL into
// the main file.
void repair_test_fill(const fs::path& file) {
  config::journal j(file);
  j.begin();
  for (std::size_t i = 0; i < repair_test_jobs; ++i) {
    auto id = "job-" + std::to_string(i);
    CHECK_FALSE(j.accept(repair_test_job(id)));
    if (i >= 100 && i < 150) j.set_resume_token(id, "order-" + std::to_string(i));
    if (i >= 150) j.finish(id, repair_test_issued());
    if (i >= 225) j.acknowledge(id);
  }
  j.commit();
}

// Overwrites leaf pages of table b-trees (type 0x0d) in the middle of the
// file with garbage, never page 1; returns how many.
std::size_t repair_test_damage(const fs::path& file, std::size_t pages) {
  auto data = repair_test_bytes(file);
  constexpr std::size_t page_size = 4096;
  std::size_t count = data.size() / page_size;
  std::vector<std::size_t> leaves;
  for (std::size_t p = count / 3; p < count; ++p)
    if (static_cast<unsigned char>(data[p * page_size]) == 0x0d) leaves.push_back(p);
  REQUIRE(leaves.size() > pages);
  std::mt19937 rng(42);
  std::fstream out(file, std::ios::binary | std::ios::in | std::ios::out);
  for (std::size_t k = 0; k < pages; ++k) {
    std::string garbage(page_size, '\0');
    for (auto& c : garbage) c = static_cast<char>(rng());
    out.seekp(static_cast<std::streamoff>(leaves[k * 2] * page_size));
    out.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  return pages;
}

}  // namespace

TEST_SUITE("journal repair") {
  TEST_CASE("check counts jobs by state on a healthy journal; repair changes nothing") {
    test::temp_dir dir;
    auto file = fs::path(dir.path()) / "journal.db";
    repair_test_fill(file);
    auto r = config::check_journal(file);
    CHECK(r.integrity_ok);
    CHECK(r.problems.empty());
    REQUIRE(r.counted);
    CHECK(r.accepted == 100);
    CHECK(r.pending == 50);
    CHECK(r.finished_unacked == 75);
    CHECK(r.acknowledged == 75);
    CHECK(r.damaged_records == 0);

    auto before = repair_test_bytes(file);
    auto repaired = config::repair_journal(file);
    CHECK_FALSE(repaired.repaired);
    CHECK(repair_test_bytes(file) == before);
    std::size_t files = 0;
    for (const auto& e : fs::directory_iterator(dir.path()))
      if (e.path().filename().string().find("damaged") != std::string::npos) ++files;
    CHECK(files == 0);
  }

  TEST_CASE("a journal with damaged pages: check names the damage, repair saves what reads") {
    test::temp_dir dir;
    auto file = fs::path(dir.path()) / "journal.db";
    repair_test_fill(file);
    repair_test_damage(file, 3);

    auto r = config::check_journal(file);
    CHECK_FALSE(r.integrity_ok);
    REQUIRE_FALSE(r.problems.empty());
    for (const auto& p : r.problems) CHECK(p.find('\n') == std::string::npos);

    auto repaired = config::repair_journal(file);
    REQUIRE(repaired.repaired);
    CHECK(repaired.jobs_saved > 0);
    CHECK(repaired.jobs_lost > 0);
    CHECK(repaired.jobs_saved + repaired.jobs_lost == repair_test_jobs);
    CHECK(fs::exists(repaired.damaged_kept));
    CHECK(repaired.damaged_kept.filename().string().starts_with("journal.db.damaged-"));
    CHECK_FALSE(fs::exists(fs::path(dir.path()) / "journal.db.repaired"));

    auto after = config::check_journal(file);
    CHECK(after.integrity_ok);
    REQUIRE(after.counted);
    CHECK(after.accepted + after.pending + after.finished_unacked + after.acknowledged ==
          repaired.jobs_saved);

    {
      // The repaired journal is a journal: it opens, finds, accepts.
      config::journal j(file);
      CHECK(j.count() == repaired.jobs_saved);
      std::size_t found = 0;
      for (std::size_t i = 0; i < repair_test_jobs; ++i)
        if (auto e = j.find("job-" + std::to_string(i))) {
          ++found;
          if (e->state == config::job_state::finished && !e->acked) CHECK(e->result);
        }
      CHECK(found == repaired.jobs_saved);
      j.begin();
      CHECK_FALSE(j.accept(repair_test_job("job-new")));
      j.commit();
    }
    CHECK(config::check_journal(file).integrity_ok);
    // Repairing again: healthy now, nothing changes.
    CHECK_FALSE(config::repair_journal(file).repaired);
  }

  TEST_CASE("the service lock names the service that would refuse repair") {
    test::temp_dir tmp;
    config::data_dir dir(fs::path(tmp.path()) / "data");
    CHECK_FALSE(config::service_lock::holder(dir));
    {
      config::service_lock service(dir);
      CHECK(config::service_lock::holder(dir) == config::process_id());
    }
    CHECK_FALSE(config::service_lock::holder(dir));
  }
}
