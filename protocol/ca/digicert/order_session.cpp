#include "protocol/ca/digicert/order_session.hpp"

#include <fmt/format.h>

#include <deque>

#include "crypto/pem.hpp"
#include "crypto/subject_names.hpp"
#include "crypto/utc_time.hpp"
#include "protocol/ca/common/certificate_chain.hpp"
#include "protocol/ca/common/http_status.hpp"
#include "protocol/common/json_writer.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::digicert {
namespace {

using namespace std::chrono_literals;

// Longer is a mistake, and its days would overflow.
constexpr std::int64_t max_validity_seconds = 100LL * 365 * 86400;

// Orders for the common name read per page of the search.
constexpr int search_page = 20;

class order_session final : public ordering_session {
 public:
  order_session(std::shared_ptr<backend_state> backend, const job& j,
                const std::string& resume_token)
      : ordering_session(resume_token, backend->settings.pending),
        backend_(std::move(backend)),
        settings_(backend_->settings),
        job_(j),
        product_(j.profile.empty() ? settings_.product : j.profile),
        reissue_(j.op == operation::renew && settings_.renew_by_reissue) {}

 private:
  enum class expect : std::uint8_t { place, poll, approve, download };
  enum class stage : std::uint8_t { organization, old_order, ready };

  // --- before any request

  std::optional<outcome> check() override {
    if (!settings_.problem.empty())
      return outcome::failed(error_class::invalid_request, settings_.problem);
    if (job_.csr_pem.empty())
      return outcome::failed(error_class::invalid_request, "the job has no CSR");
    if (job_.validity_seconds < 0)
      return outcome::failed(error_class::invalid_request, "validity must not be negative");
    if (job_.validity_seconds > max_validity_seconds)
      return outcome::failed(error_class::invalid_request, "validity must be at most 100 years");
    try {
      names_ = crypto::names_of_request(job_.csr_pem);
    } catch (const std::exception& e) {
      return outcome::failed(error_class::invalid_request, one_line(e.what(), 256));
    }
    common_name_ = names_.common_name.empty() && !names_.dns_names.empty()
                       ? names_.dns_names.front()
                       : names_.common_name;
    if (common_name_.empty())
      return outcome::failed(error_class::invalid_request,
                             "the CSR names no common name and no DNS name; CertCentral needs one");
    if (job_.op == operation::renew) {
      if (job_.cert_pem.empty())
        return outcome::failed(error_class::invalid_request,
                               "a renewal needs the certificate being renewed");
      try {
        auto serial = digicert_serial(crypto::certificate_serial_hex(job_.cert_pem));
        if (!serial) throw std::runtime_error("no serial");
        old_serial_ = *serial;
      } catch (const std::exception&) {
        return outcome::failed(error_class::invalid_request,
                               "the certificate being renewed cannot be read");
      }
    }
    return std::nullopt;
  }

  // --- prelude: the organization, the order being renewed

  std::optional<step> prelude(const http_response* answer) override {
    if (stage_ == stage::organization) {
      auto s = organization_step(answer);
      if (s) return s;
      stage_ = job_.op == operation::renew ? stage::old_order : stage::ready;
      answer = nullptr;
    }
    if (stage_ == stage::old_order) {
      if (!answer) return request("GET", fmt::format("/order/certificate/{}", old_serial_));
      if (answer->status == 404)
        return outcome::failed(error_class::invalid_request,
                               fmt::format("CertCentral has no order for the certificate being "
                                           "renewed (serial {})",
                                           old_serial_));
      if (!is_success(answer->status))
        return error_outcome(*answer, "finding the order being renewed", settings_.api_key, now());
      try {
        old_order_id_ = parse_order(answer->body).id;
      } catch (const std::exception& e) {
        return outcome::failed(error_class::internal, e.what());
      }
      stage_ = stage::ready;
    }
    return std::nullopt;
  }

  // The organization check; nullopt once it passed.
  std::optional<step> organization_step(const http_response* answer) {
    auto got = answer && organizations_.fetching() ? organizations_.on_answer(*answer, now())
                                                   : organizations_.get(now());
    if (auto* s = std::get_if<step>(&got)) return std::move(*s);
    const auto* orgs = std::get<const organization_list*>(got);
    auto choice = choose_organization(*orgs, settings_.org_id, product_);
    if (!choice.chosen)
      return outcome::failed(choice.rejected ? error_class::rejected : error_class::invalid_request,
                             choice.error);
    org_id_ = choice.chosen->id;
    return std::nullopt;
  }

  // --- search: lookup before resubmit

