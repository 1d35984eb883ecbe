// cbcs-msi-wizard-check: the setup wizard's checks (the MSI DLL's
// CbcsCheckToken and CbcsTestConnection, packaging/windows/msi_register/
// wizard_checks.hpp) run natively, so that a test drives them against real
// peers on loopback (tests/integration/test_msi_wizard_checks.py).
//   cbcs-msi-wizard-check token                       stdin: the token
//   cbcs-msi-wizard-check connection TYPE ADDR PORT USER   stdin: token, password
// Prints the page's one line; exit 0 when the token is accepted / connected.

#include <chrono>
#include <iostream>
#include <string>
#include <string_view>

#include "packaging/windows/msi_register/wizard_checks.hpp"

int main(int argc, char** argv) {
  using namespace cbcs::msi;
  std::string_view what = argc > 1 ? argv[1] : "";
  std::string token, password;
  std::getline(std::cin, token);
  if (what == "token" && argc == 2) {
    auto verdict = check_token(token, std::chrono::system_clock::now());
    std::cout << verdict.line << "\n";
    return verdict.ok ? 0 : 1;
  }
  if (what == "connection" && argc == 6) {
    std::getline(std::cin, password);
    wizard_proxy proxy{
        .type = argv[2], .addr = argv[3], .port = argv[4], .user = argv[5], .password = password};
    auto line =
        test_connection(token, proxy, std::chrono::system_clock::now(), std::chrono::seconds(5));
    std::cout << line << "\n";
    return line.starts_with("Connected") ? 0 : 1;
  }
  std::cerr << "usage: cbcs-msi-wizard-check token | connection TYPE ADDR PORT USER\n";
  return 2;
}
