// Mutual TLS in the backends' HTTP client, against a real TLS server that
// demands a client certificate (`openssl s_server -Verify 1`), directly and
// through a CONNECT tunnel (tinyproxy).

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <future>
#include <thread>

#include "actors/http/http_client.hpp"
#include "cli/child_process.hpp"
#include "test_pki.hpp"

using namespace cbcs;
namespace ca = protocol::ca;
using namespace std::chrono_literals;

namespace http_client_mtls_test {

// A loopback port for tinyproxy, which must be told its port (no port 0):
// below the kernel's ephemeral range, so no program binding port 0 is handed
// it, and held with flock(2) until this process ends, so tests running at
// once (the integration tests' harness.reserved_port too) never share one.
int reserved_port() {
  int ephemeral_low = 32768;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> ephemeral_low;
  auto folder = std::filesystem::temp_directory_path() / "cbcs-test-ports";
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  static unsigned seed = static_cast<unsigned>(::getpid());
  for (int attempt = 0; attempt < 200; ++attempt) {
    int port = 20000 + static_cast<int>(::rand_r(&seed) % std::max(1, ephemeral_low - 20000));
    auto lock_path = folder / (std::to_string(port) + ".lock");
    int lock = ::open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0666);
    if (lock < 0) continue;
    if (::flock(lock, LOCK_EX | LOCK_NB) != 0) {
      ::close(lock);
      continue;
    }
    return port;  // the lock stays held (and its descriptor open) until exit
  }
  FAIL("no port below the ephemeral range could be reserved");
  return 0;
}

// The inode of the socket listening on 127.0.0.1:port (/proc/net/tcp), 0: none.
std::string listening_inode(int port) {
  std::ifstream tcp("/proc/net/tcp");
  std::string line;
  char local[32];
  std::snprintf(local, sizeof local, "0100007F:%04X", port);
  std::getline(tcp, line);  // the header
  while (std::getline(tcp, line)) {
    std::istringstream in(line);
    std::string slot, local_address, remote, state, queues, timer, retransmits, uid, timeout, inode;
    in >> slot >> local_address >> remote >> state >> queues >> timer >> retransmits >> uid >>
        timeout >> inode;
    if (local_address == local && state == "0A") return inode;  // 0A: LISTEN
  }
  return {};
}

// Whether `child` itself listens on `port`: the listening socket is one of
// its file descriptors, so a port another process took in between does not
// count, and a child that could not bind it (it exits) is said at once.
bool accepting(int port, cli::child_process& child) {
  for (int i = 0; i < 200 && child.running(); ++i) {
    auto inode = listening_inode(port);
    if (!inode.empty()) {
      auto wanted = "socket:[" + inode + "]";
      std::error_code ec;
      auto fds = std::filesystem::path("/proc") / std::to_string(child.pid()) / "fd";
      for (const auto& fd : std::filesystem::directory_iterator(fds, ec)) {
        auto target = std::filesystem::read_symlink(fd.path(), ec);
        if (!ec && target.string() == wanted) return true;
      }
    }
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// tinyproxy must be told its port: a reserved one, and another when the
// child could not bind it (a program outside the tests holds it), up to five times.
template <class Start>
std::unique_ptr<cli::child_process> start_on_a_port(int& port, Start start) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    port = reserved_port();
    auto child = start(port);
    if (accepting(port, *child)) return child;
  }
  FAIL("the child never listened on a port of its own");
  return nullptr;
}

// child_process execs a path: find the program on PATH.
std::string on_path(const std::string& name) {
  auto found = test::on_path(name);
  if (found.empty()) FAIL("not found on PATH: " << name);
  return found;
}

void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

struct answer {
  ca::http_response response;
  ca::transport_error error;
};

answer get(actors::http_client& client, const std::string& url) {
  std::promise<answer> done;
  client.send({.method = "GET", .url = url}, [&](ca::http_response r, ca::transport_error e) {
    done.set_value({std::move(r), std::move(e)});
  });
  auto f = done.get_future();
  REQUIRE(f.wait_for(20s) == std::future_status::ready);
  return f.get();
}

// A TLS server for localhost that accepts only clients whose certificate
// `client_ca` issued (here: the client's own self-signed certificate).
struct tls_server {
  test::temp_dir dir;
  test::key_and_cert server = test::make_self_signed("p256", "localhost");
  int port = 0;
  std::unique_ptr<cli::child_process> proc;

