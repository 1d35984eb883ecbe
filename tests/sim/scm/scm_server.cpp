#include "tests/sim/scm/scm_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <fmt/format.h>

#include <deque>
#include <memory>
#include <string>
#include <variant>

#include "tests/sim/common/http_date.hpp"
#include "tests/sim/common/json_out.hpp"
#include "tests/sim/common/tcp_listener.hpp"

namespace cbcs::sim::scm {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

using tls_stream = beast::ssl_stream<beast::tcp_stream>;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

template <class... Args>
void log(fmt::format_string<Args...> f, Args&&... args) {
  fmt::print(stderr, "cbcs-sim scm: {}\n", fmt::format(f, std::forward<Args>(args)...));
}

response json_response(const request& req, int status, std::string body) {
  response res{static_cast<http::status>(status), req.version()};
  res.set(http::field::server, "cbcs-sim");
  res.set(http::field::date, http_date_now());
  res.set(http::field::content_type, "application/json");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

// Ends a failed accept loop or connection without noise for the usual reasons.
bool is_quiet(beast::error_code ec) {
  return ec == asio::error::operation_aborted || ec == http::error::end_of_stream ||
         ec == asio::error::eof || ec == beast::error::timeout ||
         ec == ssl::error::stream_truncated;
}

// ---------------------------------------------------------------------------
// The WebSocket session: SCM's side of PROTOCOL.md §3-§7 for one connection.

class ws_session : public session_link, public std::enable_shared_from_this<ws_session> {
 public:
  ws_session(tls_stream&& stream, std::string connector_id, scm_state& state)
      : ws_(std::move(stream)),
        connector_id_(std::move(connector_id)),
        state_(state),
        tick_(ws_.get_executor()),
        delay_(ws_.get_executor()) {}

  void run(request req) {
    websocket::stream_base::timeout t{};
    t.handshake_timeout = 15s;
    t.idle_timeout = websocket::stream_base::none();  // our own dead-link check instead
    t.keep_alive_pings = false;
    ws_.set_option(t);
    // Beyond 1 MiB is answered too_large; far beyond, the connection goes.
    ws_.read_message_max(4 * proto::max_frame_bytes);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "cbcs-sim"); }));
    beast::get_lowest_layer(ws_).expires_never();
    ws_.async_accept(req, beast::bind_front_handler(&ws_session::on_accept, shared_from_this()));
  }

  // --- session_link
  void offer_jobs() override {
    if (phase_ != phase::ready) return;
    for (auto& m : state_.take_jobs(connector_id_)) send(std::move(m));
  }

  void say_bye(std::string_view reason, std::string_view message) override {
    if (phase_ == phase::closed || bye_sent_) return;
    proto::bye_msg bye;
    bye.reason = std::string(reason);
    bye.message = std::string(message);
    send(std::move(bye));
    bye_sent_ = true;
    phase_ = phase::draining;
    // The peer closes after its drain (5 s); we close ourselves a little later.
    drain_deadline_ = clock::now() + 6s;
  }

  void drop() override {
    if (phase_ == phase::closed) return;
    log("{}: dropping the session (no bye)", connector_id_);
    close_socket();
  }

  void close_socket() {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

  void send_cancel(const std::string& job_id, const std::string& reason) override {
    proto::cancel_msg m;
    m.job_id = job_id;
    m.reason = reason;
    send(std::move(m));
  }

  void send_garbage(int frames) override {
    for (int i = 0; i < frames; ++i) enqueue(fmt::format("}}{{ garbage frame {} [not json", i));
  }

 private:
  using clock = std::chrono::steady_clock;
  enum class phase { awaiting_hello, ready, draining, closed };

  void on_accept(beast::error_code ec) {
    if (ec) {
      log("{}: WebSocket accept failed: {}", connector_id_, ec.message());
      return;
    }
    log("{}: session opened", connector_id_);
    started_ = last_rx_ = last_heartbeat_ = clock::now();
    schedule_tick();
    do_read();
  }

  void do_read() {
    ws_.async_read(buffer_, beast::bind_front_handler(&ws_session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) {
      if (ec != websocket::error::closed && !is_quiet(ec))
        log("{}: session read failed: {}", connector_id_, ec.message());
      return finish();
    }
    last_rx_ = clock::now();
    std::string text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    if (!ws_.got_text()) {
      send_error(proto::error_code::malformed, "binary frames are not used", std::nullopt);
      count_malformed();
    } else {
      handle(text);
    }
    if (phase_ != phase::closed) do_read();
  }

  void handle(const std::string& text) {
    proto::message msg;
    try {
      msg = proto::decode(text);
    } catch (const proto::scm_protocol_error& e) {
      log("{}: bad frame: {}", connector_id_, e.what());
      if (e.type() != proto::error_msg::type)  // never answer an error with an error
        send_error(proto::to_string(e.kind()), e.what(), e.seq());
      if (e.kind() == proto::error_kind::malformed) count_malformed();
      return;
    }
    std::visit([this](auto& m) { on_message(m); }, msg);
  }

  // --- Frames by type.

  void on_message(proto::hello_msg& m) {
    if (phase_ != phase::awaiting_hello) return out_of_state(m.type, m.seq);
    auto* c = state_.find(connector_id_);
    if (!c) return say_bye(proto::bye_reason::deregistered, "this connector was deleted in SCM");
    if (m.connector_id != connector_id_) {
      send_error(proto::error_code::malformed,
                 "hello.connector_id does not match the client certificate", m.seq);
      return say_bye(proto::bye_reason::protocol_error, "connector id mismatch");
    }
    if (m.protocol < proto::protocol_version) {
      send_error(proto::error_code::unsupported_protocol, "SCM speaks protocol 1 only", m.seq);
      return say_bye(proto::bye_reason::unsupported_protocol, "SCM speaks protocol 1 only");
    }
    proto::hello_ack_msg ack;
    ack.protocol = proto::protocol_version;
    ack.server_time_ms = state_.now_ms();
    ack.heartbeat_interval_ms = state_.options().heartbeat_ms;
    send(std::move(ack));
    phase_ = phase::ready;
    log("{}: ready (version {}, {} backends)", connector_id_, m.version, m.backends.size());
    state_.on_ready(connector_id_, m, shared_from_this());
    if (int n = state_.take_garbage()) send_garbage(n);
    offer_jobs();
  }

  void on_message(proto::heartbeat_msg& m) {
    if (!after_hello()) return out_of_state(m.type, m.seq);
    state_.on_heartbeat(connector_id_, m);
    proto::heartbeat_ack_msg ack;
    ack.ack = m.seq;
    ack.time_ms = state_.now_ms();
    send(std::move(ack));
  }

  void on_message(proto::heartbeat_ack_msg& m) {
    if (!after_hello()) return out_of_state(m.type, m.seq);
  }

  void on_message(proto::job_ack_msg& m) {
    if (!after_hello()) return out_of_state(m.type, m.seq);
    if (auto err = state_.on_job_ack(connector_id_, m)) send(std::move(*err));
  }

  void on_message(proto::result_msg& m) {
    if (!after_hello()) return out_of_state(m.type, m.seq);
    if (auto err = state_.on_result(connector_id_, m)) return send(std::move(*err));
    proto::result_ack_msg ack;
    ack.job_id = m.job_id;
    send(std::move(ack));
  }

  void on_message(proto::pending_msg& m) {
    if (!after_hello()) return out_of_state(m.type, m.seq);
    if (auto err = state_.on_pending(connector_id_, m)) send(std::move(*err));
  }

  void on_message(proto::renew_identity_msg& m) {
    if (phase_ != phase::ready) return out_of_state(m.type, m.seq);
    try {
      proto::identity_msg id;
      id.certificate_pem = state_.renew(connector_id_, m.csr_pem);
      send(std::move(id));
      log("{}: identity renewed", connector_id_);
    } catch (const std::exception& e) {
      send_error(proto::error_code::renewal_refused, e.what(), m.seq);
    }
  }

  void on_message(proto::error_msg& m) {
    log("{}: connector sent error {}: {}", connector_id_, m.code, m.message);
    state_.on_connector_error(connector_id_, m);
  }

  void on_message(proto::bye_msg& m) {
    log("{}: connector said bye ({})", connector_id_, m.reason);
    if (phase_ == phase::ready) phase_ = phase::draining;
    if (!drain_deadline_) drain_deadline_ = clock::now() + 6s;
  }

  // SCM -> connector types arriving here are in the wrong direction.
  template <class M>
  void on_message(M& m) {
    out_of_state(M::type, m.seq);
  }

  bool after_hello() const { return phase_ == phase::ready || phase_ == phase::draining; }

  void out_of_state(std::string_view type, std::uint64_t seq) {
    send_error(proto::error_code::out_of_state,
               fmt::format("\"{}\" is not allowed now or in this direction", type), seq);
  }

  void count_malformed() {
    // More than 10 malformed frames within 60 s: the peer is broken.
    auto now = clock::now();
    malformed_.push_back(now);
    while (!malformed_.empty() && now - malformed_.front() > 60s) malformed_.pop_front();
    if (malformed_.size() > 10)
      say_bye(proto::bye_reason::protocol_error, "more than 10 malformed frames within 60 s");
  }

  // --- Sending: one write at a time, in order.

  void send_error(std::string_view code, std::string message, std::optional<std::uint64_t> ref) {
    proto::error_msg e;
    e.code = std::string(code);
    e.message = std::move(message);
    e.ref_seq = ref;
    send(std::move(e));
  }

  template <class M>
  void send(M m) {
    if (phase_ == phase::closed) return;
    m.seq = ++seq_out_;
    auto text = proto::encode(m);
    if (state_.faults().duplicate_frames) enqueue(text);
    enqueue(std::move(text));
  }

  void enqueue(std::string text) {
    outbox_.push_back(std::move(text));
    if (!writing_) write_next();
  }

  void write_next() {
    if (outbox_.empty() || phase_ == phase::closed) {
      writing_ = false;
      if (close_when_flushed_ && phase_ != phase::closed) close_now();
      return;
    }
    writing_ = true;
    if (int delay = state_.faults().delay_ms; delay > 0) {
      delay_.expires_after(std::chrono::milliseconds(delay));
      delay_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (ec) return;
        self->do_write();
      });
      return;
    }
    do_write();
  }

  void do_write() {
    if (phase_ == phase::closed) return;
    ws_.text(true);
    ws_.async_write(asio::buffer(outbox_.front()),
                    beast::bind_front_handler(&ws_session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec) {
      if (!is_quiet(ec)) log("{}: session write failed: {}", connector_id_, ec.message());
      close_socket();
      return finish();
    }
    outbox_.pop_front();
    write_next();
  }

  // Closes the WebSocket with 1000 once every queued frame is out.
  void close_when_flushed() {
    close_when_flushed_ = true;
    if (!writing_) close_now();
  }

  void close_now() {
    if (closing_) return;
    closing_ = true;
    ws_.async_close(websocket::close_code::normal,
                    [self = shared_from_this()](beast::error_code) { self->close_socket(); });
  }

  // --- Timers: hello deadline, heartbeats, dead link, lease expiry, drain.

  void schedule_tick() {
    auto interval = std::chrono::milliseconds(state_.options().heartbeat_ms);
    tick_.expires_after(std::clamp<std::chrono::milliseconds>(interval / 4, 50ms, 1000ms));
    tick_.async_wait(beast::bind_front_handler(&ws_session::on_tick, shared_from_this()));
  }

  void on_tick(beast::error_code ec) {
    if (ec || phase_ == phase::closed) return;
    auto now = clock::now();
    auto interval = std::chrono::milliseconds(state_.options().heartbeat_ms);
    if (phase_ == phase::awaiting_hello && now - started_ > 15s) {
      log("{}: no hello within 15 s", connector_id_);
      drop();
    } else if (now - last_rx_ > 3 * interval) {
      log("{}: dead link: nothing received for {} ms", connector_id_, 3 * interval.count());
      drop();
    } else if (drain_deadline_ && now > *drain_deadline_) {
      close_when_flushed();
    } else if (phase_ == phase::ready) {
      if (now - last_heartbeat_ >= interval) {
        last_heartbeat_ = now;
        proto::heartbeat_msg hb;
        hb.time_ms = state_.now_ms();
        send(std::move(hb));
      }
      offer_jobs();  // leases that ran out go out again
    }
    schedule_tick();
  }

  void finish() {
    if (phase_ == phase::closed) return;
    bool was_up = after_hello();
    phase_ = phase::closed;
    tick_.cancel();
    delay_.cancel();
    log("{}: session closed", connector_id_);
    if (was_up) state_.on_closed(connector_id_, this);
  }

  websocket::stream<tls_stream> ws_;
  std::string connector_id_;
  scm_state& state_;
  beast::flat_buffer buffer_;
  asio::steady_timer tick_;
  asio::steady_timer delay_;
  phase phase_ = phase::awaiting_hello;
  std::uint64_t seq_out_ = 0;
  std::deque<std::string> outbox_;
  bool writing_ = false;
  bool bye_sent_ = false;
  bool close_when_flushed_ = false;
  bool closing_ = false;
  clock::time_point started_, last_rx_, last_heartbeat_;
  std::optional<clock::time_point> drain_deadline_;
  std::deque<clock::time_point> malformed_;
};

