#include "crypto/utc_time.hpp"

#include <ctime>

#include <fmt/format.h>
#include <openssl/asn1.h>

#include "crypto/openssl_error.hpp"

namespace cbcs::crypto {
namespace {

std::optional<utc_time> from_civil(int y, int mo, int d, int h, int mi, int s) {
  std::chrono::year_month_day date{std::chrono::year{y},
                                   std::chrono::month{static_cast<unsigned>(mo)},
                                   std::chrono::day{static_cast<unsigned>(d)}};
  if (!date.ok() || y < 1970 || y > 2200 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  // A leap second is the last second of its minute.
  return std::chrono::sys_days{date} + std::chrono::hours{h} + std::chrono::minutes{mi} +
         std::chrono::seconds{s > 59 ? 59 : s};
}

}  // namespace

std::optional<utc_time> parse_utc_time(std::string_view text) {
  if (text.size() < 19) return std::nullopt;
  auto digits = [&](std::size_t at, std::size_t n, int& out) {
    out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, s;
  if (!digits(0, 4, y) || text[4] != '-' || !digits(5, 2, mo) || text[7] != '-' ||
      !digits(8, 2, d) || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
      !digits(11, 2, h) || text[13] != ':' || !digits(14, 2, mi) || text[16] != ':' ||
      !digits(17, 2, s))
    return std::nullopt;
  std::size_t at = 19;
  if (at < text.size() && text[at] == '.') {
    std::size_t start = ++at;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') ++at;
    if (at == start) return std::nullopt;
  }
  int offset = 0;
  if (at < text.size()) {
    char sign = text[at];
    if ((sign == 'Z' || sign == 'z') && at + 1 == text.size()) {
    } else if ((sign == '+' || sign == '-') && text.size() == at + 6 && text[at + 3] == ':') {
      int oh, om;
      if (!digits(at + 1, 2, oh) || !digits(at + 4, 2, om) || oh > 23 || om > 59)
        return std::nullopt;
      offset = (oh * 60 + om) * 60 * (sign == '-' ? -1 : 1);
    } else {
      return std::nullopt;
    }
  }
  auto t = from_civil(y, mo, d, h, mi, s);
  if (!t) return std::nullopt;
  return *t - std::chrono::seconds{offset};
}

std::string format_utc_time(utc_time t) {
  return format_utc_time(std::chrono::floor<std::chrono::seconds>(t));
}

std::string format_utc_time(std::chrono::sys_seconds secs) {
  auto day = std::chrono::floor<std::chrono::days>(secs);
  std::chrono::year_month_day date{day};
  std::chrono::hh_mm_ss time{secs - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     time.hours().count(), time.minutes().count(), time.seconds().count());
}

utc_time to_utc_time(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || !ASN1_TIME_to_tm(t, &tm)) throw crypto_error("certificate has a bad validity time");
  // Held to 1970..2200, which the clock can hold: 99991231235959Z means "no
  // expiry" (RFC 5280) and must not overflow it.
  int year = tm.tm_year + 1900;
  if (year > 2200) return *from_civil(2200, 1, 1, 0, 0, 0);
  if (year < 1970) return utc_time{};
  auto out = from_civil(year, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (!out) throw crypto_error("certificate has a bad validity time");
  return *out;
}

}  // namespace cbcs::crypto
