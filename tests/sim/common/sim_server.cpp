#include "tests/sim/common/sim_server.hpp"

#include "tests/sim/common/http_date.hpp"

#include "tests/sim/common/tcp_listener.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <fmt/format.h>
#include <simdjson.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <stdexcept>

namespace cbcs::sim {

// Named, not anonymous: cbcs-sim builds as unity batches.
namespace server_detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

bool is_quiet(beast::error_code ec) {
  return ec == asio::error::operation_aborted || ec == http::error::end_of_stream ||
         ec == asio::error::eof || ec == beast::error::timeout ||
         ec == ssl::error::stream_truncated || ec == asio::error::connection_reset;
}

sim_request to_sim_request(const request& req) {
  sim_request r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  auto q = r.target.find('?');
  r.path = r.target.substr(0, q);
  if (q != std::string::npos) r.query = r.target.substr(q + 1);
  for (const auto& f : req)
    r.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  r.body = req.body();
  return r;
}

response to_response(const request& req, const sim_response& s) {
  response res{static_cast<http::status>(s.status), req.version()};
  res.set(http::field::server, "cbcs-sim");
  res.set(http::field::date, http_date_now());
  if (!s.content_type.empty()) res.set(http::field::content_type, s.content_type);
  for (const auto& [name, value] : s.headers) res.set(name, value);
  res.keep_alive(req.keep_alive());
  res.body() = s.body;
  res.prepare_payload();
  return res;
}

// One connection, TLS (the service) or plain (admin).
template <class Stream>
class connection : public std::enable_shared_from_this<connection<Stream>> {
 public:
  template <class... Args>
  connection(sim_server& server, bool admin, Args&&... args)
      : stream_(std::forward<Args>(args)...),
        server_(server),
        admin_(admin),
        delay_(stream_.get_executor()) {}

  void run() {
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      beast::get_lowest_layer(stream_).expires_after(15s);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) {
                                  if (!is_quiet(ec))
                                    self->server_.log("TLS handshake failed: " + ec.message());
                                  return;
                                }
                                self->do_read();
                              });
    } else {
      do_read();
    }
  }

 private:
  void do_read() {
    parser_.emplace();
    parser_->body_limit(server_.body_limit());
    beast::get_lowest_layer(stream_).expires_after(60s);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream) return shutdown();
    if (ec) {
      if (!is_quiet(ec)) server_.log("read failed: " + ec.message());
      return close();
    }
    req_ = parser_->release();
    auto sreq = to_sim_request(req_);
    if (admin_) return write(server_.serve_admin(sreq));
    auto answer = server_.serve_service(sreq);
    truncate_ = answer.truncate;
    if (answer.late) {
      delay_.expires_after(std::chrono::milliseconds(answer.latency_ms));
      delay_.async_wait([self = this->shared_from_this(), sreq,
                         index = answer.log_index](beast::error_code ec) mutable {
        if (ec) return;
        auto r = self->server_.run_late(sreq, index);
        self->respond(std::move(r));
      });
      return;
    }
    if (answer.latency_ms > 0) {
      delay_.expires_after(std::chrono::milliseconds(answer.latency_ms));
      delay_.async_wait([self = this->shared_from_this(),
                         response = std::move(answer.response)](beast::error_code ec) mutable {
        if (ec) return;
        self->respond(std::move(response));
      });
      return;
    }
    respond(std::move(answer.response));
  }

  void respond(std::optional<sim_response> r) {
    if (!r) return close();  // injected reset
    if (truncate_) return write_truncated(*r);
    write(*r);
  }

  // The answer as it would go on the wire, cut after the headers and half
  // the body (its Content-Length still the whole), then a reset.
  void write_truncated(const sim_response& r) {
    auto res = to_response(req_, r);
    std::ostringstream wire;
    wire << res;
    auto cut = std::make_shared<std::string>(wire.str());
    cut->resize(cut->size() - res.body().size() + res.body().size() / 2);
    beast::get_lowest_layer(stream_).expires_after(60s);
    asio::async_write(
        stream_, asio::buffer(*cut),
        [self = this->shared_from_this(), cut](beast::error_code, std::size_t) { self->close(); });
  }

  void write(const sim_response& r) {
    res_ = std::make_shared<response>(to_response(req_, r));
    beast::get_lowest_layer(stream_).expires_after(60s);
    http::async_write(stream_, *res_,
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec) return self->close();
                        bool keep = self->res_->keep_alive();
                        self->res_.reset();
                        if (!keep) return self->shutdown();
                        self->do_read();
                      });
  }

  void shutdown() {
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      beast::get_lowest_layer(stream_).expires_after(5s);
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    } else {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
  }

  void close() {
    beast::error_code ignored;
    auto& socket = beast::get_lowest_layer(stream_).socket();
    socket.set_option(asio::socket_base::linger(true, 0), ignored);  // RST, not FIN
    socket.close(ignored);
  }

  Stream stream_;
  sim_server& server_;
  bool admin_;
  asio::steady_timer delay_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  request req_;
  std::shared_ptr<response> res_;
  bool truncate_ = false;
};

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool fault_matches(const sim_fault& f, const sim_request& req) {
  return (f.method.empty() || iequal(f.method, req.method)) && req.path.starts_with(f.path_prefix);
}

