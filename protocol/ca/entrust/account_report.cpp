#include "protocol/ca/entrust/account_report.hpp"

#include <fmt/format.h>

#include "protocol/ca/common/client_certificate.hpp"
#include "protocol/ca/common/http_session.hpp"
#include "protocol/ca/common/http_status.hpp"
#include "protocol/ca/common/report_checks.hpp"
#include "protocol/ca/entrust/entrust_api.hpp"
#include "protocol/common/json_writer.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::entrust {
namespace {

// An account with more clients is reported with the first ones' domains,
// a client with more domains with its first ones (the report says so).
constexpr std::size_t max_clients_with_domains = 20;
constexpr int domains_page = 100;
constexpr int max_domain_pages = 10;

struct client_domains {
  domain_list list;
  std::string problem;  // the domains could not be read: why
};

class account_report final : public http_session {
 public:
  explicit account_report(std::shared_ptr<backend_state> backend)
      : backend_(std::move(backend)), settings_(backend_->settings) {}

 private:
  enum class stage { clients, domains, inventories };

  step begin() override {
    if (!settings_.problem.empty())
      return outcome::failed(error_class::invalid_request, settings_.problem);
    return request("/clients");
  }

  step on_answer(const http_response& a) override {
    try {
      switch (stage_) {
        case stage::clients:
          if (!is_success(a.status)) return failure(a, "reading the clients");
          clients_ = parse_clients(a.body);
          stage_ = stage::domains;
          return next_domains();
        case stage::domains:
          return on_domains(a);
        case stage::inventories:
          if (!is_success(a.status)) return failure(a, "reading the inventories");
          return report(parse_inventories(a.body));
      }
    } catch (const std::exception& e) {
      return outcome::failed(error_class::internal, one_line(e.what(), 256));
    }
    return outcome::failed(error_class::internal, "driver error: unknown report stage");
  }

  // GET /clients/{clientId}/domains?offset=&limit= [REF §3; Keyfactor's
  // entrust-cagateway GetDomainsByClientRequest: Resource =
  // "clients/{clientId}/domains?offset={offset}&limit={limit}"], page by
  // page, one client after the other.
  step next_domains() {
    if (domains_.size() < std::min(clients_.size(), max_clients_with_domains))
      return request(fmt::format("/clients/{}/domains?offset={}&limit={}",
                                 clients_[domains_.size()].id, reading_.list.domains.size(),
                                 domains_page));
    stage_ = stage::inventories;
    return request("/inventories");
  }

  step on_domains(const http_response& a) {
    auto& d = reading_;
    bool more = false;
    if (is_success(a.status)) {
      try {
        auto page = parse_domain_list(a.body);
        for (auto& one : page.domains) d.list.domains.push_back(std::move(one));
        d.list.total = std::max(page.total, std::int64_t(d.list.domains.size()));
        ++pages_;
        more = !page.domains.empty() && std::int64_t(d.list.domains.size()) < d.list.total &&
               pages_ < max_domain_pages;
      } catch (const std::exception& e) {
        d.problem = one_line(e.what(), 256);
      }
    } else {
      auto failed = failure(a, "reading the client's domains");
      // Busy or unavailable: the same call again after the wait. Anything
      // else is this client's finding, not the whole report's failure.
      if (failed.retryable) return failed;
      d.problem = failed.message;
    }
    if (!more) {
      domains_.push_back(std::move(d));
      reading_ = {};
      pages_ = 0;
    }
    return next_domains();
  }

