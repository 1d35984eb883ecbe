#include "actors/http/negotiate_transport.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>

#ifdef CBCS_KERBEROS
#include "crypto/negotiate_client.hpp"
#endif

namespace cbcs::actors {

namespace ca = protocol::ca;

std::string url_host(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  auto authority = url.substr(scheme + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (auto at = authority.rfind('@'); at != std::string_view::npos)
    authority = authority.substr(at + 1);
  if (authority.starts_with('[')) {
    auto close = authority.find(']');
    return close == std::string_view::npos ? std::string{}
                                           : std::string(authority.substr(1, close - 1));
  }
  return std::string(authority.substr(0, authority.find(':')));
}

#ifdef CBCS_KERBEROS
namespace {

class negotiating_transport final : public ca::transport {
 public:
  negotiating_transport(std::shared_ptr<ca::transport> inner, const ca::kerberos_identity& id)
      : inner_(std::move(inner)), client_(id.principal, id.keytab) {
    worker_ = std::thread([this] { run(); });
  }

  ~negotiating_transport() override {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    worker_.join();
  }

  void send(const ca::http_request& request, completion done) override {
    {
      std::lock_guard lock(mutex_);
      queue_.emplace_back(request, std::move(done));
    }
    wake_.notify_one();
  }

 private:
  void run() {
    for (;;) {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping
      auto [request, done] = std::move(queue_.front());
      queue_.pop_front();
      bool stopping = stop_;
      lock.unlock();
      if (stopping) {
        done({}, {ca::transport_failure::not_sent, "the backend is stopping"});
        continue;
      }
      auto got = client_.token_for(url_host(request.url));
      if (auto* failed = std::get_if<crypto::negotiate_client::failure>(&got)) {
        done({}, {failed->reached ? ca::transport_failure::authentication
                                  : ca::transport_failure::not_sent,
                  std::move(failed->message)});
        continue;
      }
      // RFC 4559 4.2: credentials = "Negotiate" auth-data2, the base64
      // gssapi-data. Sent with the first request rather than after a 401:
      // the server needs no challenge to accept it, and a placement goes out
      // once only.
      request.headers.push_back({"Authorization", "Negotiate " + std::get<std::string>(got)});
      inner_->send(request, std::move(done));
    }
  }

  std::shared_ptr<ca::transport> inner_;
  crypto::negotiate_client client_;  // used by the worker only
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<ca::http_request, completion>> queue_;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace

bool negotiate_built() { return true; }

std::shared_ptr<ca::transport> make_negotiating_transport(std::shared_ptr<ca::transport> inner,
                                                          const ca::kerberos_identity& id) {
  return std::make_shared<negotiating_transport>(std::move(inner), id);
}
#else
bool negotiate_built() { return false; }

std::shared_ptr<ca::transport> make_negotiating_transport(std::shared_ptr<ca::transport>,
                                                          const ca::kerberos_identity&) {
  throw std::runtime_error("Kerberos (Negotiate) is not built in this cbcs");
}
#endif

}  // namespace cbcs::actors
