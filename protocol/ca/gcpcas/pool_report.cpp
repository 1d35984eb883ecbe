#include "protocol/ca/gcpcas/pool_report.hpp"

#include <fmt/format.h>

#include "protocol/ca/common/report_checks.hpp"
#include "protocol/ca/gcpcas/ca_service_session.hpp"
#include "protocol/common/json_writer.hpp"

namespace cbcs::protocol::ca::gcpcas {
namespace {

class pool_report final : public ca_service_session {
 public:
  pool_report(std::shared_ptr<backend_state> backend, const job& j)
      : ca_service_session(std::move(backend), j) {}

 private:
  enum class call : std::uint8_t { list_cas, iam };

  // What was found in one listed pool.
  struct pool_contents {
    std::vector<ca_info> cas;
    std::string error;  // why its CAs could not be listed
  };

  step start() override { return find_pools(); }

  step pools_listed() override {
    contents_.resize(pools_.size());
    pool_index_ = 0;
    return next_pool_cas();
  }

  step next_pool_cas() {
    if (pool_index_ >= pools_.size()) return job_.op == operation::test ? iam() : report();
    call_ = call::list_cas;
    return send(list_cas(settings_.base, pools_[pool_index_].name));
  }

  // testIamPermissions on the configured pool, else on each listed one.
  step iam() {
    if (iam_pools_.empty()) {
      if (!pool_.empty())
        iam_pools_.push_back(pool_);
      else
        for (const auto& p : pools_) iam_pools_.push_back(p.id);
      if (iam_pools_.empty()) return report();
    }
    if (iam_index_ >= iam_pools_.size()) return report();
    call_ = call::iam;
    return send(test_permissions(settings_.base, settings_.pool_path(iam_pools_[iam_index_])));
  }

  step on_reply(std::string_view body) override {
    if (call_ == call::list_cas) {
      contents_[pool_index_].cas = read_cas(body);
      ++pool_index_;
      return next_pool_cas();
    }
    missing_[iam_pools_[iam_index_]] = missing_permissions(body);
    ++iam_index_;
    return iam();
  }

  std::optional<step> on_refusal(const http_response& answer, const google_error& e) override {
    if (call_ != call::list_cas ||
        (answer.status != 403 && answer.status != 404 && e.status != "FAILED_PRECONDITION"))
      return std::nullopt;
    // One pool we may not read must not hide the others.
    contents_[pool_index_].error =
        scrub(e.message.empty() ? "HTTP " + std::to_string(answer.status) : e.message);
    ++pool_index_;
    return next_pool_cas();
  }

  step report() {
    json_writer w(false);
    w.begin_object()
        .member("project", settings_.project)
        .member("location", settings_.location)
        .key("pools")
        .begin_array();
    for (std::size_t i = 0; i < pools_.size(); ++i) {
      const auto& p = pools_[i];
      w.begin_object().member("name", p.id).member("tier", p.tier);
      if (!contents_[i].error.empty()) w.member("error", contents_[i].error);
      w.key("cas").begin_array();
      for (const auto& ca : contents_[i].cas)
        w.begin_object()
            .member("name", last_segment(ca.name))
            .member("state", ca.state)
            .member("tier", ca.tier.empty() ? p.tier : ca.tier)
            .end_object();
      w.end_array().end_object();
    }
    w.end_array();
    std::string problems;
    if (job_.op == operation::test) {
      w.key("permissions").begin_array();
      for (const auto& [pool, missing] : missing_) {
        w.begin_object().member("pool", pool).key("missing").begin_array();
        for (const auto& m : missing) w.value(m);
        w.end_array().end_object();
        if (!missing.empty()) {
          problems += (problems.empty() ? "" : "; ") + std::string("on pool ") + pool + ": ";
          for (std::size_t i = 0; i < missing.size(); ++i) problems += (i ? ", " : "") + missing[i];
        }
      }
      w.end_array();
    }
    report_checks checks;
    if (job_.op == operation::test) {
      checks.ok("service account", fmt::format("{} has a token for project {}",
                                               settings_.account.client_email, settings_.project));
      if (pools_.empty())
        checks.fail("pools", fmt::format("none in {}/{}", settings_.project, settings_.location));
      for (std::size_t i = 0; i < pools_.size(); ++i) {
        const auto& c = contents_[i];
        std::size_t enabled = 0;
        for (const auto& ca : c.cas) enabled += ca.state == "ENABLED";
        auto name = "pool " + pools_[i].id;
        if (!c.error.empty())
          checks.fail(name, c.error);
        else if (enabled == 0)
          checks.fail(name, fmt::format("{} CA(s), none ENABLED: it cannot issue", c.cas.size()));
        else
          checks.ok(name, fmt::format("{} tier, {} of {} CA(s) ENABLED", pools_[i].tier, enabled,
                                      c.cas.size()));
      }
      for (const auto& [pool, missing] : missing_)
        if (missing.empty())
          checks.ok("permissions on " + pool, "every call cbcs makes is allowed");
        else
          checks.fail("permissions on " + pool, fmt::format("lacks {}", fmt::join(missing, ", ")));
      checks.write(w);
    }
    w.end_object();
    if (!problems.empty()) {
      auto failed = outcome::failed(error_class::auth,
                                    scrub("service account " + settings_.account.client_email +
                                          " lacks permissions " + problems),
                                    "PERMISSION_DENIED");
      failed.report_json = w.str();  // the table shows what passed beside what did not
      return failed;
    }
    auto done = outcome::done(w.str());
    done.message = checks.words();
    return done;
  }

  std::string what() const override {
    if (call_ == call::iam) return "test permissions on pool " + iam_pools_[iam_index_];
    return "list the CAs of pool " + pools_[pool_index_].id;
  }

  call call_ = call::list_cas;
  std::vector<pool_contents> contents_;  // by the index of pools_
  std::size_t pool_index_ = 0;
  std::vector<std::string> iam_pools_;
  std::size_t iam_index_ = 0;
  std::map<std::string, std::vector<std::string>> missing_;  // pool id -> permissions
};

}  // namespace

std::unique_ptr<job_session> start_pool_report(std::shared_ptr<backend_state> backend,
                                               const job& j) {
  return std::make_unique<pool_report>(std::move(backend), j);
}

}  // namespace cbcs::protocol::ca::gcpcas
