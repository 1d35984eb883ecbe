#include "protocol/ca/entrust/account_report.hpp"

#include <fmt/format.h>

#include "protocol/ca/common/http_session.hpp"
#include "protocol/ca/common/http_status.hpp"
#include "protocol/ca/entrust/entrust_api.hpp"
#include "protocol/ca/common/client_certificate.hpp"
#include "protocol/common/json_writer.hpp"
#include "protocol/common/text.hpp"

namespace cbcs::protocol::ca::entrust {
namespace {

class account_report final : public http_session {
 public:
  explicit account_report(std::shared_ptr<backend_state> backend)
      : backend_(std::move(backend)), settings_(backend_->settings) {}

 private:
  step begin() override {
    if (!settings_.problem.empty())
      return outcome::failed(error_class::invalid_request, settings_.problem);
    return request("/clients");
  }

  step on_answer(const http_response& a) override {
    if (!inventory_stage_) {
      if (!is_success(a.status)) return failure(a, "reading the clients");
      try {
        clients_ = parse_clients(a.body);
      } catch (const std::exception& e) {
        return outcome::failed(error_class::internal, one_line(e.what(), 256));
      }
      inventory_stage_ = true;
      return request("/inventories");
    }
    if (!is_success(a.status)) return failure(a, "reading the inventories");
    try {
      return report(parse_inventories(a.body));
    } catch (const std::exception& e) {
      return outcome::failed(error_class::internal, one_line(e.what(), 256));
    }
  }

  step report(const std::vector<inventory_info>& inventories) {
    auto choice = choose_client(clients_, settings_.client_id);
    json_writer w;
    w.begin_object()
        .member("api", "ecs")
        .member("username", settings_.username)
        .member("certtype", settings_.cert_type)
        .key("clients")
        .begin_array();
    for (const auto& c : clients_)
      w.begin_object()
          .member("id", c.id)
          .member("name", c.name)
          .member("verification_status", c.verification_status)
          .end_object();
    w.end_array();
    if (choice.chosen)
      w.member("client", choice.chosen->id);
    else
      w.member("client_problem", choice.error);
    if (auto c = read_client_certificate(settings_.client_cert_pem, settings_.name, "cert", "key",
                                         now()))
      write_client_certificate(w, *c);
    w.key("inventories").begin_array();
    for (const auto& i : inventories)
      w.begin_object()
          .member("product_type", i.product_type)
          .member("total", i.total)
          .member("remaining", i.remaining)
          .member("used", i.used)
          .end_object();
    w.end_array().end_object();
    if (!choice.chosen) {
      auto failed = outcome::failed(
          choice.rejected ? error_class::rejected : error_class::invalid_request, choice.error);
      failed.report_json = w.str();
      return failed;
    }
    backend_->learnt_client_id = choice.chosen->id;
    return outcome::done(w.str());
  }

  outcome failure(const http_response& a, std::string_view what) {
    return ecs_failure(settings_, a, what, now());
  }

  http_request request(std::string_view path) { return ecs_call(settings_, "GET", path); }

  std::shared_ptr<backend_state> backend_;
  const entrust_settings& settings_;
  std::vector<client_info> clients_;
  bool inventory_stage_ = false;
};

}  // namespace

std::unique_ptr<job_session> start_account_report(std::shared_ptr<backend_state> backend) {
  return std::make_unique<account_report>(std::move(backend));
}

}  // namespace cbcs::protocol::ca::entrust
