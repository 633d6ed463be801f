// SPDX-License-Identifier: MIT
// audit/report.cc: the report's JSON and text forms.
#include "audit/report.h"

#include <chrono>

#include "base/utc_time.h"

namespace gc::audit {
namespace {

using json = nlohmann::json;

std::string utc_text(std::int64_t unix_s) {
  return format_utc(std::chrono::system_clock::time_point(std::chrono::seconds(unix_s)));
}

}  // namespace

int Report::count(CheckStatus s) const {
  int n = 0;
  for (const auto& r : results) n += r.status == s ? 1 : 0;
  return n;
}

std::vector<std::string> Report::failed_ids() const {
  std::vector<std::string> out;
  for (const auto& r : results) {
    if (r.status == CheckStatus::kFail) out.push_back(r.id);
  }
  return out;
}

Report make_report(const Evidence& e, const config::Config& cfg) {
  Report r;
  r.time = e.now;
  r.results = evaluate(e, cfg);
  r.score = score(r.results);
  return r;
}

json to_json(const Report& r) {
  json results = json::array();
  for (const auto& c : r.results) {
    results.push_back({{"id", c.id},
                       {"title", c.title},
                       {"severity", std::string(severity_name(c.severity))},
                       {"weight", c.weight},
                       {"status", std::string(status_name(c.status))},
                       {"evidence", c.evidence},
                       {"remediation", c.remediation}});
  }
  return {{"time", utc_text(r.time)},
          {"time_unix", r.time},
          {"score", r.score},
          {"passed", r.count(CheckStatus::kPass)},
          {"failed", r.count(CheckStatus::kFail)},
          {"skipped", r.count(CheckStatus::kSkip)},
          {"errors", r.count(CheckStatus::kError)},
          {"results", results}};
}

Result<Report> from_json(const json& j) {
  if (!j.is_object() || !j.contains("results") || !j["results"].is_array()) {
    return make_error(Errc::kCorrupt, "stored audit report: not an audit report");
  }
  Report r;
  r.time = j.value("time_unix", std::int64_t{0});
  r.score = j.value("score", 0);
  for (const auto& c : j["results"]) {
    if (!c.is_object()) return make_error(Errc::kCorrupt, "stored audit report: bad result");
    CheckResult x;
    x.id = c.value("id", "");
    x.title = c.value("title", "");
    x.weight = c.value("weight", 0);
    x.evidence = c.value("evidence", "");
    x.remediation = c.value("remediation", "");
    std::string sev = c.value("severity", "low");
    for (auto s : {Severity::kCritical, Severity::kHigh, Severity::kMedium, Severity::kLow}) {
      if (severity_name(s) == sev) x.severity = s;
    }
    std::string st = c.value("status", "error");
    x.status = CheckStatus::kError;
    for (auto s : {CheckStatus::kPass, CheckStatus::kFail, CheckStatus::kSkip}) {
      if (status_name(s) == st) x.status = s;
    }
    r.results.push_back(std::move(x));
  }
  return r;
}

std::string to_text(const Report& r) {
  std::string out = "audit " + utc_text(r.time) + ": score " + std::to_string(r.score) + "/100, " +
                    std::to_string(r.count(CheckStatus::kFail)) + " failed, " +
                    std::to_string(r.count(CheckStatus::kPass)) + " passed, " +
                    std::to_string(r.count(CheckStatus::kSkip)) + " skipped, " +
                    std::to_string(r.count(CheckStatus::kError)) + " error(s)\n";
  // Failed first (most severe first, as the table orders them within a severity), then errors.
  for (CheckStatus want : {CheckStatus::kFail, CheckStatus::kError}) {
    for (auto sev : {Severity::kCritical, Severity::kHigh, Severity::kMedium, Severity::kLow}) {
      for (const auto& c : r.results) {
        if (c.status != want || c.severity != sev) continue;
        out += "\n" + std::string(want == CheckStatus::kFail ? "FAIL " : "ERROR ") + c.id + " [" +
               std::string(severity_name(c.severity)) + "] " + c.title + "\n";
        out += "  evidence: " + c.evidence + "\n";
        if (want == CheckStatus::kFail) out += "  fix: " + c.remediation + "\n";
      }
    }
  }
  out += "\n";
  for (const auto& c : r.results) {
    if (c.status != CheckStatus::kPass && c.status != CheckStatus::kSkip) continue;
    out += std::string(c.status == CheckStatus::kPass ? "pass " : "skip ") + c.id + ": " +
           c.evidence + "\n";
  }
  return out;
}

}  // namespace gc::audit
