// The Windows definitions behind config/os/file_system.hpp, config/os/this_process.hpp,
// the DPAPI key file and the service's command line (Windows build only).

#include <doctest/doctest.h>

// <aclapi.h> and <sddl.h> need what <windows.h> declares.
// clang-format off
#include <windows.h>
#include <aclapi.h>
#include <sddl.h>
// clang-format on

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "cli/service/windows_service_config.hpp"
#include "config/atomic_file.hpp"
#include "config/config_error.hpp"
#include "config/data_dir.hpp"
#include "config/key_provider.hpp"
#include "config/os/file_system.hpp"
#include "config/os/this_process.hpp"
#include "config/os/windows_error.hpp"
#include "test_pki.hpp"

using namespace cbcs;
namespace fs = std::filesystem;

namespace platform_windows_test {

// The directory's DACL in SDDL, and whether it is protected from inheritance.
std::wstring dacl_of(const fs::path& dir, bool& protected_dacl) {
  PSECURITY_DESCRIPTOR sd = nullptr;
  PACL dacl = nullptr;
  std::wstring name = dir.wstring();
  REQUIRE(GetNamedSecurityInfoW(name.c_str(), SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, nullptr,
                                nullptr, &dacl, nullptr, &sd) == ERROR_SUCCESS);
  SECURITY_DESCRIPTOR_CONTROL control = 0;
  DWORD revision = 0;
  GetSecurityDescriptorControl(sd, &control, &revision);
  protected_dacl = (control & SE_DACL_PROTECTED) != 0;
  wchar_t* text = nullptr;
  ConvertSecurityDescriptorToStringSecurityDescriptorW(sd, SDDL_REVISION_1,
                                                       DACL_SECURITY_INFORMATION, &text, nullptr);
  std::wstring out = text ? text : L"";
  if (text) LocalFree(text);
  LocalFree(sd);
  return out;
}

bool under_wine() {
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  return ntdll && GetProcAddress(ntdll, "wine_get_version") != nullptr;
}

}  // namespace platform_windows_test

TEST_SUITE("windows platform") {
  TEST_CASE("the data directory is created for SYSTEM and Administrators, protected") {
    test::temp_dir tmp;
    auto root = fs::path(tmp.path()) / "CBCS";
    config::data_dir dir(root);
    bool protected_dacl = false;
    auto sddl = platform_windows_test::dacl_of(root, protected_dacl);
    CHECK(sddl.find(L";;;SY)") != std::wstring::npos);
    CHECK(sddl.find(L";;;WD)") == std::wstring::npos);  // not Everyone
    CHECK(sddl.find(L";;;BU)") == std::wstring::npos);  // not Users
    CHECK(sddl.find(L";;;AU)") == std::wstring::npos);  // not Authenticated Users
    // Wine keeps a file's ACL as its Unix mode: owner and SYSTEM, never
    // Administrators nor the protected flag. Those are checked on Windows.
    if (!platform_windows_test::under_wine()) {
      CHECK(protected_dacl);
      CHECK(sddl.find(L";;;BA)") != std::wstring::npos);
    }
    // Opening it again (an existing directory) keeps it whole.
    config::data_dir again(root);
    CHECK(fs::is_directory(root));
  }

  TEST_CASE("a file written durably replaces the old one whole, and cannot be created twice") {
    test::temp_dir tmp;
    auto file = fs::path(tmp.path()) / "config.json";
    config::write_file_atomic(file, "one");
    config::write_file_atomic(file, "two");
    CHECK(config::read_file(file) == "two");
    auto fresh = fs::path(tmp.path()) / "fresh";
    config::write_new_file_durably(fresh, "x");
    CHECK_THROWS_AS(config::write_new_file_durably(fresh, "y"), config::config_error);
    CHECK(config::read_file(fresh) == "x");
    // No temp file is left beside it.
    int files = 0;
    for (auto& e : fs::directory_iterator(tmp.path())) files += e.is_regular_file();
    CHECK(files == 2);
  }

  TEST_CASE("the data directory lock excludes a second holder until released") {
    test::temp_dir tmp;
    auto lock_file = fs::path(tmp.path()) / ".lock";
    auto held = std::make_unique<config::exclusive_file_lock>(lock_file);
    std::atomic<bool> got{false};
    std::thread other([&] {
      config::exclusive_file_lock second(lock_file);
      got = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK_FALSE(got.load());
    held.reset();
    other.join();
    CHECK(got.load());
  }

  TEST_CASE("the vault key file is DPAPI-sealed (machine scope) and opens again") {
    test::temp_dir tmp;
    auto path = fs::path(tmp.path()) / "vault.key";
    auto key = config::load_or_create_key_file(path);
    CHECK(key.size() == 32);
    auto sealed = config::read_file(path);
    CHECK(sealed.size() > key.size());  // a DPAPI blob, not the key
    CHECK(sealed.find(std::string(key.begin(), key.end())) == std::string::npos);
    CHECK(config::load_or_create_key_file(path) == key);
    // A damaged blob is refused with a clear error, not read as a key.
    config::write_file_atomic(path, std::string(64, 'x'));
    CHECK_THROWS_WITH_AS(config::load_or_create_key_file(path), doctest::Contains("DPAPI"),
                         config::config_error);
  }

  TEST_CASE("this process: its id, its executable, the system, its name") {
    CHECK(config::process_id() == static_cast<std::int64_t>(GetCurrentProcessId()));
    CHECK(config::process_running(config::process_id()));
    CHECK_FALSE(config::process_running(0));
    auto exe = config::executable_path();
    REQUIRE(exe);
    CHECK(exe->filename() == "cbcs_unit_tests.exe");
    CHECK(config::os_description().starts_with("Windows "));
    CHECK(config::host_name() != "unknown");
  }

  TEST_CASE("errors in words, one line") {
    auto text = config::windows_error_text(ERROR_ACCESS_DENIED);
    CHECK(text.find("(error 5)") != std::string::npos);
    CHECK(text.find('\n') == std::string::npos);
    CHECK(config::windows_error_text(0xDEADu).find("57005") != std::string::npos);
  }

  TEST_CASE("the service's command line quotes its paths") {
    CHECK(cli::service::service_command_line(L"C:\\Program Files\\CBCS\\cbcs.exe",
                                             L"C:\\ProgramData\\CBCS\\") ==
          L"\"C:\\Program Files\\CBCS\\cbcs.exe\" run --data-dir \"C:\\ProgramData\\CBCS\"");
  }
}