std::string fault_json(const sim_fault& f) {
  return json_object{}
      .str("method", f.method)
      .str("path_prefix", f.path_prefix)
      .num("count", f.count)
      .num("latency_ms", f.latency_ms)
      .num("status", f.status)
      .str("body", f.body)
      .str("retry_after", f.retry_after)
      .boolean("reset", f.reset)
      .boolean("garbage", f.garbage)
      .boolean("truncate", f.truncate)
      .boolean("late", f.late)
      .done();
}

std::string fault_name(const sim_fault& f) {
  if (f.reset) return "reset";
  if (f.garbage) return "garbage";
  if (f.truncate) return "truncate";
  if (f.late) return fmt::format("late {} ms", f.latency_ms);
  if (f.status) return fmt::format("status {}", f.status);
  return fmt::format("latency {} ms", f.latency_ms);
}

// A fault from its JSON object; throws std::invalid_argument.
sim_fault parse_fault(simdjson::dom::object o) {
  sim_fault f;
  for (auto [key, value] : o) {
    std::string_view k = key;
    auto text = [&]() {
      std::string_view v;
      if (value.get_string().get(v))
        throw std::invalid_argument(fmt::format("{} must be a string", k));
      return std::string(v);
    };
    auto number = [&](std::int64_t max) {
      std::int64_t v = 0;
      if (value.get_int64().get(v) || v < 0 || v > max)
        throw std::invalid_argument(fmt::format("{} must be a number from 0 to {}", k, max));
      return static_cast<int>(v);
    };
    auto flag = [&]() {
      bool v = false;
      if (value.get_bool().get(v))
        throw std::invalid_argument(fmt::format("{} must be true or false", k));
      return v;
    };
    if (k == "method")
      f.method = text();
    else if (k == "path_prefix")
      f.path_prefix = text();
    else if (k == "count")
      f.count = number(1'000'000);
    else if (k == "latency_ms")
      f.latency_ms = number(600'000);
    else if (k == "status")
      f.status = number(599);
    else if (k == "body")
      f.body = text();
    else if (k == "retry_after")
      f.retry_after = text();
    else if (k == "reset")
      f.reset = flag();
    else if (k == "garbage")
      f.garbage = flag();
    else if (k == "truncate")
      f.truncate = flag();
    else if (k == "late")
      f.late = flag();
    else
      throw std::invalid_argument(fmt::format("unknown fault key {}", k));
  }
  if (f.count < 1) throw std::invalid_argument("count must be at least 1");
  if (f.status != 0 && f.status < 100) throw std::invalid_argument("status must be 100 to 599");
  if (f.late && (!f.latency_ms || f.reset || f.garbage || f.status || f.truncate))
    throw std::invalid_argument(
        "late needs latency_ms, and neither status, reset, garbage nor truncate");
  if (f.truncate && (f.reset || f.garbage))
    throw std::invalid_argument("truncate cuts the handler's answer: not with reset or garbage");
  if (!f.reset && !f.garbage && !f.status && !f.latency_ms && !f.truncate)
    throw std::invalid_argument("a fault needs status, latency_ms, reset, garbage or truncate");
  return f;
}

}  // namespace server_detail

using namespace server_detail;

sim_server::sim_server(const sim_pki& pki, sim_server_options options)
    : pki_(pki), options_(std::move(options)) {}

sim_server::~sim_server() = default;