// ---------------------------------------------------------------------------
// One TLS connection: registration requests, or the upgrade to a session.

class tls_session : public std::enable_shared_from_this<tls_session> {
 public:
  tls_session(tcp::socket&& socket, ssl::context& ctx, scm_state& state)
      : stream_(std::move(socket), ctx), state_(state) {}

  void run() {
    beast::get_lowest_layer(stream_).expires_after(15s);
    stream_.async_handshake(
        ssl::stream_base::server,
        beast::bind_front_handler(&tls_session::on_handshake, shared_from_this()));
  }

 private:
  void on_handshake(beast::error_code ec) {
    if (ec) {
      log("TLS handshake failed: {}", ec.message());
      return;
    }
    do_read();
  }

  void do_read() {
    parser_.emplace();
    parser_->body_limit(proto::max_frame_bytes);
    beast::get_lowest_layer(stream_).expires_after(30s);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&tls_session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream) return do_shutdown();
    if (ec) {
      if (!is_quiet(ec)) log("HTTPS read failed: {}", ec.message());
      return;
    }
    request req = parser_->release();
    if (websocket::is_upgrade(req)) return on_upgrade(std::move(req));
    auto target = std::string_view(req.target().data(), req.target().size());
    if (target != proto::registration_path)
      return reply(json_response(req, 404, R"({"error":"not_found","message":"no such path"})"));
    if (req.method() != http::verb::post)
      return reply(json_response(
          req, 405, R"({"error":"malformed_request","message":"registration is a POST"})"));
    auto answer = state_.register_connector(req.body());
    log("registration: HTTP {}", answer.status);
    reply(json_response(req, answer.status, std::move(answer.body)));
  }

  void on_upgrade(request req) {
    auto target = std::string_view(req.target().data(), req.target().size());
    if (target != session_path)
      return reply(json_response(req, 404, R"({"error":"not_found","message":"no such path"})"));
    SSL* ssl = stream_.native_handle();
    std::string connector_id;
    auto problem = state_.check_client(SSL_get0_peer_certificate(ssl), SSL_get_verify_result(ssl),
                                       connector_id);
    if (!problem.empty()) {
      log("session refused: {}", problem);
      auto res = json_response(
          req, 403, json_object{}.str("error", "forbidden").str("message", problem).done());
      res.keep_alive(false);
      return reply(std::move(res));
    }
    std::make_shared<ws_session>(std::move(stream_), connector_id, state_)->run(std::move(req));
  }

  void reply(response res) {
    res_ = std::make_shared<response>(std::move(res));
    beast::get_lowest_layer(stream_).expires_after(30s);
    http::async_write(
        stream_, *res_,
        beast::bind_front_handler(&tls_session::on_write, shared_from_this(), res_->keep_alive()));
  }

  void on_write(bool keep_alive, beast::error_code ec, std::size_t) {
    if (ec) return;
    res_.reset();
    if (!keep_alive) return do_shutdown();
    do_read();
  }

  void do_shutdown() {
    beast::get_lowest_layer(stream_).expires_after(5s);
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
  }

  tls_stream stream_;
  scm_state& state_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<response> res_;
};

