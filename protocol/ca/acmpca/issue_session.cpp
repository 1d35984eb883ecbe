#include "protocol/ca/acmpca/issue_session.hpp"

#include <algorithm>

#include "crypto/pem.hpp"
#include "protocol/ca/acmpca/signed_session.hpp"
#include "protocol/ca/common/order_lookup.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::acmpca {
namespace {

std::string ensure_newline(std::string pem) {
  if (!pem.empty() && pem.back() != '\n') pem += '\n';
  return pem;
}

class issue_session final : public signed_session {
 public:
  issue_session(std::shared_ptr<backend_state> backend, job j, std::string resume)
      : signed_session(std::move(backend)), job_(std::move(j)), cert_arn_(std::move(resume)) {}

  std::string resume_token() const override { return cert_arn_; }

 private:
  enum class state { describe, issue, get };

  step start() override {
    if (!cert_arn_.empty()) {
      // A previous run issued already: fetch, never issue again.
      if (!cert_arn_.starts_with("arn:"))
        return internal("the resume token is not a certificate ARN");
      auto cut = cert_arn_.find("/certificate/");
      ca_arn_ = cut == std::string::npos ? settings().ca_arn_for(job_) : cert_arn_.substr(0, cut);
      if (ca_arn_.empty()) return no_ca_arn();
      return get_certificate();
    }
    ca_arn_ = settings().ca_arn_for(job_);
    if (ca_arn_.empty()) return no_ca_arn();
    if (job_.csr_pem.empty())
      return outcome::failed(error_class::invalid_request, "the job has no CSR");
    if (job_.validity_seconds < 0)
      return outcome::failed(error_class::invalid_request, "validity must not be negative");
    if (auto it = job_.params.find("signing_algorithm"); it != job_.params.end()) {
      if (std::find(signing_algorithms.begin(), signing_algorithms.end(), it->second) ==
          signing_algorithms.end()) {
        std::string names;
        for (auto a : signing_algorithms) names += (names.empty() ? "" : ", ") + std::string(a);
        return outcome::failed(error_class::invalid_request,
                               "signing_algorithm must be one of " + names);
      }
      signing_algorithm_ = it->second;
      return issue_certificate();
    }
    state_ = state::describe;
    return send(describe_call(ca_arn_));
  }

  step issue_certificate() {
    state_ = state::issue;
    return send(issue_call({.ca_arn = ca_arn_,
                            .csr_pem = job_.csr_pem,
                            .signing_algorithm = signing_algorithm_,
                            .validity_seconds = job_.validity_seconds,
                            .template_arn = job_.profile,
                            .job_id = job_.id}));
  }

  step get_certificate() {
    state_ = state::get;
    return send(get_certificate_call(ca_arn_, cert_arn_));
  }

  step on_result(const http_response& answer) override {
    switch (state_) {
      case state::describe:
        return on_describe(parse_authority(answer.body));
      case state::issue:
        cert_arn_ = parse_certificate_arn(answer.body);
        return get_certificate();
      case state::get:
        return on_certificate(parse_certificate(answer.body));
    }
    return internal("response in an unexpected state");
  }

  std::optional<step> on_error_code(const aws_error& e) override {
    if (e.code == "RequestInProgressException" && state_ == state::get)
      return outcome::pending(poll_interval, "AWS Private CA is still issuing the certificate");
    return std::nullopt;
  }

  step on_describe(const authority& ca) {
    // Status and KeyAlgorithm are the service's words: scrub them like any echo.
    if (ca.status != "ACTIVE")
      return outcome::failed(error_class::rejected,
                             scrub("certificate authority " + ca_arn_ + " is " +
                                   one_line(ca.status) + ", not ACTIVE"));
    signing_algorithm_ = signing_algorithm_for(ca.key_algorithm);
    if (signing_algorithm_.empty())
      return outcome::failed(
          error_class::invalid_request,
          scrub("cannot choose a signing algorithm for the CA's key algorithm '" +
                one_line(ca.key_algorithm) + "'; set the job parameter signing_algorithm"));
    return issue_certificate();
  }

  step on_certificate(const certificate_answer& answer) {
    std::string serial;
    try {
      serial = crypto::certificate_serial_hex(answer.certificate);
    } catch (const std::exception& e) {
      return internal(std::string("GetCertificate returned a certificate that cannot be read (") +
                      e.what() + ")");
    }
    // The certificate the job's IdempotencyToken (or resume token) names:
    // never handed out expired (order_lookup.hpp). GetCertificate does not
    // say whether it is revoked; the token is the job's own, so no other
    // job's certificate comes back this way.
    if (auto why = unusable_certificate(answer.certificate, {}, found_state::live, now());
        !why.empty())
      return outcome::failed(error_class::rejected,
                             "the certificate AWS Private CA holds for this job (" + cert_arn_ +
                                 ") is not handed out as issued: " + why);
    return outcome::issued(ensure_newline(answer.certificate), ensure_newline(answer.chain),
                           serial);
  }

  job job_;
  std::string cert_arn_;  // the resume token
  state state_ = state::describe;
  std::string ca_arn_;
  std::string signing_algorithm_;
};

}  // namespace

std::unique_ptr<job_session> start_issue(std::shared_ptr<backend_state> backend, const job& j,
                                         const std::string& resume_token) {
  return std::make_unique<issue_session>(std::move(backend), j, resume_token);
}

}  // namespace cbcs::protocol::ca::acmpca
