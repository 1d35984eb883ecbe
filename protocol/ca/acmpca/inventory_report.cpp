#include "protocol/ca/acmpca/inventory_report.hpp"

#include <set>
#include <vector>

#include <fmt/format.h>

#include "crypto/pem.hpp"
#include "protocol/ca/acmpca/signed_session.hpp"
#include "protocol/ca/common/report_checks.hpp"
#include "protocol/common/json_writer.hpp"

namespace cbcs::protocol::ca::acmpca {
namespace {

// ListCertificateAuthorities returns at most 100 per page; bound the walk.
constexpr int max_list_pages = 1000;

// One CA in the report.
struct ca_entry {
  std::string arn;
  authority described;
  std::string error;
};

class inventory_report final : public signed_session {
 public:
  explicit inventory_report(std::shared_ptr<backend_state> backend)
      : signed_session(std::move(backend)) {}

 private:
  enum class state { list, describe, certificate };

  step start() override { return list_page(); }

  step list_page() {
    state_ = state::list;
    return send(list_call(next_token_));
  }

  step on_result(const http_response& answer) override {
    switch (state_) {
      case state::list:
        return on_page(parse_authority_page(answer.body));
      case state::describe:
        return on_describe(parse_authority(answer.body));
      case state::certificate:
        return on_certificate(parse_ca_certificate(answer.body));
    }
    return internal("response in an unexpected state");
  }

  step on_failure(outcome failure) override {
    // One CA in a bad state must not hide the others.
    if (state_ != state::list &&
        (failure.error == error_class::rejected || failure.error == error_class::invalid_request)) {
      cas_[ca_index_].error = failure.message;
      return next_ca();
    }
    return failure;
  }

  step on_page(authority_page page) {
    for (auto& arn : page.arns) cas_.push_back(ca_entry{.arn = std::move(arn)});
    if (!page.next_token.empty()) {
      if (!seen_tokens_.insert(page.next_token).second || ++pages_ >= max_list_pages)
        return internal("ListCertificateAuthorities keeps returning more pages");
      next_token_ = page.next_token;
      return list_page();
    }
    ca_index_ = 0;
    if (cas_.empty()) return report();
    return describe();
  }

  step describe() {
    state_ = state::describe;
    return send(describe_call(cas_[ca_index_].arn));
  }

  step on_describe(authority described) {
    auto& entry = cas_[ca_index_];
    entry.described = std::move(described);
    // Only a CA with an installed certificate can hand it out.
    const auto& status = entry.described.status;
    if (status == "ACTIVE" || status == "DISABLED" || status == "EXPIRED") {
      state_ = state::certificate;
      return send(ca_certificate_call(entry.arn));
    }
    return next_ca();
  }

  step on_certificate(const std::string& pem) {
    auto& entry = cas_[ca_index_];
    if (pem.empty()) {
      entry.error = "GetCertificateAuthorityCertificate answer has no Certificate";
      return next_ca();
    }
    try {
      auto certs = crypto::parse_certificates(pem);
      entry.described.subject = crypto::subject_line(certs.front().get());
    } catch (const std::exception&) {
      entry.error = "the CA certificate cannot be read";
    }
    return next_ca();
  }

  step next_ca() {
    if (++ca_index_ < cas_.size()) return describe();
    return report();
  }

  outcome report() const {
    const auto& s = settings();
    json_writer w(false);
    w.begin_object()
        .member("backend", s.name)
        .member("type", "acmpca")
        .member("region", s.target.region)
        .member("endpoint", s.target.url)
        .key("certificate_authorities")
        .begin_array();
    bool default_listed = false;
    for (const auto& ca : cas_) {
      default_listed = default_listed || ca.arn == s.default_ca_arn;
      const auto& d = ca.described;
      w.begin_object()
          .member("arn", ca.arn)
          .member("type", d.type)
          .member("status", d.status)
          .member("key_algorithm", d.key_algorithm)
          .member("signing_algorithm", d.signing_algorithm)
          .member("subject", d.subject);
      if (d.not_after) w.member("not_after", *d.not_after);
      if (!ca.error.empty()) w.member("error", ca.error);
      w.end_object();
    }
    w.end_array();
    if (!s.default_ca_arn.empty())
      w.member("default_ca_arn", s.default_ca_arn).member("default_ca_listed", default_listed);
    report_checks checks;
    checks.ok("credentials",
              fmt::format("accepted in {}: {} CA(s) listed", s.target.region, cas_.size()));
    for (const auto& ca : cas_) {
      auto name = "CA " + ca.arn.substr(ca.arn.rfind('/') + 1);
      const auto& d = ca.described;
      if (!ca.error.empty())
        checks.fail(name, ca.error);
      else if (d.status != "ACTIVE")
        checks.warn(name, fmt::format("{} ({}): only an ACTIVE CA issues", d.status, d.subject));
      else
        checks.ok(name, fmt::format("ACTIVE, {} {}, {}", d.type, d.key_algorithm, d.subject));
    }
    if (!s.default_ca_arn.empty() && !default_listed)
      checks.fail("default CA", fmt::format("{} is not among the account's CAs in {}",
                                            s.default_ca_arn, s.target.region));
    checks.write(w);
    w.end_object();
    auto done = outcome::done(w.str());
    done.message = checks.words();
    return done;
  }

  state state_ = state::list;
  std::vector<ca_entry> cas_;
  std::size_t ca_index_ = 0;
  std::string next_token_;
  std::set<std::string> seen_tokens_;
  int pages_ = 0;
};

}  // namespace

std::unique_ptr<job_session> start_inventory_report(std::shared_ptr<backend_state> backend) {
  return std::make_unique<inventory_report>(std::move(backend));
}

}  // namespace cbcs::protocol::ca::acmpca