  http_request search() override {
    candidates_.clear();
    tagged_.clear();
    offset_ = 0;
    if (reissue_) return request("GET", fmt::format("/order/certificate/{}", old_order_id_));
    return list_page();
  }

  http_request list_page() {
    return request("GET", fmt::format("/order/certificate?filters%5Bcommon_name%5D={}&sort=-date_"
                                      "created&limit={}&offset={}",
                                      url_encode(common_name_), search_page, offset_));
  }

  search_result read_search(const http_response& answer) override {
    if (!is_success(answer.status))
      return {.what = search_result::kind::failed,
              .failure = error_outcome(answer, "looking for an earlier order of the job",
                                       settings_.api_key, now())};
    try {
      if (reissue_) {
        // The order being renewed is found by the old serial, not by the
        // job's tag: only a reissue in flight is adopted (its leaf is then
        // taken only for the job's key, pick_leaf). Its CSR proves nothing:
        // a renew that reuses the CSR would get the old certificate back.
        auto info = parse_order(answer.body);
        if (info.status == "reissue_pending" || has_job_tag(info.comments, job_.id))
          return {.what = search_result::kind::found, .order_id = old_order_id_};
        return {};
      }
      if (reading_candidate_) {
        reading_candidate_ = false;
        auto info = parse_order(answer.body);
        if (auto stop =
                tagged_.add(info.comments, info.csr, info.id, info.status == "issued", job_.id,
                            job_.csr_pem, fmt::format("order {} at CertCentral", info.id)))
          return *stop;
        return next_candidate();
      }
      auto page = parse_order_list(answer.body);
      bool older_seen = false;
      for (auto& o : page.orders) {
        auto created = crypto::parse_utc_time(o.date_created);
        if (created && *created < now() - settings_.pending.max_age - 24h) {
          older_seen = true;  // newest first: the rest are older still
          break;
        }
        candidates_.push_back(o.id);
      }
      offset_ += std::int64_t(page.orders.size());
      more_pages_ = !older_seen && !page.orders.empty() && offset_ < page.total;
      return next_candidate();
    } catch (const std::exception& e) {
      return {.what = search_result::kind::failed,
              .failure = outcome::failed(error_class::internal, one_line(e.what(), 256))};
    }
  }

  search_result next_candidate() {
    if (!candidates_.empty()) {
      auto id = candidates_.front();
      candidates_.pop_front();
      reading_candidate_ = true;
      return {.what = search_result::kind::more,
              .next = request("GET", fmt::format("/order/certificate/{}", id))};
    }
    if (more_pages_) return {.what = search_result::kind::more, .next = list_page()};
    // Newest first: the first (oldest) issued one is kept, else the oldest.
    return tagged_.result();
  }

  // --- place

  http_request place() override {
    expect_ = expect::place;
    json_writer w(false);
    w.begin_object().key("certificate").begin_object();
    w.member("common_name", common_name_);
    w.key("dns_names").begin_array();
    for (const auto& n : names_.dns_names) w.value(n);
    w.end_array();
    w.member("csr", job_.csr_pem);
    w.member("signature_hash", param("signature_hash", "sha256"));
    w.key("server_platform").begin_object().member("id", std::int64_t{-1}).end_object();
    w.end_object();
    w.member("comments", job_tag(job_.id));
    w.member("skip_approval", settings_.skip_approval);
    if (!reissue_) {
      w.key("organization").begin_object().member("id", org_id_).end_object();
      w.key("order_validity").begin_object();
      if (job_.validity_seconds > 0)
        w.member("days", (job_.validity_seconds + 86399) / 86400);
      else
        w.member("years", std::int64_t{1});
      w.end_object();
      if (!old_order_id_.empty())
        w.member("renewal_of_order_id", std::int64_t(std::stoll(old_order_id_)));
    }
    w.end_object();
    auto path = reissue_ ? fmt::format("/order/certificate/{}/reissue", old_order_id_)
                         : fmt::format("/order/certificate/{}", url_encode(product_));
    return request("POST", path, w.str());
  }

  // --- poll, approve, collect

  http_request poll(const std::string& order_id) override {
    if (!approve_request_.empty()) {
      expect_ = expect::approve;
      json_writer w(false);
      w.begin_object()
          .member("status", "approved")
          .member("processor_comment", fmt::format("approved by cbcs for {}", job_tag(job_.id)))
          .end_object();
      return request("PUT", fmt::format("/request/{}/status", approve_request_), w.str());
    }
    expect_ = expect::poll;
    return request("GET", fmt::format("/order/certificate/{}", order_id));
  }