void sim_server::set_error_body(std::function<std::string(int, std::string_view)> f) {
  error_body_ = std::move(f);
}

std::string sim_server::error_body(int status, std::string_view message) const {
  if (error_body_) return error_body_(status, message);
  return json_object{}
      .raw("error", json_object{}.num("code", status).str("message", message).done())
      .done();
}

void sim_server::log(std::string_view line) const {
  fmt::print(stderr, "cbcs-sim {}: {}\n", options_.name, line);
}

sim_server::service_answer sim_server::serve_service(sim_request& req) {
  logged_request entry;
  entry.seq = ++seq_;
  entry.time_ms = now_ms();
  entry.method = req.method;
  entry.target = req.target;
  auto auth = req.header("Authorization");
  entry.auth_scheme = auth.substr(0, auth.find(' '));
  entry.body = req.body.substr(0, 4096);

  service_answer answer;
  std::optional<sim_fault> fault;
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (!fault_matches(*it, req)) continue;
    fault = *it;
    if (--it->count <= 0) faults_.erase(it);
    break;
  }
  if (fault) {
    entry.fault = fault_name(*fault);
    answer.latency_ms = fault->latency_ms;
  }
  if (fault && fault->reset) {
    entry.status = 0;
  } else if (fault && fault->garbage) {
    answer.response = sim_response::json(200, "}{ garbage from cbcs-sim, not JSON <html>");
  } else if (fault && fault->status) {
    auto r = sim_response::json(fault->status, fault->body.empty()
                                                   ? error_body(fault->status, "injected fault")
                                                   : fault->body);
    if (!fault->retry_after.empty()) r.headers.emplace_back("Retry-After", fault->retry_after);
    answer.response = std::move(r);
  } else if (fault && fault->late) {
    answer.late = true;  // the handler runs later (run_late)
  } else {
    answer.response = dispatch(req);
    answer.truncate = fault && fault->truncate;
  }
  if (answer.response) entry.status = answer.response->status;
  answer.log_index = log_.size();
  log_.push_back(std::move(entry));
  return answer;
}

sim_response sim_server::dispatch(sim_request& req) {
  try {
    auto response = routes_.dispatch(req);
    if (!response) return sim_response::json(404, error_body(404, "no such resource: " + req.path));
    if (response->status == 405 && response->body.empty())
      return sim_response::json(405,
                                error_body(405, req.method + " is not allowed on " + req.path));
    return *response;
  } catch (const std::exception& e) {
    log(fmt::format("handler failed on {} {}: {}", req.method, req.path, e.what()));
    return sim_response::json(500, error_body(500, e.what()));
  }
}

sim_response sim_server::run_late(sim_request& req, std::size_t log_index) {
  auto response = dispatch(req);
  // A reset since (POST /reset) cleared the log: nothing to update.
  if (log_index < log_.size()) log_[log_index].status = response.status;
  return response;
}

std::string sim_server::requests_json(const sim_request& req) const {
  auto method = req.query_param("method"), prefix = req.query_param("path_prefix");
  json_array a;
  for (const auto& e : log_) {
    if (method && !iequal(*method, e.method)) continue;
    if (prefix && !e.target.starts_with(*prefix)) continue;
    a.raw(json_object{}
              .num("seq", static_cast<std::int64_t>(e.seq))
              .num("time_ms", e.time_ms)
              .str("method", e.method)
              .str("target", e.target)
              .num("status", e.status)
              .str("auth_scheme", e.auth_scheme)
              .str("body", e.body)
              .str("fault", e.fault)
              .done());
  }
  return a.done();
}

sim_response sim_server::admin_faults(sim_request& req) {
  if (iequal(req.method, "GET") || iequal(req.method, "DELETE")) {
    if (iequal(req.method, "DELETE")) faults_.clear();
    json_array a;
    for (const auto& f : faults_) a.raw(fault_json(f));
    return sim_response::json(200, a.done());
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(req.body).get(doc))
    return sim_response::json(400, R"({"error":"the body is not JSON"})");
  std::vector<sim_fault> added;
  try {
    simdjson::dom::array list;
    simdjson::dom::object one;
    if (!doc.get_array().get(list)) {
      for (auto item : list) {
        if (item.get_object().get(one)) throw std::invalid_argument("each fault is an object");
        added.push_back(parse_fault(one));
      }
    } else if (!doc.get_object().get(one)) {
      added.push_back(parse_fault(one));
    } else {
      throw std::invalid_argument("a fault object or a list of them");
    }
  } catch (const std::invalid_argument& e) {
    return sim_response::json(400, json_object{}.str("error", e.what()).done());
  }
  json_array a;
  for (auto& f : added) {
    a.raw(fault_json(f));
    faults_.push_back(std::move(f));
  }
  return sim_response::json(200, a.done());
}

