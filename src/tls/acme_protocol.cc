// SPDX-License-Identifier: MIT
#include "tls/acme_protocol.h"

#include <cctype>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "tls/acme_key.h"

namespace gc::tls {
namespace {

using nlohmann::json;

constexpr std::string_view kErrorPrefix = "urn:ietf:params:acme:error:";

// nlohmann::json::parse without exceptions: a discarded value on malformed input.
std::optional<json> parse_json(std::string_view body) {
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Error corrupt(std::string_view what, std::string_view member) {
  return make_error(Errc::kCorrupt, std::string(what) + " from the ACME server has no valid \"" +
                                        std::string(member) + "\"");
}

std::optional<AcmeProblem> problem_from(const json& j) {
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) return std::nullopt;
  AcmeProblem p;
  p.type = str(j, "type");
  p.detail = str(j, "detail");
  if (auto it = j.find("status"); it != j.end() && it->is_number_integer()) {
    p.status = it->get<int>();
  }
  if (auto it = j.find("subproblems"); it != j.end() && it->is_array()) {
    for (const json& s : *it) {
      if (!s.is_object()) continue;
      std::string id;
      if (auto i = s.find("identifier"); i != s.end() && i->is_object()) id = str(*i, "value");
      p.subproblems.push_back(id + ": " + str(s, "type") + ": " + str(s, "detail"));
    }
  }
  return p;
}

// RFC 3339 date-time ("2025-01-02T04:00:00Z", "...04:00:00.5+01:00") to seconds.
std::optional<SysSeconds> parse_rfc3339(const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, used = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s,
                  &used) != 6) {
    return std::nullopt;
  }
  std::size_t i = static_cast<std::size_t>(used);
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  }
  int offset = 0;
  if (i < text.size() && (text[i] == 'Z' || text[i] == 'z')) {
    ++i;
  } else if (i + 6 == text.size() && (text[i] == '+' || text[i] == '-')) {
    int oh = 0, om = 0;
    if (std::sscanf(text.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2) return std::nullopt;
    offset = (text[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != text.size()) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(mo),
                                  std::chrono::day(d)};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  return std::chrono::sys_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(mi) +
         std::chrono::seconds(s) - std::chrono::seconds(offset);
}

// IMF-fixdate, the HTTP-date form servers send: "Sun, 06 Nov 1994 08:49:37 GMT".
std::optional<SysSeconds> parse_http_date(std::string_view value) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::string text(value);
  char wday[4] = {}, mon[4] = {}, zone[4] = {};
  int d = 0, y = 0, h = 0, mi = 0, s = 0;
  if (std::sscanf(text.c_str(), "%3s, %2d %3s %4d %2d:%2d:%2d %3s", wday, &d, mon, &y, &h, &mi, &s,
                  zone) != 8 ||
      std::strcmp(zone, "GMT") != 0) {
    return std::nullopt;
  }
  int m = 0;
  while (m < 12 && std::strcmp(kMonths[m], mon) != 0) ++m;
  if (m == 12) return std::nullopt;
  std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(m + 1),
                                  std::chrono::day(d)};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  return std::chrono::sys_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(mi) +
         std::chrono::seconds(s);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

bool AcmeProblem::is(std::string_view name) const {
  return type.size() == kErrorPrefix.size() + name.size() &&
         std::string_view(type).substr(0, kErrorPrefix.size()) == kErrorPrefix &&
         std::string_view(type).substr(kErrorPrefix.size()) == name;
}

std::string AcmeProblem::describe() const {
  std::string out = type.empty() ? "unknown problem" : type;
  if (!detail.empty()) out += ": " + detail;
  if (!subproblems.empty()) {
    out += " (";
    for (std::size_t i = 0; i < subproblems.size(); ++i) {
      out += (i > 0 ? "; " : "") + subproblems[i];
    }
    out += ")";
  }
  return out;
}

