#include "protocol/ca/common/retry_after.hpp"

#include <array>
#include <charconv>

namespace cbcs::protocol::ca {
namespace {

using namespace std::chrono;

constexpr std::array<std::string_view, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> days{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> long_days{"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                    "Friday", "Saturday", "Sunday"};

// Reads the input from the front; every step fails for good once one fails.
struct reader {
  std::string_view rest;
  bool ok = true;

  void literal(std::string_view s) {
    if (ok && rest.starts_with(s))
      rest.remove_prefix(s.size());
    else
      ok = false;
  }
  int digits(std::size_t n) {
    int v = 0;
    if (!ok || rest.size() < n) return ok = false, 0;
    for (std::size_t i = 0; i < n; ++i) {
      char c = rest[i];
      if (c < '0' || c > '9') return ok = false, 0;
      v = v * 10 + (c - '0');
    }
    rest.remove_prefix(n);
    return v;
  }
  template <std::size_t N>
  int one_of(const std::array<std::string_view, N>& names) {
    for (std::size_t i = 0; ok && i < N; ++i)
      if (rest.starts_with(names[i])) {
        rest.remove_prefix(names[i].size());
        return static_cast<int>(i);
      }
    ok = false;
    return 0;
  }
};

std::optional<system_clock::time_point> to_time(int year, int month, int day, int h, int m, int s) {
  // The clock counts nanoseconds in 64 bits: 1677 to 2262. Dates outside
  // 1970 to 2200 are not worth a wait anyway.
  if (year < 1970 || year > 2200) return std::nullopt;
  year_month_day date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month + 1)),
                      std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok() || h > 23 || m > 59 || s > 60) return std::nullopt;
  return sys_days(date) + hours(h) + minutes(m) + seconds(s);
}

void clock_time(reader& r, int& h, int& m, int& s) {
  h = r.digits(2);
  r.literal(":");
  m = r.digits(2);
  r.literal(":");
  s = r.digits(2);
}

}  // namespace

std::optional<system_clock::time_point> parse_http_date(std::string_view text) {
  int h = 0, m = 0, s = 0;
  {  // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
    reader r{text};
    r.one_of(days);
    r.literal(", ");
    int day = r.digits(2);
    r.literal(" ");
    int month = r.one_of(months);
    r.literal(" ");
    int year = r.digits(4);
    r.literal(" ");
    clock_time(r, h, m, s);
    r.literal(" GMT");
    if (r.ok && r.rest.empty()) return to_time(year, month, day, h, m, s);
  }
  {  // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT (a two-digit year more than 50
     // years ahead is in the past: RFC 9110 §5.6.7)
    reader r{text};
    r.one_of(long_days);
    r.literal(", ");
    int day = r.digits(2);
    r.literal("-");
    int month = r.one_of(months);
    r.literal("-");
    int year = r.digits(2);
    r.literal(" ");
    clock_time(r, h, m, s);
    r.literal(" GMT");
    if (r.ok && r.rest.empty()) {
      auto this_year =
          static_cast<int>(year_month_day(floor<std::chrono::days>(system_clock::now())).year());
      int full = this_year / 100 * 100 + year;
      if (full > this_year + 50) full -= 100;
      return to_time(full, month, day, h, m, s);
    }
  }
  {  // asctime: Sun Nov  6 08:49:37 1994
    reader r{text};
    r.one_of(days);
    r.literal(" ");
    int month = r.one_of(months);
    r.literal(" ");
    int day = 0;  // "%2d": " 6" or "16"
    if (r.ok && !r.rest.empty() && r.rest[0] == ' ') {
      r.rest.remove_prefix(1);
      day = r.digits(1);
    } else {
      day = r.digits(2);
    }
    r.literal(" ");
    clock_time(r, h, m, s);
    r.literal(" ");
    int year = r.digits(4);
    if (r.ok && r.rest.empty()) return to_time(year, month, day, h, m, s);
  }
  return std::nullopt;
}

std::optional<milliseconds> parse_retry_after(std::string_view value,
                                              system_clock::time_point now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (value.find_first_not_of("0123456789") == std::string_view::npos) {
    std::int64_t secs = 0;
    auto ec = std::from_chars(value.data(), value.data() + value.size(), secs).ec;
    if (ec == std::errc::result_out_of_range || secs > max_retry_after.count())
      secs = max_retry_after.count();
    return duration_cast<milliseconds>(seconds(secs));
  }
  auto at = parse_http_date(value);
  if (!at) return std::nullopt;
  if (*at <= now) return milliseconds(0);
  return std::min(duration_cast<milliseconds>(*at - now),
                  duration_cast<milliseconds>(max_retry_after));
}

}  // namespace cbcs::protocol::ca
