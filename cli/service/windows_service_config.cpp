#include "cli/service/windows_service_config.hpp"

#include "config/os/windows_error.hpp"

namespace cbcs::cli::service {
namespace {

std::wstring quoted(const std::wstring& s) {
  // A trailing backslash would escape the closing quote.
  std::wstring body = s;
  while (!body.empty() && body.back() == L'\\') body.pop_back();
  return L"\"" + body + L"\"";
}

}  // namespace

std::string configure_recovery(SC_HANDLE service) {
  SC_ACTION restarts[3] = {
      {SC_ACTION_RESTART, 5'000}, {SC_ACTION_RESTART, 5'000}, {SC_ACTION_RESTART, 5'000}};
  SERVICE_FAILURE_ACTIONSW actions{};
  actions.dwResetPeriod = 24 * 60 * 60;
  actions.cActions = 3;
  actions.lpsaActions = restarts;
  if (!ChangeServiceConfig2W(service, SERVICE_CONFIG_FAILURE_ACTIONS, &actions))
    return "cannot set the failure actions: " + config::windows_error_text(GetLastError());
  SERVICE_FAILURE_ACTIONS_FLAG on_exit_code{TRUE};
  // Wine 8 knows no such level (ERROR_INVALID_LEVEL): there only crashes restart.
  if (!ChangeServiceConfig2W(service, SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, &on_exit_code) &&
      GetLastError() != ERROR_INVALID_LEVEL)
    return "cannot set the failure actions flag: " + config::windows_error_text(GetLastError());
  SERVICE_PRESHUTDOWN_INFO preshutdown{30'000};
  if (!ChangeServiceConfig2W(service, SERVICE_CONFIG_PRESHUTDOWN_INFO, &preshutdown))
    return "cannot set the preshutdown timeout: " + config::windows_error_text(GetLastError());
  wchar_t text[] =
      L"Carries out certificate requests from the certificate manager against the configured "
      L"certificate authorities.";
  SERVICE_DESCRIPTIONW description{text};
  if (!ChangeServiceConfig2W(service, SERVICE_CONFIG_DESCRIPTION, &description))
    return "cannot set the description: " + config::windows_error_text(GetLastError());
  return {};
}

std::wstring service_command_line(const std::wstring& executable, const std::wstring& data_dir) {
  return quoted(executable) + L" run --data-dir " + quoted(data_dir);
}

}  // namespace cbcs::cli::service
