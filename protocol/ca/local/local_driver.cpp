#include "protocol/ca/local/local_driver.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "crypto/certificate_authority.hpp"
#include "crypto/digest.hpp"
#include "crypto/pem.hpp"
#include "crypto/per_thread.hpp"
#include "crypto/serial_number.hpp"
#include "protocol/ca/common/report_checks.hpp"
#include "protocol/ca/common/revocation_reason.hpp"
#include "protocol/ca/local/local_ledger.hpp"
#include "protocol/common/json_writer.hpp"

namespace cbcs::protocol::ca::local {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

constexpr seconds default_validity = std::chrono::hours(24 * 30);
constexpr seconds max_validity = std::chrono::hours(24 * 397);

class local_ca final : public driver, public keeps_records {
 public:
  explicit local_ca(const driver_config& config)
      : dir_(fs::path(config.data_dir) / "local-ca" / config.name), ledger_(dir_ / "ledger.db") {
    auto key = config.secrets.find("ca_key");
    auto cert = setting(config.settings, "ca_cert");
    if (key == config.secrets.end() || cert.empty())
      throw std::runtime_error("local CA " + config.name +
                               " has no CA key or certificate (add it again with backend add)");
    key_ = crypto::parse_private_key(key->second);
    cert_ = std::move(crypto::parse_certificates(cert).front());
    cert_pem_ = cert;
    issuer_ = std::make_unique<crypto::certificate_issuer>(key_.get(), cert_.get());
  }

  std::unique_ptr<job_session> start(const job& j, const std::string&) override;
  // Certificates are recorded in one ledger transaction per batch: an outcome
  // leaves the actor only after make_durable() committed it.
  void make_durable() override {
    std::lock_guard lock(mutex_);
    // The transactions this thread's outcomes went into (each worker actor
    // has a thread of its own): all must have committed, not only the last.
    auto mine = std::move(written()[this]);
    written().erase(this);
    ledger_.commit();
    for (auto t : mine)
      if (ledger_.lost(t))
        throw std::runtime_error("the ledger lost a transaction (see the error before this one)");
  }
  // Signing is computation (runtime_policy::computes): one actor per core.
  // Parsing, checking and signing run unlocked (the key, the CA certificate
  // and the issuer are only read); the ledger is one SQLite connection
  // behind mutex_.

  outcome run(const job& j, std::chrono::system_clock::time_point now) {
    try {
      switch (j.op) {
        case operation::enroll:
        case operation::renew:
          return issue(j, now);
        case operation::revoke:
          return revoke(j, now);
        case operation::inventory:
        case operation::test:
          return report();
      }
    } catch (const crypto::csr_error& e) {
      return outcome::failed(error_class::invalid_request, e.what());
    } catch (const std::exception& e) {
      return outcome::failed(error_class::internal, e.what());
    }
    return outcome::failed(error_class::not_implemented, "unknown operation");
  }

 private:
  static std::map<const local_ca*, std::set<std::uint64_t>>& written() {
    using written_map = std::map<const local_ca*, std::set<std::uint64_t>>;
    CBCS_PER_THREAD(written_map, by_driver);
    return by_driver;
  }

  outcome issued_from(const ledger_record& r) {
    return outcome::issued(r.certificate_pem, cert_pem_, r.serial_hex);
  }

  outcome issue(const job& j, std::chrono::system_clock::time_point now) {
    // Idempotent by job id: a replayed job gets the certificate it already has.
    {
      std::lock_guard lock(mutex_);
      if (auto existing = ledger_.find_by_job(j.id)) return issued_from(*existing);
    }
    auto csr = crypto::check_certificate_request(j.csr_pem);
    if (j.op == operation::renew) {
      if (j.cert_pem.empty())
        return outcome::failed(error_class::invalid_request, "renew needs the current certificate");
      auto old = crypto::parse_certificates(j.cert_pem);
      if (!crypto::is_signed_by(old.front().get(), cert_.get()))
        return outcome::failed(error_class::rejected,
                               "the certificate to renew was not issued by this CA");
    }
    seconds validity = j.validity_seconds > 0 ? seconds(j.validity_seconds) : default_validity;
    if (validity > max_validity)
      return outcome::failed(error_class::invalid_request,
                             fmt::format("validity of {} days is above the local CA's limit of "
                                         "397 days",
                                         validity.count() / 86400));
    for (int tries = 0; tries < 4; ++tries) {
      std::vector<std::uint8_t> serial(16);
      if (RAND_bytes(serial.data(), 16) != 1) throw std::runtime_error("random failed");
      serial[0] = static_cast<std::uint8_t>((serial[0] & 0x7f) | 0x01);  // positive, 16 bytes
      auto cert = issuer_->issue(csr, {serial, now, validity});
      ledger_record r{std::move(cert.serial_hex), j.id, csr.subject_line(), std::move(cert.pem)};
      std::unique_lock lock(mutex_);
      if (ledger_.insert(r)) {
        written()[this].insert(ledger_.current_transaction());
        return issued_from(r);
      }
      // A serial collision, or the same job id inserted by another process.
      if (auto existing = ledger_.find_by_job(j.id)) return issued_from(*existing);
    }
    return outcome::failed(error_class::internal, "could not draw a free serial number");
  }