  std::optional<http_request> collect(const std::string&) override {
    if (certificate_id_.empty()) return std::nullopt;
    expect_ = expect::download;
    return request("GET", fmt::format("/certificate/{}/download/format/pem_all", certificate_id_));
  }

  order_state read_order(const http_response& answer) override {
    switch (expect_) {
      case expect::approve:
        return on_approve(answer);
      case expect::download:
        return on_download(answer);
      case expect::place:
      case expect::poll:
        break;
    }
    bool placing = expect_ == expect::place;
    if (!is_success(answer.status)) {
      // A rejected placement is final; an order gone from a poll is too.
      return {.result = error_outcome(answer, placing ? "placing the order" : "reading the order",
                                      settings_.api_key, now())};
    }
    order_info info;
    try {
      info = parse_order(answer.body);
    } catch (const std::exception& e) {
      return {.result = outcome::failed(error_class::internal, one_line(e.what(), 256))};
    }
    if (!info.certificate_id.empty()) certificate_id_ = info.certificate_id;
    if (!info.chain.empty()) {
      std::string bundle;
      for (const auto& c : info.chain) bundle += c.pem + "\n";
      return issued(info.id, bundle);
    }
    if (placing) {
      for (const auto& r : info.requests)
        if (r.status == "pending") return awaiting_approval(info.id, r.id);
      return {
          .what = order_state::kind::pending,
          .order_id = info.id,
          .reason = pending_reason::processing,
          .message = fmt::format("order {} placed; waiting for CertCentral to issue it", info.id),
          .poll_hint = std::min<std::chrono::milliseconds>(settings_.poll, 5s)};
    }
    auto meaning = read_status(info.status);
    switch (meaning.what) {
      case status_meaning::kind::issued:
        if (reissue_ && !info.csr.empty() && !same_csr(info.csr, job_.csr_pem))
          return waiting(info.id, pending_reason::processing, "the reissue is not issued yet");
        // An order issued once whose certificate is revoked or expired since
        // is never handed out as issued.
        if (auto c = read_status(info.certificate_status);
            !info.certificate_status.empty() && c.what == status_meaning::kind::failed) {
          auto failed = outcome::failed(error_class::rejected,
                                        one_line(fmt::format("order {}: its certificate is {}",
                                                             info.id, info.certificate_status)),
                                        info.certificate_status);
          return {.order_id = info.id, .result = failed};
        }
        if (certificate_id_.empty())
          return {.result = outcome::failed(error_class::internal,
                                            fmt::format("CertCentral says order {} is issued but "
                                                        "names no certificate",
                                                        info.id))};
        return {.what = order_state::kind::issued, .order_id = info.id};
      case status_meaning::kind::pending:
        if (meaning.reason == pending_reason::needs_approval)
          for (const auto& r : info.requests)
            if (r.status == "pending") return awaiting_approval(info.id, r.id);
        return waiting(info.id, meaning.reason, meaning.text);
      case status_meaning::kind::failed:
        break;
    }
    auto message = fmt::format("order {}: {}", info.id, meaning.text);
    if (!info.reason.empty()) message += ": " + info.reason;
    auto failed = outcome::failed(error_class::rejected, one_line(message), info.status);
    return {.order_id = info.id, .result = failed};
  }

  order_state awaiting_approval(const std::string& order_id, const std::string& request_id) {
    if (settings_.auto_approve && !approve_refused_ && approve_declined_.empty()) {
      approve_request_ = request_id;
      return {.what = order_state::kind::pending,
              .order_id = order_id,
              .reason = pending_reason::needs_approval,
              .message = fmt::format("request {} awaits approval; cbcs approves it (-autoapprove)",
                                     request_id),
              .poll_hint = 1s};
    }
    auto why = !approve_declined_.empty()
                   ? fmt::format("CertCentral refused cbcs's approval: {}", approve_declined_)
               : approve_refused_ ? std::string("the API key's user may not approve it")
                                  : std::string(
                                        "the account does not approve its approvers' own "
                                        "requests; -autoapprove true lets cbcs approve them");
    return waiting(
        order_id, pending_reason::needs_approval,
        fmt::format("request {} waits for an approver in CertCentral ({})", request_id, why));
  }