  explicit tls_server(const std::string& client_ca) {
    std::filesystem::path d = dir.path();
    write_file(d / "server.pem", server.cert_pem);
    write_file(d / "server.key", server.key_pem);
    write_file(d / "clients.pem", client_ca);
    // Port 0: s_server binds a port the system chooses and says which in its
    // "ACCEPT 127.0.0.1:PORT" line, before it accepts.
    proc = std::make_unique<cli::child_process>(
        std::vector<std::string>{on_path("openssl"), "s_server", "-accept", "127.0.0.1:0", "-cert",
                                 (d / "server.pem").string(), "-key", (d / "server.key").string(),
                                 "-CAfile", (d / "clients.pem").string(), "-Verify", "1",
                                 "-verify_return_error", "-www"},
        true, (d / "s_server.log").string());
    for (std::string line = proc->read_line(); !line.empty(); line = proc->read_line()) {
      if (line.rfind("ACCEPT ", 0) == 0) {
        port = std::atoi(line.substr(line.rfind(':') + 1).c_str());
        break;
      }
    }
    REQUIRE_MESSAGE(port > 0, "openssl s_server said no ACCEPT line");
  }
  ~tls_server() { proc->signal(SIGTERM); }
  std::string url() const { return "https://localhost:" + std::to_string(port) + "/"; }
};

struct proxy {
  test::temp_dir dir;
  int port = 0;
  std::unique_ptr<cli::child_process> proc;
  proxy() {
    auto conf = std::filesystem::path(dir.path()) / "tinyproxy.conf";
    proc = start_on_a_port(port, [&](int p) {
      write_file(conf, "Port " + std::to_string(p) + "\nListen 127.0.0.1\nTimeout 30\n");
      return std::make_unique<cli::child_process>(
          std::vector<std::string>{on_path("tinyproxy"), "-d", "-c", conf.string()}, false,
          (std::filesystem::path(dir.path()) / "tinyproxy.log").string());
    });
  }
  ~proxy() { proc->signal(SIGTERM); }
};

actors::http_client_settings settings(const tls_server& s, const test::key_and_cert* identity) {
  actors::http_client_settings out;
  out.tls.extra_roots_pem = s.server.cert_pem;
  out.tls.system_roots = false;
  if (identity) {
    out.tls.client_cert_pem = identity->cert_pem;
    out.tls.client_key_pem = identity->key_pem;
  }
  return out;
}

}  // namespace http_client_mtls_test

namespace mtls = http_client_mtls_test;

TEST_SUITE("http_client mutual TLS") {
  TEST_CASE("the backend's client certificate is presented, directly and through the proxy") {
    auto identity = test::make_self_signed("p256", "cbcs entrust client");
    mtls::tls_server server(identity.cert_pem);
    auto runner = actors::make_io_runner();
    {
      actors::http_client client(runner, mtls::settings(server, &identity));
      auto a = mtls::get(client, server.url());
      CHECK_MESSAGE(!a.error, a.error.message);
      CHECK(a.response.status == 200);
    }
    // s_server serves one connection at a time, and the first client may
    // still hold its pooled one: the tunnel goes to a server of its own.
    mtls::tls_server second(identity.cert_pem);
    mtls::proxy tunnel;
    auto via = mtls::settings(second, &identity);
    via.proxy = {
        .enabled = true, .host = "127.0.0.1", .port = static_cast<std::uint16_t>(tunnel.port)};
    actors::http_client client(runner, via);
    auto a = mtls::get(client, second.url());
    CHECK_MESSAGE(!a.error, a.error.message);
    CHECK(a.response.status == 200);
  }

  TEST_CASE("a refused or missing client certificate is its own failure, naming the subject") {
    auto trusted = test::make_self_signed("p256", "trusted client");
    auto other = test::make_self_signed("p256", "some other client");
    mtls::tls_server server(trusted.cert_pem);
    auto runner = actors::make_io_runner();

    actors::http_client wrong(runner, mtls::settings(server, &other));
    auto refused = mtls::get(wrong, server.url());
    CHECK(refused.error.kind == ca::transport_failure::client_certificate_refused);
    CHECK(refused.error.message.find("refused the client certificate CN=some other client") !=
          std::string::npos);
    CHECK(refused.error.message.find("PRIVATE KEY") == std::string::npos);

    actors::http_client none(runner, mtls::settings(server, nullptr));
    auto missing = mtls::get(none, server.url());
    CHECK(missing.error.kind == ca::transport_failure::client_certificate_refused);
    CHECK(missing.error.message.find("requires a client certificate and none is configured") !=
          std::string::npos);
  }
}
