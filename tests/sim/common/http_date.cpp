#include "tests/sim/common/http_date.hpp"

#include <chrono>
#include <cstdlib>
#include <ctime>

#include <fmt/format.h>

namespace cbcs::sim {

std::string http_date_now() {
  auto now = std::time(nullptr);
  if (const char* offset = std::getenv("CBCS_SIM_CLOCK_OFFSET")) now += std::atoll(offset);
  std::tm tm{};
#ifdef _WIN32
  gmtime_s(&tm, &now);  // the library is built for Windows too (the unit tests use it)
#else
  gmtime_r(&now, &tm);
#endif
  static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return fmt::format("{}, {:02} {} {} {:02}:{:02}:{:02} GMT", days[tm.tm_wday], tm.tm_mday,
                     months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace cbcs::sim