sim_response sim_server::serve_admin(sim_request& req) {
  try {
    if (req.path == "/health") return sim_response::json(200, R"({"ok":true})");
    if (req.path == "/requests" && iequal(req.method, "GET"))
      return sim_response::json(200, requests_json(req));
    if (req.path == "/faults") return admin_faults(req);
    if (req.path == "/reset" && iequal(req.method, "POST")) {
      faults_.clear();
      log_.clear();
      if (on_reset_) on_reset_();
      return sim_response::json(200, R"({"reset":true})");
    }
    if (auto r = admin_routes_.dispatch(req)) return *r;
  } catch (const std::exception& e) {
    return sim_response::json(400, json_object{}.str("error", e.what()).done());
  }
  return sim_response::json(404, R"({"error":"no such admin resource"})");
}

void sim_server::run(const std::function<void(std::uint16_t, std::uint16_t)>& on_listening) {
  asio::io_context ioc{1};
  ssl::context ctx{ssl::context::tls_server};
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  ctx.use_certificate_chain(asio::buffer(pki_.server_chain_pem()));
  ctx.use_private_key(asio::buffer(pki_.server_key_pem()), ssl::context::pem);
  if (!options_.client_ca_pem.empty()) {
    ctx.add_certificate_authority(asio::buffer(options_.client_ca_pem));
    ctx.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  }

  using tls_connection = connection<beast::ssl_stream<beast::tcp_stream>>;
  using plain_connection = connection<beast::tcp_stream>;
  auto service = std::make_shared<tcp_listener>(ioc, options_.port, [&](tcp::socket&& s) {
    std::make_shared<tls_connection>(*this, false, std::move(s), ctx)->run();
  });
  auto admin = std::make_shared<tcp_listener>(ioc, options_.admin_port, [&](tcp::socket&& s) {
    std::make_shared<plain_connection>(*this, true, std::move(s))->run();
  });
  // Installed before the ready line, so a test may stop us right after it.
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](beast::error_code ec, int) {
    if (ec) return;
    log("stopping");
    ioc.stop();
  });
  on_listening(service->port(), admin->port());
  service->run();
  admin->run();
  ioc.run();
}

json_object ready_line(std::uint16_t port, std::uint16_t admin_port, const sim_pki& pki) {
  json_object line;
  line.str("url", fmt::format("https://127.0.0.1:{}", port))
      .str("admin_url", fmt::format("http://127.0.0.1:{}", admin_port))
      .str("ca_file", pki.ca_file());
  return line;
}

void print_ready_line(const json_object& line) {
  fmt::print("{}\n", line.done());
  std::fflush(stdout);
}

sim_args::sim_args(int argc, char** argv, const std::vector<std::string>& known) {
  for (int i = 0; i < argc; ++i) {
    std::string_view arg = argv[i], value;
    if (arg == "-h" || arg == "--help") {
      help_ = true;
      continue;
    }
    std::string name(arg);
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      throw std::invalid_argument(fmt::format("{} needs a value", arg));
    }
    if (!name.starts_with("--") ||
        std::find(known.begin(), known.end(), name.substr(2)) == known.end())
      throw std::invalid_argument(fmt::format("unknown option {}", name));
    values_[name.substr(2)] = std::string(value);
  }
}

std::string sim_args::get(std::string_view name, std::string fallback) const {
  auto it = values_.find(std::string(name));
  return it == values_.end() ? fallback : it->second;
}

std::int64_t sim_args::number(std::string_view name, std::int64_t fallback, std::int64_t min,
                              std::int64_t max) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end()) return fallback;
  std::int64_t v = 0;
  const auto& t = it->second;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc{} || end != t.data() + t.size() || v < min || v > max)
    throw std::invalid_argument(fmt::format("--{} must be a number from {} to {}", name, min, max));
  return v;
}

}  // namespace cbcs::sim