  order_state on_approve(const http_response& answer) {
    auto order_id = order() ? order()->order_id : std::string();
    if (is_success(answer.status)) {
      approve_request_.clear();
      return {.what = order_state::kind::pending,
              .order_id = order_id,
              .reason = pending_reason::processing,
              .message = "approved by cbcs (-autoapprove); waiting for CertCentral to issue it",
              .poll_hint = 1s};
    }
    if (answer.status == 403) {
      approve_request_.clear();
      approve_refused_ = true;
      return waiting(order_id, pending_reason::needs_approval,
                     "cbcs may not approve the request (the API key's user is no approver); an "
                     "approver must act in CertCentral");
    }
    auto failed = error_outcome(answer, "approving the request", settings_.api_key, now());
    if (!failed.retryable && answer.status >= 400 && answer.status < 500 && answer.status != 401 &&
        approve_declined_.empty()) {
      // CertCentral answers an approval of a request that is no longer
      // pending with a 400, "The request has already been approved": our own
      // approval whose answer was lost (a crash, a timeout), or an approver
      // quicker than cbcs. The state may already be what was asked: read the
      // order and go on from what it says (issued: download). If the request
      // is still pending it is left to an approver, never approved again.
      approve_request_.clear();
      approve_declined_ = failed.message;
      return {.what = order_state::kind::pending,
              .order_id = order_id,
              .reason = pending_reason::processing,
              .message = one_line(fmt::format("CertCentral did not take the approval ({}); "
                                              "reading the order",
                                              failed.message)),
              .poll_hint = 1s};
    }
    return {.result = failed};
  }

  order_state on_download(const http_response& answer) {
    auto order_id = order() ? order()->order_id : std::string();
    if (!is_success(answer.status))
      return {.result =
                  error_outcome(answer, "downloading the certificate", settings_.api_key, now())};
    return issued(order_id, answer.body);
  }

  order_state issued(const std::string& order_id, std::string_view bundle) {
    auto picked = pick_leaf(bundle, job_.csr_pem);
    if (!picked.certificate) {
      if (reissue_) return waiting(order_id, pending_reason::processing, picked.error);
      return {.result = outcome::failed(error_class::internal, picked.error)};
    }
    auto& c = *picked.certificate;
    // A reissue to the same CSR: the order shows the certificate being
    // renewed until CertCentral has issued the new one.
    if (reissue_ && digicert_serial(c.serial_hex) == old_serial_)
      return waiting(order_id, pending_reason::processing,
                     "the reissue is not issued yet (CertCentral still shows the certificate "
                     "being renewed)");
    if (auto why = unusable_certificate(c.leaf_pem, job_.csr_pem, found_state::live, now());
        !why.empty())
      return {.order_id = order_id,
              .result = outcome::failed(
                  error_class::rejected,
                  one_line(fmt::format("order {}: the certificate is not handed out: {}", order_id,
                                       why)))};
    return {.what = order_state::kind::issued,
            .order_id = order_id,
            .result = outcome::issued(std::move(c.leaf_pem), std::move(c.chain_pem),
                                      std::move(c.serial_hex))};
  }

  order_state waiting(const std::string& order_id, pending_reason reason, std::string message) {
    return {.what = order_state::kind::pending,
            .order_id = order_id,
            .reason = reason,
            .message = one_line(message),
            .poll_hint = settings_.poll};
  }

  // --- helpers

  http_request request(std::string method, std::string_view path, std::string body = {}) {
    return api_request(std::move(method), settings_.base_url + std::string(path), settings_.api_key,
                       std::move(body));
  }

  std::string param(std::string_view key, std::string_view fallback) const {
    auto it = job_.params.find(key);
    return it == job_.params.end() || it->second.empty() ? std::string(fallback) : it->second;
  }

  std::shared_ptr<backend_state> backend_;
  const certcentral_settings& settings_;
  job job_;
  std::string product_;
  bool reissue_;
  crypto::requested_names names_;
  std::string common_name_;
  std::string old_serial_;
  std::string old_order_id_;
  std::int64_t org_id_ = 0;
  stage stage_ = stage::organization;
  credential_use<organization_list> organizations_{backend_->organizations};
  std::deque<std::string> candidates_;
  tagged_orders tagged_{true};  // the job's tag; the list is newest first
  std::int64_t offset_ = 0;
  bool more_pages_ = false;
  bool reading_candidate_ = false;
  expect expect_ = expect::place;
  std::string certificate_id_;
  std::string approve_request_;
  bool approve_refused_ = false;
  std::string approve_declined_;  // CertCentral's answer to an approval it did not take
};

}  // namespace

std::unique_ptr<job_session> start_order(std::shared_ptr<backend_state> backend, const job& j,
                                         const std::string& resume_token) {
  return std::make_unique<order_session>(std::move(backend), j, resume_token);
}

}  // namespace cbcs::protocol::ca::digicert