// ---------------------------------------------------------------------------
// One admin connection: plain HTTP, JSON bodies.

class admin_session : public std::enable_shared_from_this<admin_session> {
 public:
  admin_session(tcp::socket&& socket, scm_state& state)
      : stream_(std::move(socket)), state_(state) {}

  void run() { do_read(); }

 private:
  void do_read() {
    parser_.emplace();
    parser_->body_limit(64 * proto::max_frame_bytes);
    stream_.expires_after(60s);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&admin_session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) {
      if (!is_quiet(ec)) log("admin read failed: {}", ec.message());
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return;
    }
    request req = parser_->release();
    auto method = req.method_string();
    auto target = req.target();
    auto answer = state_.admin(std::string_view(method.data(), method.size()),
                               std::string_view(target.data(), target.size()), req.body());
    res_ = std::make_shared<response>(json_response(req, answer.status, std::move(answer.body)));
    http::async_write(stream_, *res_,
                      beast::bind_front_handler(&admin_session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec) return;
    bool keep_alive = res_->keep_alive();
    res_.reset();
    if (!keep_alive) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return;
    }
    do_read();
  }

  beast::tcp_stream stream_;
  scm_state& state_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<response> res_;
};

void make_tls_context(ssl::context& ctx, const scm_identity& identity) {
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  ctx.use_certificate_chain(asio::buffer(identity.server_chain_pem()));
  ctx.use_private_key(asio::buffer(identity.server_key_pem()), ssl::context::pem);
  // Client certificates are asked for (registration sends none) and checked
  // against the SCM CA only; the verdict is read at the upgrade, where a
  // refusal can say why. Time is checked on the simulator's clock, not here.
  ctx.add_certificate_authority(asio::buffer(identity.ca_pem()));
  SSL_CTX_add_client_CA(ctx.native_handle(), identity.ca_cert());
  X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx.native_handle()), X509_V_FLAG_NO_CHECK_TIME);
  ctx.set_verify_mode(ssl::verify_peer);
  ctx.set_verify_callback([](bool, ssl::verify_context&) { return true; });
}

}  // namespace

