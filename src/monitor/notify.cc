// SPDX-License-Identifier: MIT
#include "monitor/notify.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include "base/child_process.h"
#include "base/unique_fd.h"
#include "base/utc_time.h"
#include "monitor/http_client.h"
#include "storage/libcurl.h"

namespace gc::monitor {
namespace {

using json = nlohmann::json;

// Invalid UTF-8 (from a log line, say) becomes U+FFFD instead of making dump() throw.
std::string to_text(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string quoted_name(const config::NotifyConfig& t) { return "notify \"" + t.name + "\""; }

// ---- Delivery.

std::size_t keep_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  std::size_t len = size * n;
  if (out->size() < 512) out->append(data, std::min(len, 512 - out->size()));
  return len;
}

// The start of a server's answer, printable and on one line, for an error message.
std::string excerpt(std::string_view body) {
  std::string out;
  for (char c : body.substr(0, 200)) out += c >= 0x20 && c < 0x7f ? c : ' ';
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// The judgement of an answer, whichever client got it.
Status check_answer(const config::NotifyConfig& t, const std::string& what, long status,
                    const std::string& answer) {
  if (status < 200 || status > 299) {
    std::string message = quoted_name(t) + ": " + what + " answered HTTP " + std::to_string(status);
    // Alertmanager says what it did not like about the alerts. Other servers' pages may quote
    // the request path, which for a webhook holds the token.
    if (t.type == config::NotifyType::kAlertmanager && !excerpt(answer).empty()) {
      message += ": " + excerpt(answer);
    }
    return make_error(Errc::kUnavailable, message);
  }
  return ok();
}

// http:// targets (a local relay, Alertmanager on the LAN): our own client, so that a
// notification does not leave libcurl and its TLS stacks mapped in the daemon for good.
Status post_json_plain(const config::NotifyConfig& t, const std::string& url,
                       const std::string& what, const std::string& payload) {
  HttpRequest r;
  r.method = "POST";
  r.url = url;
  r.headers = {{"Content-Type", "application/json"}};
  r.body = payload;
  r.timeout = t.timeout;
  r.keep_body = 512;
  auto res = http_request(r);
  if (!res) {
    // The client's messages name host:port only, never the path (where a token would be).
    return make_error(res.error().code == Errc::kTimeout ? Errc::kTimeout : Errc::kUnavailable,
                      quoted_name(t) + ": " + what + ": " + res.error().message);
  }
  return check_answer(t, what, res->status, res->body);
}

Status post_json(const config::NotifyConfig& t, const std::string& url, const std::string& what,
                 const std::string& payload) {
  if (is_plain_http_url(url)) return post_json_plain(t, url, what, payload);
  GC_TRY(storage::load_libcurl());
  const auto& api = storage::curl_api();
  storage::CurlPtr curl(api.easy_init());
  if (!curl) return make_error(Errc::kInternal, "curl_easy_init failed");
  CURL* c = curl.get();
  storage::SlistPtr headers(api.slist_append(nullptr, "Content-Type: application/json"));
  std::string answer;
  api.easy_setopt(c, CURLOPT_URL, url.c_str());
  api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  api.easy_setopt(c, CURLOPT_USERAGENT, "groundctl");
  api.easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  api.easy_setopt(c, CURLOPT_POSTFIELDS, payload.c_str());
  api.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
  api.easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(t.timeout.count()));
  api.easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_body);
  api.easy_setopt(c, CURLOPT_WRITEDATA, &answer);
  CURLcode rc = api.easy_perform(c);
  if (rc != CURLE_OK) {
    // curl_easy_strerror names no host or path; the error buffer could quote the URL, where a
    // token would be.
    return make_error(Errc::kUnavailable,
                      quoted_name(t) + ": " + what + ": " + api.easy_strerror(rc));
  }
  long status = 0;
  api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  return check_answer(t, what, status, answer);
}

// A password that is wiped from memory when it goes out of scope.
struct Password {
  std::string text;
  ~Password() { ::explicit_bzero(text.data(), text.size()); }
};

// Reads the SMTP password from its file at each delivery, so that a rotated password needs no
// reload. As ssh does with keys, a file others could read is refused: the secret would already
// be exposed.
Status read_password(const config::NotifyConfig& t, Password& out) {
  std::string what = quoted_name(t) + ": password_file " + t.password_file;
  auto fd = open_fd(t.password_file, O_RDONLY);
  if (!fd) return fd.error().with_context(quoted_name(t) + ": password_file");
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return sys_error("stat", what, errno);
  if (!S_ISREG(st.st_mode)) return make_error(Errc::kPermission, what + " is not a regular file");
  unsigned mode = st.st_mode & 07777;
  if (mode != 0600 && mode != 0400) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", mode);
    return make_error(
        Errc::kPermission,
        what + " has mode " + text + ", it must be 0600 or 0400: run chmod 600 " + t.password_file);
  }
  if (st.st_size > 4096) return make_error(Errc::kPermission, what + " is over 4 KiB");
  // Read straight into reserved space: a growing string would leave copies in freed memory.
  out.text.resize(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  while (got < out.text.size()) {
    ssize_t n = ::read(fd->get(), out.text.data() + got, out.text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read", what, errno);
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.text.resize(got);
  while (!out.text.empty() && (out.text.back() == '\n' || out.text.back() == '\r')) {
    out.text.back() = '\0';
    out.text.pop_back();
  }
  return ok();
}

struct Upload {
  std::string_view data;
  std::size_t offset = 0;
};

std::size_t read_upload(char* buf, std::size_t size, std::size_t n, void* user) {
  auto* u = static_cast<Upload*>(user);
  std::size_t len = std::min(size * n, u->data.size() - u->offset);
  std::memcpy(buf, u->data.data() + u->offset, len);
  u->offset += len;
  return len;
}

Status send_mail(const config::NotifyConfig& t, const std::string& message) {
  Password password;
  if (!t.password_file.empty()) GC_TRY(read_password(t, password));
  GC_TRY(storage::load_libcurl());
  const auto& api = storage::curl_api();
  storage::CurlPtr curl(api.easy_init());
  if (!curl) return make_error(Errc::kInternal, "curl_easy_init failed");
  CURL* c = curl.get();
  storage::SlistPtr rcpt;
  for (const auto& to : t.to) {
    curl_slist* l = api.slist_append(rcpt.get(), ("<" + to + ">").c_str());
    if (!l) return make_error(Errc::kInternal, "curl_slist_append failed");
    (void)rcpt.release();
    rcpt.reset(l);
  }
  std::string from = "<" + t.from + ">";
  Upload upload{message};
  char errbuf[CURL_ERROR_SIZE] = {0};
  api.easy_setopt(c, CURLOPT_URL, t.smtp.c_str());
  api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  api.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  api.easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(t.timeout.count()));
  api.easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  api.easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
  api.easy_setopt(c, CURLOPT_UPLOAD, 1L);
  api.easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
  api.easy_setopt(c, CURLOPT_READDATA, &upload);
  // CURLUSESSL_ALL: fail when the server offers no STARTTLS rather than send the password and
  // the alerts in clear text. smtps:// is TLS from the first byte either way.
  api.easy_setopt(c, CURLOPT_USE_SSL,
                  static_cast<long>(t.starttls ? CURLUSESSL_ALL : CURLUSESSL_NONE));
  if (!t.ca_file.empty()) api.easy_setopt(c, CURLOPT_CAINFO, t.ca_file.c_str());
  if (!t.username.empty()) {
    api.easy_setopt(c, CURLOPT_USERNAME, t.username.c_str());
    api.easy_setopt(c, CURLOPT_PASSWORD, password.text.c_str());
  }
  CURLcode rc = api.easy_perform(c);
  if (rc != CURLE_OK) {
    // For SMTP the error buffer names the host at most (not secret here; the URL holds no
    // credentials, the config refuses them) and gives the reason: a certificate problem, the
    // server's reply code.
    std::string error = quoted_name(t) + ": smtp: " + api.easy_strerror(rc);
    std::string detail = excerpt(errbuf);
    if (!detail.empty() && detail != api.easy_strerror(rc)) error += " (" + detail + ")";
    return make_error(Errc::kUnavailable, error);
  }
  return ok();
}

Status run_exec(const config::NotifyConfig& t, const std::string& payload) {
  int in = ::memfd_create("groundctl-alert", MFD_CLOEXEC);
  if (in < 0) return make_error(Errc::kIo, std::string("memfd: ") + std::strerror(errno));
  UniqueFd input(in);
  GC_TRY(write_all(input.get(), payload));
  if (::lseek(input.get(), 0, SEEK_SET) != 0) {
    return make_error(Errc::kIo, std::string("lseek: ") + std::strerror(errno));
  }
  SpawnOptions o;
  o.argv = t.command;
  o.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  o.stdin_fd = input.get();
  auto child = ChildProcess::spawn(o);
  if (!child) return child.error().with_context(quoted_name(t));
  pollfd p{child->pidfd(), POLLIN, 0};
  int r;
  do {
    r = ::poll(&p, 1, static_cast<int>(t.timeout.count()));
  } while (r < 0 && errno == EINTR);
  if (r == 0) {
    (void)child->terminate(SIGTERM, std::chrono::seconds(2));
    return make_error(Errc::kTimeout, quoted_name(t) + ": the command did not finish within " +
                                          format_duration(t.timeout));
  }
  GC_ASSIGN_OR_RETURN(ExitStatus st, child->wait());
  if (!st.success()) {
    return make_error(Errc::kIo, quoted_name(t) + ": the command failed (" + st.to_string() + ")");
  }
  return ok();
}

// One attempt to hand `body`, already in the target's format, to the target.
Status send_once(const config::NotifyConfig& t, const std::string& body) {
  switch (t.type) {
    case config::NotifyType::kExec:
      return run_exec(t, body);
    case config::NotifyType::kWebhook:
      return post_json(t, t.url, "webhook", body);
    case config::NotifyType::kSlack:
      return post_json(t, t.url, "slack", body);
    case config::NotifyType::kAlertmanager:
      return post_json(t, t.url + "/api/v2/alerts", "alertmanager", body);
    case config::NotifyType::kEmail:
      return send_mail(t, body);
  }
  return make_error(Errc::kInternal, quoted_name(t) + ": unknown type");
}

// A wrong password file mode or a missing file stays wrong for the next attempt.
bool worth_retrying(const Error& e) {
  return e.code != Errc::kPermission && e.code != Errc::kNotFound &&
         e.code != Errc::kInvalidArgument && e.code != Errc::kInternal;
}

Status send_with_retries(const config::NotifyConfig& target, const std::string& body,
                         const DeliveryOptions& options) {
  int attempts = std::max(1, options.attempts);
  auto backoff = options.first_backoff;
  for (int attempt = 1;; ++attempt) {
    Status last = send_once(target, body);
    if (last) return last;
    if (!worth_retrying(last.error())) return last;
    if (attempt == attempts) {
      return last.error().with_context("after " + std::to_string(attempts) + " attempts");
    }
    std::this_thread::sleep_for(backoff);
    backoff *= 2;
  }
}

std::map<std::string, std::string> string_members(const json& j, const char* key) {
  std::map<std::string, std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_object()) return out;
  for (const auto& [k, v] : it->items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

std::chrono::system_clock::time_point time_member(const json& j, const char* key) {
  auto it = j.find(key);
  std::optional<std::chrono::sys_seconds> t;
  if (it != j.end() && it->is_string()) t = parse_utc(it->get<std::string>());
  return t ? std::chrono::system_clock::time_point(*t) : std::chrono::system_clock::time_point();
}

struct Batch {
  std::vector<Alert> alerts;
  std::string receiver;
};

// The alerts of a webhook payload (the inverse of webhook_payload), for callers of deliver()
// whose target takes another format. The only place that parses JSON here: nlohmann-json's
// exceptions stay inside.
Result<Batch> from_webhook_payload(const config::NotifyConfig& t, const std::string& payload) {
  Error bad = make_error(Errc::kInvalidArgument,
                         quoted_name(t) + ": the payload is not an Alertmanager webhook payload");
  try {
    json j = json::parse(payload, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return bad;
    auto alerts = j.find("alerts");
    if (alerts == j.end() || !alerts->is_array()) return bad;
    Batch b;
    if (auto r = j.find("receiver"); r != j.end() && r->is_string()) {
      b.receiver = r->get<std::string>();
    }
    for (const auto& item : *alerts) {
      if (!item.is_object()) return bad;
      Alert a;
      a.labels = string_members(item, "labels");
      a.name = a.labels["alertname"];
      a.labels.erase("alertname");
      a.annotations = string_members(item, "annotations");
      a.starts_at = time_member(item, "startsAt");
      if (item.value("status", "") == "resolved") a.ends_at = time_member(item, "endsAt");
      b.alerts.push_back(std::move(a));
    }
    return b;
  } catch (const json::exception&) {
    return bad;
  }
}

}  // namespace

Status deliver_alerts(const config::NotifyConfig& target, const std::vector<Alert>& alerts,
                      const std::string& receiver, const DeliveryOptions& options) {
  std::vector<Alert> send;
  for (const auto& a : alerts) {
    if (a.firing() || target.send_resolved) send.push_back(a);
  }
  if (send.empty()) return ok();
  std::string body;
  switch (target.type) {
    case config::NotifyType::kWebhook:
    case config::NotifyType::kExec:
      body = to_text(webhook_payload(send, receiver, ""));
      break;
    case config::NotifyType::kSlack:
      body = to_text(slack_payload(send, receiver));
      break;
    case config::NotifyType::kAlertmanager:
      body = to_text(alertmanager_payload(send));
      break;
    case config::NotifyType::kEmail:
      // Built once: every attempt sends the same Message-ID, so a server that got the message
      // before an attempt failed can drop the copy.
      body = email_message(send, receiver, target.from, target.to, std::chrono::system_clock::now(),
                           new_message_id());
      break;
  }
  return send_with_retries(target, body, options);
}

Status deliver(const config::NotifyConfig& target, const std::string& payload,
               const DeliveryOptions& options) {
  if (target.type == config::NotifyType::kWebhook || target.type == config::NotifyType::kExec) {
    return send_with_retries(target, payload, options);
  }
  GC_ASSIGN_OR_RETURN(Batch batch, from_webhook_payload(target, payload));
  return deliver_alerts(target, batch.alerts, batch.receiver, options);
}

std::vector<std::string> notify_all(const std::vector<config::NotifyConfig>& targets,
                                    const std::vector<Alert>& alerts, const std::string& receiver,
                                    const DeliveryOptions& options) {
  std::vector<std::string> failures;
  for (const auto& t : targets) {
    Status st = deliver_alerts(t, alerts, receiver, options);
    if (!st) failures.push_back(st.error().message);
  }
  return failures;
}

}  // namespace gc::monitor
