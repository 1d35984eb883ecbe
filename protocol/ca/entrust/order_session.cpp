#include "protocol/ca/entrust/order_session.hpp"

#include <fmt/format.h>

#include <deque>

#include "crypto/pem.hpp"
#include "crypto/subject_names.hpp"
#include "crypto/utc_time.hpp"
#include "protocol/ca/common/certificate_chain.hpp"
#include "protocol/ca/common/http_status.hpp"
#include "protocol/ca/common/order_job_checks.hpp"
#include "protocol/ca/common/order_lookup.hpp"
#include "protocol/ca/common/ordering_session.hpp"
#include "protocol/ca/entrust/entrust_api.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::entrust {
namespace {

using namespace std::chrono_literals;

// Entrust refuses to renew a certificate issued less than 30 days ago
// (ca-apis.md §3 and field-lessons.md, from Entrust's own ansible module
// ecs_certificate): told before the request, naming -renewal reissue.
constexpr auto renewal_min_age = 24h * 30;
// Certificates per page of the search: the list's largest page (limit at
// most 1000; Keyfactor's GetAllCertificates reads pages of 1000). The list
// has no documented filter by tracking info, so a search reads every page.
constexpr int search_page = 1000;
constexpr std::chrono::seconds approval_poll{60};
constexpr std::chrono::seconds issue_poll{5};

bool icontains(std::string_view text, std::string_view word) {
  auto low = [](std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  return low(text).find(low(word)) != std::string::npos;
}

class order_session final : public ordering_session {
 public:
  order_session(std::shared_ptr<backend_state> backend, const job& j,
                const std::string& resume_token)
      : ordering_session(resume_token, backend->settings.pending),
        backend_(std::move(backend)),
        settings_(backend_->settings),
        job_(j),
        renew_(j.op == operation::renew),
        reissue_(renew_ && settings_.renew_by_reissue) {}

 private:
  enum class stage : std::uint8_t { client, old_certificate, ready };

  // ECS's list has no filter by tracking info (Keyfactor's client pages
  // through all of it): a new order that never placed goes straight to
  // POST /certificates, and the search runs only for a placement in doubt.
  // A renewal or reissue still looks first: its search reads the old
  // trackingId (one request), which also tells a certificate renewed already.
  bool search_when_fresh() const override { return renew_; }

  // --- before any request

  std::optional<outcome> check() override {
    if (!settings_.problem.empty())
      return outcome::failed(error_class::invalid_request, settings_.problem);
    if (auto bad = check_order_job(job_, names_)) return bad;
    if (names_.common_name.empty() && names_.dns_names.empty())
      return outcome::failed(error_class::invalid_request,
                             "the CSR names no common name and no DNS name; Entrust needs one");
    // A reissue keeps the order's tracking; a new order and a renewal need it.
    if (!reissue_ && (settings_.requester_email.empty() || settings_.requester_phone.empty()))
      return outcome::failed(
          error_class::invalid_request,
          fmt::format("Entrust needs the requester's email and phone on every order: set them "
                      "with cbcs backend set -name {} -requesteremail EMAIL -requesterphone PHONE",
                      settings_.name));
    if (!renew_) return std::nullopt;
    std::string serial;
    if (auto bad = check_renewal_job(job_, serial)) return bad;
    old_serial_ = entrust_serial(serial).value_or(serial);
    return std::nullopt;
  }

  // --- prelude: the client, the certificate being renewed

  std::optional<step> prelude(const http_response* answer) override {
    if (stage_ == stage::client) {
      if (backend_->learnt_client_id > 0) {
        client_id_ = backend_->learnt_client_id;
      } else {
        if (!answer) return request("GET", "/clients");
        if (!is_success(answer->status)) return failure(*answer, "reading the clients");
        std::vector<client_info> clients;
        try {
          clients = parse_clients(answer->body);
        } catch (const std::exception& e) {
          return outcome::failed(error_class::internal, one_line(e.what(), 256));
        }
        auto choice = choose_client(clients, settings_.client_id);
        if (!choice.chosen)
          return outcome::failed(
              choice.rejected ? error_class::rejected : error_class::invalid_request, choice.error);
        client_id_ = backend_->learnt_client_id = choice.chosen->id;
      }
      stage_ = renew_ ? stage::old_certificate : stage::ready;
      answer = nullptr;
    }
    if (stage_ == stage::old_certificate) {
      if (!answer) return request("GET", fmt::format("/certificates?serialNumber={}", old_serial_));
      if (auto s = read_old_certificate(*answer)) return s;
      stage_ = stage::ready;
    }
    return std::nullopt;
  }

  std::optional<step> read_old_certificate(const http_response& answer) {
    if (!is_success(answer.status)) return failure(answer, "finding the certificate being renewed");
    certificate_list list;
    try {
      list = parse_certificate_list(answer.body);
    } catch (const std::exception& e) {
      return outcome::failed(error_class::internal, one_line(e.what(), 256));
    }
    const certificate_info* old = nullptr;
    for (const auto& c : list.certificates)
      if (c.tracking_id > 0 && (!old || c.tracking_id > old->tracking_id)) old = &c;
    if (!old)
      return outcome::failed(
          error_class::invalid_request,
          list.certificates.empty()
              ? fmt::format("Entrust has no certificate with serial {}", old_serial_)
              : fmt::format("the certificate with serial {} was not ordered through the ECS API "
                            "(trackingId 0); renew it in the Enterprise Portal",
                            old_serial_));
    old_tracking_id_ = old->tracking_id;
    if (!reissue_) {
      auto issued = crypto::parse_utc_time(old->issue_date_time);
      if (issued && now() - *issued < renewal_min_age)
        return outcome::failed(
            error_class::invalid_request,
            fmt::format("Entrust refuses to renew a certificate within 30 days of its issuance "
                        "(serial {} was issued {}); use -renewal reissue, or renew after {}",
                        old_serial_, old->issue_date_time,
                        crypto::format_utc_time(
                            std::chrono::floor<std::chrono::seconds>(*issued + renewal_min_age))));
    }
    return std::nullopt;
  }

  // --- search: lookup before resubmit

  http_request search() override {
    candidates_.clear();
    tagged_.clear();
    offset_ = 0;
    old_checked_ = false;
    return list_page();
  }

  http_request list_page() {
    return request("GET", fmt::format("/certificates?limit={}&offset={}", search_page, offset_));
  }

  search_result read_search(const http_response& answer) override {
    if (!is_success(answer.status))
      return {.what = search_result::kind::failed,
              .failure = failure(answer, "looking for an earlier order of the job")};
    try {
      if (reading_old_) {
        reading_old_ = false;
        return read_old_state(parse_certificate(answer.body));
      }
      if (reading_candidate_) {
        reading_candidate_ = false;
        auto info = parse_certificate(answer.body);
        auto id = std::to_string(info.tracking_id);
        if (auto stop =
                tagged_.add(info.tracking_info, info.csr, id, info.status == "ACTIVE", job_.id,
                            job_.csr_pem, fmt::format("certificate {} at Entrust", id)))
          return *stop;
        return next_candidate();
      }
      auto page = parse_certificate_list(answer.body);
      for (const auto& c : page.certificates)
        if (is_candidate(c)) candidates_.push_back(c.tracking_id);
      offset_ += std::int64_t(page.certificates.size());
      more_pages_ = !page.certificates.empty() && offset_ < page.total;
      return next_candidate();
    } catch (const std::exception& e) {
      return {.what = search_result::kind::failed,
              .failure = outcome::failed(error_class::internal, one_line(e.what(), 256))};
    }
  }

  // Ordered through the API, young enough to be this job's, and for the
  // CSR's name when the list says which.
  bool is_candidate(const certificate_info& c) const {
    if (c.tracking_id <= 0) return false;
    if (auto issued = crypto::parse_utc_time(c.issue_date_time);
        issued && *issued < now() - settings_.pending.max_age - 24h)
      return false;
    auto name = names_.common_name.empty() ? names_.dns_names.front() : names_.common_name;
    return c.dn.empty() || icontains(c.dn, name);
  }

  search_result next_candidate() {
    if (!candidates_.empty()) {
      auto id = candidates_.front();
      candidates_.pop_front();
      reading_candidate_ = true;
      return {.what = search_result::kind::more,
              .next = request("GET", fmt::format("/certificates/{}", id))};
    }
    if (more_pages_) return {.what = search_result::kind::more, .next = list_page()};
    if (tagged_.empty() && renew_ && !old_checked_) {
      // A renewal whose tag Entrust did not keep is seen on the old
      // certificate: never renewed a second time blind.
      old_checked_ = true;
      reading_old_ = true;
      return {.what = search_result::kind::more,
              .next = request("GET", fmt::format("/certificates/{}", old_tracking_id_))};
    }
    // The first ACTIVE one is kept, else the oldest (lowest trackingId).
    return tagged_.result();
  }

  search_result read_old_state(const certificate_info& old) {
    // A reissue may keep the trackingId: a certificate under it that is no
    // longer the one being renewed is a reissue made already, adopted only
    // through its key (pick_leaf, unusable_certificate), never made twice.
    auto serial = entrust_serial(old.serial_number);
    if (reissue_ && old.status == "ACTIVE" && serial && *serial != old_serial_)
      return {.what = search_result::kind::found, .order_id = std::to_string(old.tracking_id)};
    if (old.status == "RENEWING" || old.status == "REISSUING" || old.status == "RENEWED" ||
        old.status == "REISSUED")
      return {.what = search_result::kind::failed,
              .failure = outcome::failed(
                  error_class::rejected,
                  fmt::format("the certificate being renewed (trackingId {}) is {} at Entrust "
                              "already: an earlier renewal, maybe this job's whose answer was "
                              "lost; it is not renewed again",
                              old.tracking_id, old.status),
                  old.status)};
    return {};
  }

  // --- place

  order_request order_fields() const {
    order_request r;
    r.csr_pem = job_.csr_pem;
    r.cert_type = job_.profile.empty() ? settings_.cert_type : job_.profile;
    r.validity_seconds = job_.validity_seconds;
    r.client_id = client_id_;
    r.dns_names = names_.dns_names;
    if (r.dns_names.empty()) r.dns_names.push_back(names_.common_name);
    r.tracking_info = job_tag(job_.id);
    r.requester_name = settings_.requester_name;
    r.requester_email = settings_.requester_email;
    r.requester_phone = settings_.requester_phone;
    return r;
  }

  http_request place() override {
    placing_ = true;
    if (!renew_)
      return request("POST", "/certificates", new_certificate_body(order_fields(), now()));
    return request(
        "POST",
        fmt::format("/certificates/{}/{}", old_tracking_id_, reissue_ ? "reissues" : "renewals"),
        renewal_body(order_fields(), reissue_, now()));
  }

  http_request poll(const std::string& order_id) override {
    placing_ = false;
    return request("GET", fmt::format("/certificates/{}", order_id));
  }

  order_state read_order(const http_response& answer) override {
    if (!is_success(answer.status)) {
      auto what =
          placing_ ? (renew_ ? (reissue_ ? "reissuing the certificate" : "renewing the certificate")
                             : "placing the order")
                   : "reading the order";
      auto failed = failure(answer, what);
      if (placing_ && renew_ && !reissue_ && is_early_renewal_refusal(failed.message))
        failed = outcome::failed(
            error_class::invalid_request,
            one_line(fmt::format("Entrust refuses to renew a certificate within 30 days of its "
                                 "issuance; use -renewal reissue ({})",
                                 failed.message)),
            failed.backend_code);
      return {.result = failed};
    }
    certificate_info info;
    try {
      info = parse_certificate(answer.body);
    } catch (const std::exception& e) {
      return {.result = outcome::failed(error_class::internal, one_line(e.what(), 256))};
    }
    auto id = std::to_string(info.tracking_id);
    if (placing_) {
      // 202: queued for approval, the trackingId alone (Lemur read
      // endEntityCert from it and crashed); 201: issued at once.
      if (answer.status == 202 || info.end_entity_cert.empty())
        return waiting(id, pending_reason::needs_approval,
                       fmt::format("request {} is queued for approval at Entrust", id),
                       approval_poll);
      return issued(id, info);
    }
    auto meaning = read_status(info.status);
    switch (meaning.what) {
      case status_meaning::kind::issued:
        if (info.end_entity_cert.empty())
          return waiting(id, pending_reason::processing,
                         "Entrust says it is active but gave no certificate yet", issue_poll);
        return issued(id, info);
      case status_meaning::kind::pending:
        return waiting(
            id, meaning.reason, fmt::format("request {}: {}", id, meaning.text),
            meaning.reason == pending_reason::needs_approval ? approval_poll : issue_poll);
      case status_meaning::kind::failed:
      case status_meaning::kind::superseded:
        break;
    }
    return {.order_id = id,
            .result = outcome::failed(
                error_class::rejected,
                one_line(fmt::format(
                    "certificate {} at Entrust: {}{}", id, meaning.text,
                    info.decline_reason.empty() ? std::string() : ": " + info.decline_reason)),
                info.status)};
  }

  order_state issued(const std::string& id, const certificate_info& info) {
    std::string bundle = info.end_entity_cert + "\n";
    for (const auto& c : info.chain_certs) bundle += c + "\n";
    auto picked = pick_leaf(bundle, job_.csr_pem);
    if (!picked.certificate) {
      // A reissue keeps the trackingId: until it is out, the certificate
      // there is the one being renewed, for another key.
      if (reissue_)
        return waiting(id, pending_reason::processing,
                       fmt::format("the reissue is not out yet: {}", picked.error), issue_poll);
      return {.order_id = id, .result = outcome::failed(error_class::internal, picked.error)};
    }
    auto& c = *picked.certificate;
    // A reissue to the same key: the certificate being renewed until the
    // new one is out.
    if (renew_ && entrust_serial(c.serial_hex) == old_serial_)
      return waiting(id, pending_reason::processing,
                     "Entrust still shows the certificate being renewed", issue_poll);
    if (auto why = unusable_certificate(c.leaf_pem, job_.csr_pem, found_state::live, now());
        !why.empty())
      return {.order_id = id,
              .result = outcome::failed(
                  error_class::rejected,
                  one_line(fmt::format("certificate {}: not handed out: {}", id, why)))};
    auto result =
        outcome::issued(std::move(c.leaf_pem), std::move(c.chain_pem), std::move(c.serial_hex));
    if (reissue_)
      result.message = fmt::format(
          "reissued: the certificate with serial {} (trackingId {}) is now REISSUED at Entrust; "
          "the new one keeps its expiry",
          old_serial_, old_tracking_id_);
    return {.what = order_state::kind::issued, .order_id = id, .result = std::move(result)};
  }

  order_state waiting(const std::string& id, pending_reason reason, std::string message,
                      std::chrono::milliseconds hint) {
    return {.what = order_state::kind::pending,
            .order_id = id,
            .reason = reason,
            .message = one_line(message),
            .poll_hint = hint};
  }

  // --- helpers

  outcome failure(const http_response& answer, std::string_view what) {
    return ecs_failure(settings_, answer, what, now());
  }

  http_request request(std::string method, std::string_view path, std::string body = {}) {
    return ecs_call(settings_, std::move(method), path, std::move(body));
  }

  std::shared_ptr<backend_state> backend_;
  const entrust_settings& settings_;
  job job_;
  bool renew_;
  bool reissue_;
  crypto::requested_names names_;
  std::string old_serial_;
  std::int64_t old_tracking_id_ = 0;
  std::int64_t client_id_ = 0;
  stage stage_ = stage::client;
  std::deque<std::int64_t> candidates_;
  tagged_orders tagged_{false};  // the job's tag; candidates in trackingId order
  std::int64_t offset_ = 0;
  bool more_pages_ = false;
  bool reading_candidate_ = false;
  bool reading_old_ = false;
  bool old_checked_ = false;
  bool placing_ = false;
};

}  // namespace

std::unique_ptr<job_session> start_order(std::shared_ptr<backend_state> backend, const job& j,
                                         const std::string& resume_token) {
  return std::make_unique<order_session>(std::move(backend), j, resume_token);
}

}  // namespace cbcs::protocol::ca::entrust
