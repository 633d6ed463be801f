// SPDX-License-Identifier: MIT
#include "monitor/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <tuple>

namespace gc::monitor {
namespace {

std::string escape_help(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// Appends `{k="v",...}` (nothing for no labels): render() builds the text in place, without
// a temporary string per sample.
void append_labels(std::string& out, const Labels& labels) {
  if (labels.empty()) return;
  out += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    out += k;
    out += "=\"";
    out += escape_label_value(v);
    out += '"';
    first = false;
  }
  out += '}';
}

// Label sets compared as if neither had "le": a histogram's series are sorted by their labels
// first, then by part and bound.
bool less_without_le(const Labels& a, const Labels& b) {
  auto ia = a.begin(), ib = b.begin();
  while (true) {
    if (ia != a.end() && ia->first == "le") ++ia;
    if (ib != b.end() && ib->first == "le") ++ib;
    if (ia == a.end() || ib == b.end()) return ia == a.end() && ib != b.end();
    if (*ia != *ib) return *ia < *ib;
    ++ia;
    ++ib;
  }
}

// Where a sample goes in its family's text. Histogram series must be contiguous with buckets in
// ascending le order: sorting "le" as text would put "10" before "2.5" and "+Inf" first. Holds
// a pointer to the sample: no copy of its labels.
struct SortKey {
  const Sample* sample = nullptr;
  bool histogram = false;
  int part = 0;  // _bucket, _sum, _count.
  double le = 0;
  bool operator<(const SortKey& o) const {
    const Labels& a = sample->labels;
    const Labels& b = o.sample->labels;
    if (!histogram) return a < b;
    if (less_without_le(a, b)) return true;
    if (less_without_le(b, a)) return false;
    return std::tie(part, le) < std::tie(o.part, o.le);
  }
};

SortKey sort_key(const MetricFamily& f, const Sample& s) {
  SortKey k{&s, f.type == MetricType::kHistogram, 0, 0};
  if (!k.histogram) return k;
  auto le = s.labels.find("le");
  if (le != s.labels.end()) k.le = std::strtod(le->second.c_str(), nullptr);  // "+Inf": inf.
  k.part = s.suffix == "_bucket" ? 0 : s.suffix == "_sum" ? 1 : 2;
  return k;
}

}  // namespace

void Histogram::observe(double v) {
  counts.resize(bounds.size());
  ++count;
  sum += v;
  // NaN belongs to no finite bucket; like the Prometheus clients, it still counts (+Inf).
  if (std::isnan(v)) return;
  auto it = std::lower_bound(bounds.begin(), bounds.end(), v);  // First bound >= v.
  if (it != bounds.end()) ++counts[static_cast<std::size_t>(it - bounds.begin())];
}

std::vector<double> default_latency_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

MetricFamily& MetricSet::family(const std::string& name, const std::string& help, MetricType type) {
  auto [it, inserted] = families_.try_emplace(name);
  if (inserted) {
    it->second.name = name;
    it->second.help = help;
    it->second.type = type;
  }
  return it->second;
}

void MetricSet::gauge(const std::string& name, const std::string& help, Labels labels,
                      double value) {
  family(name, help, MetricType::kGauge).samples.push_back({std::move(labels), value});
}

void MetricSet::counter(const std::string& name, const std::string& help, Labels labels,
                        double value) {
  family(name, help, MetricType::kCounter).samples.push_back({std::move(labels), value});
}

void MetricSet::untyped(const std::string& name, const std::string& help, Labels labels,
                        double value) {
  family(name, help, MetricType::kUntyped).samples.push_back({std::move(labels), value});
}

void MetricSet::histogram(const std::string& name, const std::string& help, Labels labels,
                          const Histogram& h) {
  auto& samples = family(name, help, MetricType::kHistogram).samples;
  labels.erase("le");
  uint64_t cumulative = 0;
  for (std::size_t i = 0; i < h.bounds.size(); ++i) {
    cumulative += i < h.counts.size() ? h.counts[i] : 0;
    Labels l = labels;
    l["le"] = format_value(h.bounds[i]);
    samples.push_back({std::move(l), static_cast<double>(cumulative), "_bucket"});
  }
  Labels inf = labels;
  inf["le"] = "+Inf";
  samples.push_back({std::move(inf), static_cast<double>(h.count), "_bucket"});
  samples.push_back({labels, h.sum, "_sum"});
  samples.push_back({std::move(labels), static_cast<double>(h.count), "_count"});
}

void MetricSet::merge(const MetricSet& other) {
  for (const auto& [name, f] : other.families_) {
    auto& mine = family(name, f.help, f.type);
    mine.samples.insert(mine.samples.end(), f.samples.begin(), f.samples.end());
  }
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  // Whole numbers in full up to 1e15 (counters and timestamps read better that way), else the
  // shortest text that reads back as v.
  bool whole = v == std::floor(v) && std::fabs(v) < 1e15;
  auto [end, ec] = whole ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed)
                         : std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) return "NaN";  // Cannot happen: 32 bytes hold any double.
  return std::string(buf, end);
}

std::string escape_label_value(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string render(const MetricSet& set) {
  std::string out;
  for (const auto& [name, f] : set.families()) {
    if (f.samples.empty()) continue;
    out += "# HELP " + name + " " + escape_help(f.help) + "\n";
    static const char* kTypes[] = {" gauge\n", " counter\n", " untyped\n", " histogram\n"};
    out += "# TYPE " + name + kTypes[static_cast<int>(f.type)];
    std::vector<SortKey> sorted;
    sorted.reserve(f.samples.size());
    for (const auto& s : f.samples) sorted.push_back(sort_key(f, s));
    std::stable_sort(sorted.begin(), sorted.end());
    for (const SortKey& k : sorted) {
      const Sample& s = *k.sample;
      out += name;
      out += s.suffix;
      append_labels(out, s.labels);
      out += ' ';
      out += format_value(s.value);
      out += '\n';
    }
  }
  return out;
}

}  // namespace gc::monitor