  outcome revoke(const job& j, std::chrono::system_clock::time_point now) {
    auto code = revocation_reason_code(j.reason);
    if (!code)
      return outcome::failed(error_class::invalid_request,
                             fmt::format("unknown revocation reason '{}' (one of {})", j.reason,
                                         revocation_reason_names()));
    std::string why;
    auto parsed = crypto::serial_number::parse(j.serial_hex, &why);
    if (!parsed)
      return outcome::failed(error_class::invalid_request,
                             fmt::format("the job's serial: {}", why));
    // The ledger keeps crypto::serial_hex's form: lower case, even length, no leading 00.
    std::string serial = parsed->hex();
    std::lock_guard lock(mutex_);
    auto record = ledger_.find_by_serial(serial);
    if (!record)
      return outcome::failed(error_class::rejected,
                             fmt::format("serial {} was not issued by this CA", j.serial_hex));
    bool fresh = ledger_.revoke(serial, *code, now);
    // The CRL on disk never lists a revocation the ledger could still lose.
    ledger_.commit();
    write_crl(now);
    json_writer w(false);
    w.begin_object().member("serial", serial).member("already_revoked", !fresh).end_object();
    return outcome::done(w.str());
  }

  void write_crl(std::chrono::system_clock::time_point now) {
    auto crl = crypto::make_crl(key_.get(), cert_.get(), ledger_.revocations(),
                                ledger_.next_crl_number(), now, std::chrono::hours(24 * 7));
    auto path = dir_ / "crl.pem";
    auto temp = dir_ / "crl.pem.tmp";
    {
      std::ofstream out(temp, std::ios::binary | std::ios::trunc);
      out.write(crl.data(), static_cast<std::streamsize>(crl.size()));
      out.close();
      if (!out) throw std::runtime_error("cannot write " + temp.string());
    }
    fs::rename(temp, path);
  }

  outcome report() {
    std::lock_guard lock(mutex_);
    auto not_after = crypto::not_after(cert_.get());
    auto now = std::chrono::system_clock::now();
    auto days_left = std::chrono::duration_cast<std::chrono::hours>(not_after - now).count() / 24;
    report_checks checks;
    auto ca = fmt::format("{}, {} key, valid until {:%Y-%m-%d} ({} days)",
                          crypto::subject_line(cert_.get()), crypto::key_description(key_.get()),
                          fmt::gmtime(std::chrono::system_clock::to_time_t(not_after)), days_left);
    // Certificates it signs end no later than it does.
    if (not_after <= now)
      checks.fail("CA certificate", ca + ": expired");
    else if (days_left < 30)
      checks.warn("CA certificate", ca + ": what it issues ends with it");
    else
      checks.ok("CA certificate", ca);
    checks.ok("ledger", fmt::format("{} issued, {} revoked; CRL {}", ledger_.issued_count(),
                                    ledger_.revoked_count(), (dir_ / "crl.pem").string()));
    json_writer w(false);
    w.begin_object()
        .member("ca", crypto::subject_line(cert_.get()))
        .member("key", crypto::key_description(key_.get()))
        .member("not_after",
                static_cast<std::int64_t>(std::chrono::system_clock::to_time_t(not_after)))
        .member("issued", ledger_.issued_count())
        .member("revoked", ledger_.revoked_count())
        .member("crl", (dir_ / "crl.pem").string());
    checks.write(w);
    w.end_object();
    auto done = outcome::done(w.str());
    done.message = checks.words();
    return done;
  }

  fs::path dir_;
  local_ledger ledger_;
  crypto::pkey_ptr key_;
  crypto::x509_ptr cert_;
  std::string cert_pem_;
  std::unique_ptr<crypto::certificate_issuer> issuer_;
  std::mutex mutex_;
};

class local_session final : public job_session {
 public:
  local_session(local_ca& ca, job j) : ca_(ca), job_(std::move(j)) {}
  step next(const http_response*, const step_context& ctx) override {
    return ca_.run(job_, ctx.now);
  }

 private:
  local_ca& ca_;
  job job_;
};

std::unique_ptr<job_session> local_ca::start(const job& j, const std::string&) {
  return std::make_unique<local_session>(*this, j);
}

}  // namespace

std::unique_ptr<driver> make_driver(const driver_config& config) {
  return std::make_unique<local_ca>(config);
}

option_values provision(const option_values& given) {
  auto find = [&](std::string_view k, std::string_view fallback) {
    auto it = given.find(k);
    return it == given.end() ? std::string(fallback) : it->second;
  };
  auto algorithm = find("key-algorithm", "ecdsa-p256");
  auto name = find("ca-name", "cbcs local CA");
  auto ca = crypto::create_root_ca(algorithm, name, std::chrono::system_clock::now(),
                                   std::chrono::hours(24 * 365 * 10));
  return {{"ca_key", std::move(ca.key_pem)}, {"ca_cert", std::move(ca.cert_pem)}};
}

}  // namespace cbcs::protocol::ca::local
