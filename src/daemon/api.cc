// SPDX-License-Identifier: MIT
#include "daemon/api.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>

#include "alert/alert_store.h"
#include "alert/recording.h"
#include "backup/catalog.h"
#include "backup/repository.h"
#include "base/units.h"
#include "daemon/alerting.h"
#include "daemon/handlers.h"

namespace gc::daemon {
namespace {

using json = nlohmann::json;
using Params = std::map<std::string, std::string>;

constexpr std::string_view kPrefix = "/api/v1";
constexpr int kAlertHistoryEntries = 50;
constexpr std::size_t kBackupSets = 20;
constexpr auto kMinRange = std::chrono::minutes(1);
constexpr auto kMaxRange = std::chrono::hours(24 * 400);

http::Response reply(int status, const json& body) {
  // Labels and messages come from the system (mount points, log lines): bytes that are not
  // UTF-8 are replaced rather than made an exception that would take the daemon down.
  return http::Response{status, "application/json",
                        body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n"};
}

http::Response error(int status, const std::string& message) {
  return reply(status, {{"error", message}});
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 percent-decoding, with '+' as a space (HTML forms). Control characters are refused:
// no parameter needs them, and they are how a malformed or hostile request shows.
Result<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      c = ' ';
    } else if (c == '%') {
      int hi = i + 2 < s.size() ? hex_digit(s[i + 1]) : -1;
      int lo = i + 2 < s.size() ? hex_digit(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return make_error(Errc::kInvalidArgument, "bad percent-encoding in the query string");
      }
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return make_error(Errc::kInvalidArgument, "control character in the query string");
    }
    out.push_back(c);
  }
  return out;
}

// "a=1&b=2" into parameters, each of `allowed` at most once. Errors: kInvalidArgument.
Result<Params> parse_query(std::string_view query, const std::set<std::string>& allowed) {
  Params out;
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (piece.empty()) continue;  // "a=1&" or "&&": nothing to read.
    std::size_t eq = piece.find('=');
    GC_ASSIGN_OR_RETURN(std::string key, percent_decode(piece.substr(0, eq)));
    GC_ASSIGN_OR_RETURN(
        std::string value,
        percent_decode(eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1)));
    if (!allowed.count(key)) {
      return make_error(Errc::kInvalidArgument, "unknown query parameter \"" + key + "\"");
    }
    if (!out.emplace(key, value).second) {
      return make_error(Errc::kInvalidArgument, "query parameter \"" + key + "\" given twice");
    }
  }
  return out;
}

// Prometheus's metric name syntax: what a history name can be.
bool is_metric_name(std::string_view s) {
  if (s.empty() || s.size() > 200) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && (i == 0 || c < '0' || c > '9')) return false;
  }
  return true;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The newest kBackupSets sets of the local repository, newest first. Only their manifests are
// read, whatever the repository holds.
Result<json> newest_sets(const config::Config& cfg) {
  json out = json::array();
  if (!cfg.backup) return out;
  const std::string& repo = cfg.backup->repo;
  std::error_code ec;
  std::filesystem::directory_iterator it(repo, ec);
  if (ec == std::errc::no_such_file_or_directory) return out;
  if (ec) return make_error(Errc::kIo, "backup repository " + repo + ": " + ec.message());
  std::vector<std::string> ids;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) return make_error(Errc::kIo, "backup repository " + repo + ": " + ec.message());
    std::string name = it->path().filename().string();
    if (backup::is_set_id(name)) ids.push_back(std::move(name));
  }
  std::sort(ids.rbegin(), ids.rend());  // The id format sorts chronologically.
  if (ids.size() > kBackupSets) ids.resize(kBackupSets);
  auto catalog = backup::Catalog::open(cfg.server.state_dir);
  for (const auto& id : ids) {
    auto set = backup::find_local_set(repo, id);
    json j;
    if (set) {
      j = backup::local_set_json(*set);
    } else {
      // As `backup list` words it: the problem, without the "backup set ID: " it is told with.
      std::string problem = set.error().message;
      std::string prefix = "backup set " + id + ": ";
      if (problem.rfind(prefix, 0) == 0) problem.erase(0, prefix.size());
      j = {{"id", id}, {"location", "local"}, {"complete", false}, {"problem", problem}};
    }
    std::string upload = "?";
    if (catalog) {
      auto c = catalog->find_set(id);
      upload = c && *c ? std::string(backup::upload_state_name((*c)->upload)) : "-";
    }
    j["upload"] = upload;
    out.push_back(std::move(j));
  }
  return out;
}

http::Response backups(const ApiContext& ctx) {
  json j = ctx.state->backup_status ? ctx.state->backup_status() : json::object();
  auto sets = newest_sets(ctx.state->config);
  if (sets) {
    j["sets"] = std::move(*sets);
  } else {
    j["sets"] = json::array();
    j["sets_error"] = sets.error().message;
  }
  return reply(200, j);
}

