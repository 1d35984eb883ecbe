#include "actors/metrics/text_format.hpp"

#include <cmath>
#include <iterator>

#include <fmt/format.h>

namespace cbcs::actors::metrics {
namespace {

// Go's ParseFloat and Python's float() read these; integers stay integers.
std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    return fmt::format("{}", static_cast<std::int64_t>(v));
  return fmt::format("{}", v);
}

// A bucket bound as client libraries write it ("0.5", "10.0").
std::string bound(double v) {
  auto s = fmt::format("{}", v);
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  return s;
}

// The format's escapes: \\ and \n everywhere, \" inside a label value.
std::string escaped(std::string_view text, bool in_quotes) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '"' && in_quotes)
      out += "\\\"";
    else
      out += c;
  }
  return out;
}

void write_labels(std::string& out, const labels& ls, const std::string* le = nullptr) {
  if (ls.empty() && !le) return;
  out += '{';
  bool first = true;
  for (const auto& [k, v] : ls) {
    if (!first) out += ',';
    first = false;
    out += fmt::format("{}=\"{}\"", k, escape_label_value(v));
  }
  if (le) out += fmt::format("{}le=\"{}\"", first ? "" : ",", *le);
  out += '}';
}

const char* type_name(kind k) {
  switch (k) {
    case kind::counter:
      return "counter";
    case kind::histogram:
      return "histogram";
    case kind::gauge:
      break;
  }
  return "gauge";
}

// One line: name{labels} value.
void write_sample(std::string& out, std::string_view name, const labels& ls, std::string_view value,
                  const std::string* le = nullptr) {
  out += name;
  write_labels(out, ls, le);
  fmt::format_to(std::back_inserter(out), " {}\n", value);
}

void write_histogram(std::string& out, const std::string& name, const series& s) {
  const auto& h = std::get<histogram_value>(s.value);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= h.bounds.size(); ++i) {
    cumulative += i < h.counts.size() ? h.counts[i] : 0;
    auto le = i < h.bounds.size() ? bound(h.bounds[i]) : std::string("+Inf");
    write_sample(out, name + "_bucket", s.labels, std::to_string(cumulative), &le);
  }
  write_sample(out, name + "_sum", s.labels, number(h.sum));
  write_sample(out, name + "_count", s.labels, std::to_string(cumulative));
}

}  // namespace

std::string escape_label_value(std::string_view value) { return escaped(value, true); }

std::string to_text(const std::vector<family>& families) {
  std::string out;
  for (const auto& f : families) {
    if (f.samples.empty()) continue;
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", f.name, escaped(f.help, false), f.name,
                       type_name(f.kind));
    for (const auto& s : f.samples) {
      if (std::holds_alternative<histogram_value>(s.value)) {
        write_histogram(out, f.name, s);
        continue;
      }
      write_sample(out, f.name, s.labels, number(std::get<double>(s.value)));
    }
  }
  out += "# EOF\n";
  return out;
}

}  // namespace cbcs::actors::metrics