void serve(scm_state& state, const serve_options& options,
           const std::function<void(std::uint16_t, std::uint16_t)>& on_listening) {
  asio::io_context ioc{1};
  ssl::context ctx{ssl::context::tls_server};
  make_tls_context(ctx, state.identity());

  auto scm = std::make_shared<tcp_listener>(ioc, options.port, [&](tcp::socket&& s) {
    std::make_shared<tls_session>(std::move(s), ctx, state)->run();
  });
  auto admin = std::make_shared<tcp_listener>(ioc, options.admin_port, [&](tcp::socket&& s) {
    std::make_shared<admin_session>(std::move(s), state)->run();
  });
  // SIGINT/SIGTERM: no new connections, bye to every session, then stop.
  // Installed before the ready line, so a test may stop us right after it.
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  asio::steady_timer grace(ioc);
  signals.async_wait([&](beast::error_code ec, int) {
    if (ec) return;
    log("stopping");
    scm->stop();
    admin->stop();
    state.for_each_session(
        [](session_link& s) { s.say_bye(proto::bye_reason::shutdown, "simulator stopping"); });
    grace.expires_after(300ms);
    grace.async_wait([&](beast::error_code) { ioc.stop(); });
  });
  on_listening(scm->port(), admin->port());
  scm->run();
  admin->run();
  ioc.run();
}

}  // namespace cbcs::sim::scm