http::Response alerts(const ApiContext& ctx) {
  if (!ctx.alerting) return error(503, "alerts are not available");
  json j = ctx.alerting->alerts_json();
  auto history = ctx.alerting->alert_history(kAlertHistoryEntries);
  if (history) {
    j["history"] = alert::history_json(*history);
  } else {
    j["history"] = json::array();
    j["history_error"] = history.error().message;
  }
  return reply(200, j);
}

// The series answer, written as text: a month of a few dozen series is tens of thousands of
// points, and a json tree of them would cost the daemon several MB for a moment. The values are
// finite (the history holds no NaN or Inf), so to_chars gives valid JSON numbers.
std::string series_body(const std::string& name, int64_t range_s, int64_t step_s,
                        const std::vector<monitor::SeriesPoints>& series) {
  auto dump = [](const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); };
  std::string out = "{\"name\":" + dump(name) + ",\"range_s\":" + std::to_string(range_s) +
                    ",\"step_s\":" + std::to_string(step_s) + ",\"series\":[";
  char buf[64];
  for (std::size_t i = 0; i < series.size(); ++i) {
    out += (i == 0 ? "" : ",");
    out += "{\"labels\":" + dump(series[i].labels) + ",\"points\":[";
    const auto& points = series[i].points;
    for (std::size_t k = 0; k < points.size(); ++k) {
      out += (k == 0 ? "[" : ",[");
      out += std::to_string(points[k].t_ms / 1000);
      out += ',';
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, points[k].avg);
      if (ec == std::errc()) {
        out.append(buf, end);
      } else {
        out += "null";  // Cannot happen with 64 bytes; keeps the document valid regardless.
      }
      out += ']';
    }
    out += "]}";
  }
  out += "]}\n";
  return out;
}

http::Response series(const ApiContext& ctx, const Params& params) {
  monitor::HistoryStore* history = ctx.alerting ? ctx.alerting->history() : nullptr;
  if (!history) {
    std::string why = ctx.alerting ? ctx.alerting->history_error() : "";
    return error(503, "metric history is not available" + (why.empty() ? "" : ": " + why));
  }
  auto names = history->names();
  if (!names) return error(503, "metric history: " + names.error().message);
  auto name = params.find("name");
  if (name == params.end()) {
    if (params.count("range")) return error(400, "range needs a name: ?name=NAME&range=24h");
    return reply(200, {{"names", *names}});
  }
  if (!is_metric_name(name->second)) {
    return error(400, "name \"" + name->second + "\" is not a metric name");
  }
  Duration range = std::chrono::hours(1);
  if (auto r = params.find("range"); r != params.end()) {
    auto d = parse_duration(r->second);
    if (!d || *d < kMinRange || *d > kMaxRange) {
      return error(400, "range \"" + r->second + "\": expected a duration from 1m to 400d");
    }
    range = *d;
  }
  bool known = std::find(names->begin(), names->end(), name->second) != names->end();
  for (const auto& r : alert::builtin_recordings()) known = known || r.name == name->second;
  if (!known) return error(404, "no series named \"" + name->second + "\"");
  int64_t step_ms = 0;
  auto points = history->query(name->second, range.count(), now_ms(), &step_ms);
  if (!points) return error(503, "metric history: " + points.error().message);
  return http::Response{200, "application/json",
                        series_body(name->second, range.count() / 1000, step_ms / 1000, *points)};
}

}  // namespace

std::optional<http::Response> handle_api(const ApiContext& ctx, const http::Request& r) {
  std::size_t q = r.target.find('?');
  std::string_view path = std::string_view(r.target).substr(0, q);
  std::string_view query =
      q == std::string::npos ? std::string_view() : std::string_view(r.target).substr(q + 1);
  if (path.substr(0, kPrefix.size()) != kPrefix ||
      (path.size() > kPrefix.size() && path[kPrefix.size()] != '/')) {
    return std::nullopt;
  }
  if (r.method != "GET" && r.method != "HEAD") return error(405, "only GET");
  std::string_view endpoint = path.substr(kPrefix.size());
  bool is_series = endpoint == "/series";
  if (!is_series && endpoint != "/status" && endpoint != "/services" && endpoint != "/alerts" &&
      endpoint != "/backups") {
    return error(404, "no API endpoint " + std::string(path));
  }
  auto params = parse_query(
      query, is_series ? std::set<std::string>{"name", "range"} : std::set<std::string>{});
  if (!params) return error(400, params.error().message);
  if (endpoint == "/status") return reply(200, status_json(*ctx.state));
  if (endpoint == "/services") {
    return reply(200, {{"services", services_json(*ctx.state->supervisor)},
                       {"instances", instances_json(*ctx.state->supervisor)}});
  }
  if (endpoint == "/alerts") return alerts(ctx);
  if (endpoint == "/backups") return backups(ctx);
  return series(ctx, *params);
}

}  // namespace gc::daemon
