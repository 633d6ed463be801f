// SPDX-License-Identifier: MIT
#include "monitor/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

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

std::string label_text(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    out += (first ? "" : ",") + k + "=\"" + escape_label_value(v) + "\"";
    first = false;
  }
  return out + "}";
}

}  // namespace

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

void MetricSet::merge(const MetricSet& other) {
  for (const auto& [name, f] : other.families_) {
    auto& mine = family(name, f.help, f.type);
    mine.samples.insert(mine.samples.end(), f.samples.begin(), f.samples.end());
  }
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  char buf[32];
  for (int precision = 6; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
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
    static const char* kTypes[] = {" gauge\n", " counter\n", " untyped\n"};
    out += "# TYPE " + name + kTypes[static_cast<int>(f.type)];
    std::vector<const Sample*> sorted;
    for (const auto& s : f.samples) sorted.push_back(&s);
    std::sort(sorted.begin(), sorted.end(),
              [](const Sample* a, const Sample* b) { return a->labels < b->labels; });
    for (const Sample* s : sorted) {
      out += name + label_text(s->labels) + " " + format_value(s->value) + "\n";
    }
  }
  return out;
}

}  // namespace gc::monitor