const AcmeChallenge* AcmeAuthorization::find(std::string_view type) const {
  for (const auto& c : challenges) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

Result<AcmeDirectory> parse_directory(std::string_view body) {
  auto j = parse_json(body);
  if (!j) return make_error(Errc::kCorrupt, "the ACME directory is not a JSON object");
  AcmeDirectory d;
  d.new_nonce = str(*j, "newNonce");
  d.new_account = str(*j, "newAccount");
  d.new_order = str(*j, "newOrder");
  d.renewal_info = str(*j, "renewalInfo");
  if (auto it = j->find("meta"); it != j->end() && it->is_object()) {
    d.terms_of_service = str(*it, "termsOfService");
  }
  if (d.new_nonce.empty()) return corrupt("the directory", "newNonce");
  if (d.new_account.empty()) return corrupt("the directory", "newAccount");
  if (d.new_order.empty()) return corrupt("the directory", "newOrder");
  return d;
}

Result<AcmeOrder> parse_order(std::string_view body) {
  auto j = parse_json(body);
  if (!j) return make_error(Errc::kCorrupt, "an order from the ACME server is not a JSON object");
  AcmeOrder o;
  o.status = str(*j, "status");
  o.finalize = str(*j, "finalize");
  o.certificate = str(*j, "certificate");
  if (auto it = j->find("authorizations"); it != j->end() && it->is_array()) {
    for (const json& a : *it) {
      if (a.is_string()) o.authorizations.push_back(a.get<std::string>());
    }
  }
  if (auto it = j->find("error"); it != j->end()) o.error = problem_from(*it);
  if (o.status.empty()) return corrupt("an order", "status");
  if (o.finalize.empty()) return corrupt("an order", "finalize");
  return o;
}

Result<AcmeAuthorization> parse_authorization(std::string_view body) {
  auto j = parse_json(body);
  if (!j) {
    return make_error(Errc::kCorrupt, "an authorization from the ACME server is not JSON");
  }
  AcmeAuthorization a;
  a.status = str(*j, "status");
  if (auto it = j->find("identifier"); it != j->end() && it->is_object()) {
    a.identifier = str(*it, "value");
  }
  if (auto it = j->find("challenges"); it != j->end() && it->is_array()) {
    for (const json& c : *it) {
      if (!c.is_object()) continue;
      AcmeChallenge ch{str(c, "type"), str(c, "url"), str(c, "token"), str(c, "status"), {}};
      if (auto e = c.find("error"); e != c.end()) ch.error = problem_from(*e);
      a.challenges.push_back(std::move(ch));
    }
  }
  if (a.status.empty()) return corrupt("an authorization", "status");
  if (a.identifier.empty()) return corrupt("an authorization", "identifier");
  return a;
}

Result<std::string> parse_account_status(std::string_view body) {
  auto j = parse_json(body);
  if (!j) return make_error(Errc::kCorrupt, "the account from the ACME server is not JSON");
  std::string s = str(*j, "status");
  if (s.empty()) return corrupt("the account", "status");
  return s;
}

std::optional<AcmeProblem> parse_problem(std::string_view body) {
  auto j = parse_json(body);
  if (!j) return std::nullopt;
  return problem_from(*j);
}

bool is_valid_token(std::string_view token) {
  if (token.size() < 16 || token.size() > 256) return false;
  for (char c : token) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value, SysSeconds now) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  bool digits = value.size() <= 10;
  for (char c : value) digits = digits && c >= '0' && c <= '9';
  if (digits) return std::chrono::seconds(std::stoll(std::string(value)));
  auto when = parse_http_date(value);
  if (!when) return std::nullopt;
  return *when > now ? *when - now : std::chrono::seconds(0);
}

std::vector<std::string> parse_links(std::span<const std::string> link_headers,
                                     std::string_view rel) {
  std::vector<std::string> out;
  for (const std::string& header : link_headers) {
    // A header may hold several comma-separated links: <url>;rel="up", <url2>;rel="alternate".
    std::size_t pos = 0;
    while (pos < header.size()) {
      std::size_t open = header.find('<', pos);
      if (open == std::string::npos) break;
      std::size_t close = header.find('>', open);
      if (close == std::string::npos) break;
      std::string url = header.substr(open + 1, close - open - 1);
      std::size_t next = header.find('<', close);
      std::string_view params(header.data() + close + 1,
                              (next == std::string::npos ? header.size() : next) - close - 1);
      std::size_t r = params.find("rel=");
      if (r != std::string_view::npos) {
        std::string_view v = params.substr(r + 4);
        if (!v.empty() && v.front() == '"') v.remove_prefix(1);
        std::size_t end = v.find_first_of("\";, ");
        if (v.substr(0, end) == rel) out.push_back(url);
      }
      pos = next == std::string::npos ? header.size() : next;
    }
  }
  return out;
}

AcmeVerdict classify_response(long status, std::string_view body, int attempt, int max_attempts,
                              std::string_view what) {
  if (status >= 200 && status < 300) return {};
  std::optional<AcmeProblem> p = parse_problem(body);
  AcmeVerdict v;
  v.next = AcmeNext::kFail;
  if (p && p->is("badNonce") && attempt < max_attempts) {
    // RFC 8555 section 6.5: the server sends a fresh nonce with the error; sign again with it.
    v.next = AcmeNext::kRetry;
    return v;
  }
  if (p && p->is("rateLimited")) {
    v.rate_limited = true;
    v.error = make_error(Errc::kUnavailable, std::string(what) + ": rate limited by the ACME " +
                                                 "server (" + p->describe() +
                                                 "); not retrying until the limit resets");
    return v;
  }
  std::string why = p ? p->describe() : "HTTP status " + std::to_string(status);
  if (p && p->is("badNonce")) why += " after " + std::to_string(attempt) + " tries";
  v.error = make_error(status >= 500 ? Errc::kUnavailable : Errc::kInvalidArgument,
                       std::string(what) + ": " + why);
  return v;
}

Result<RenewalWindow> parse_renewal_info(std::string_view body) {
  auto j = parse_json(body);
  if (!j) return make_error(Errc::kCorrupt, "renewal information is not a JSON object");
  auto w = j->find("suggestedWindow");
  if (w == j->end() || !w->is_object()) return corrupt("renewal information", "suggestedWindow");
  auto start = parse_rfc3339(str(*w, "start"));
  auto end = parse_rfc3339(str(*w, "end"));
  if (!start) return corrupt("renewal information", "suggestedWindow.start");
  if (!end) return corrupt("renewal information", "suggestedWindow.end");
  if (*end < *start) {
    return make_error(Errc::kCorrupt, "renewal information: the window ends before it starts");
  }
  return RenewalWindow{*start, *end, str(*j, "explanationURL")};
}

std::string ari_cert_id(std::span<const std::uint8_t> aki_key_id,
                        std::span<const std::uint8_t> serial) {
  auto as_view = [](std::span<const std::uint8_t> b) {
    return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
  };
  return base64url(as_view(aki_key_id)) + "." + base64url(as_view(serial));
}

}  // namespace gc::tls
