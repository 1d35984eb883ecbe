#pragma once
// Metrics as text: the Prometheus text format 0.0.4 that node_exporter's and
// windows_exporter's textfile collectors read (# HELP, # TYPE, no
// timestamps), ended by "# EOF". Pure: a snapshot in, text out.

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace cbcs::actors::metrics {

using labels = std::vector<std::pair<std::string, std::string>>;

// Counts per bucket, not cumulative: counts[i] observations <= bounds[i]
// (and above the bound before), the last one above every bound (+Inf).
struct histogram_value {
  std::vector<double> bounds;
  std::vector<std::uint64_t> counts;  // bounds.size() + 1
  double sum = 0;
};

struct series {
  metrics::labels labels;
  std::variant<double, histogram_value> value;
};

enum class kind : std::uint8_t { counter, gauge, histogram };

struct family {
  std::string name;  // counters end in _total; base units (seconds)
  std::string help;
  metrics::kind kind = kind::gauge;
  std::vector<series> samples;
};

// Label values and help text escaped, histogram buckets cumulative with
// le="+Inf" equal to _count. A family without samples is left out.
std::string to_text(const std::vector<family>& families);

// A label value as the format writes it inside its quotes.
std::string escape_label_value(std::string_view value);

}  // namespace cbcs::actors::metrics