  step report(const std::vector<inventory_info>& inventories) {
    auto choice = choose_client(clients_, settings_.client_id);
    bool ev = is_ev_type(settings_.cert_type);
    json_writer w;
    w.begin_object()
        .member("api", "ecs")
        .member("username", settings_.username)
        .member("certtype", settings_.cert_type)
        .key("clients")
        .begin_array();
    std::string text;
    for (std::size_t i = 0; i < clients_.size(); ++i) {
      const auto& c = clients_[i];
      w.begin_object()
          .member("id", c.id)
          .member("name", c.name)
          .member("verification_status", c.verification_status);
      if (i < domains_.size()) write_domains(w, text, c, domains_[i], ev);
      w.end_object();
    }
    w.end_array();
    if (clients_.size() > domains_.size())
      w.member("clients_without_domains", std::int64_t(clients_.size() - domains_.size()));
    report_checks checks;
    if (choice.chosen)
      w.member("client", choice.chosen->id);
    else
      w.member("client_problem", choice.error);
    checks.ok("API user",
              fmt::format("{} accepted: {} client(s)", settings_.username, clients_.size()));
    if (choice.chosen)
      checks.ok("client", fmt::format("{} ({}), {}", choice.chosen->id, choice.chosen->name,
                                      choice.chosen->verification_status));
    else
      checks.fail("client", choice.error);
    if (auto c = read_client_certificate(settings_.client_cert_pem, settings_.name, "cert", "key",
                                         now())) {
      write_client_certificate(w, *c);
      check_certificate(checks, "client certificate", *c);
    }
    if (!text.empty()) checks.ok("domains", text);
    w.key("inventories").begin_array();
    for (const auto& i : inventories)
      w.begin_object()
          .member("product_type", i.product_type)
          .member("total", i.total)
          .member("remaining", i.remaining)
          .member("used", i.used)
          .end_object();
    w.end_array();
    checks.write(w);
    w.end_object();
    if (!choice.chosen) {
      auto failed = outcome::failed(
          choice.rejected ? error_class::rejected : error_class::invalid_request, choice.error);
      failed.report_json = w.str();
      return failed;
    }
    backend_->learnt_client_id = choice.chosen->id;
    auto done = outcome::done(w.str());
    // The domains an order may name: what the table's lines do not say.
    done.message = one_line(text.empty() ? checks.words() : text, 1024);
    return done;
  }

  // The client's domains, each with whether an order may name it, and the
  // same for people: "client 1 (Example Inc): orders for example.com; not
  // for example.org (INITIAL_VERIFICATION)".
  static void write_domains(json_writer& w, std::string& text, const client_info& c,
                            const client_domains& d, bool ev) {
    std::string yes, no;
    w.key("domains").begin_array();
    for (const auto& dom : d.list.domains) {
      bool orderable = domain_orderable(dom, ev);
      w.begin_object()
          .member("name", dom.name)
          .member("verification_status", dom.verification_status);
      if (!dom.verification_method.empty())
        w.member("verification_method", dom.verification_method);
      if (dom.ov_eligible) w.member("ov_eligible", *dom.ov_eligible);
      if (!dom.ov_expiry.empty()) w.member("ov_expiry", dom.ov_expiry);
      if (dom.ev_eligible) w.member("ev_eligible", *dom.ev_eligible);
      if (!dom.ev_expiry.empty()) w.member("ev_expiry", dom.ev_expiry);
      w.member("orderable", orderable).end_object();
      auto& list = orderable ? yes : no;
      list += fmt::format("{}{}", list.empty() ? "" : ", ", dom.name);
      if (!orderable) list += fmt::format(" ({})", dom.verification_status);
    }
    w.end_array();
    if (d.list.total > std::int64_t(d.list.domains.size())) w.member("domains_total", d.list.total);
    if (!d.problem.empty()) w.member("domains_problem", d.problem);
    auto line = fmt::format("client {} ({}): ", c.id, c.name);
    if (!d.problem.empty())
      line += "domains unknown: " + d.problem;
    else if (d.list.domains.empty())
      line += "no domains";
    else
      line += fmt::format("orders for {}{}", yes.empty() ? "none of its domains" : yes,
                          no.empty() ? "" : "; not for " + no);
    if (d.list.total > std::int64_t(d.list.domains.size()))
      line += fmt::format(" (first {} of {} domains)", d.list.domains.size(), d.list.total);
    text += (text.empty() ? "" : "; ") + line;
  }

  outcome failure(const http_response& a, std::string_view what) {
    return ecs_failure(settings_, a, what, now());
  }

  http_request request(std::string_view path) { return ecs_call(settings_, "GET", path); }

  std::shared_ptr<backend_state> backend_;
  const entrust_settings& settings_;
  stage stage_ = stage::clients;
  std::vector<client_info> clients_;
  std::vector<client_domains> domains_;  // clients_[i]'s at i
  client_domains reading_;               // the next client's, page by page
  int pages_ = 0;
};

}  // namespace

std::unique_ptr<job_session> start_account_report(std::shared_ptr<backend_state> backend) {
  return std::make_unique<account_report>(std::move(backend));
}

}  // namespace cbcs::protocol::ca::entrust
