// SPDX-License-Identifier: MIT
#include "monitor/notify.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "base/child_process.h"
#include "base/unique_fd.h"
#include "base/utc_time.h"
#include "storage/libcurl.h"

namespace gc::monitor {
namespace {

using json = nlohmann::json;

// Alertmanager's zero time for an alert that has not ended.
constexpr const char* kZeroTime = "0001-01-01T00:00:00Z";

std::map<std::string, std::string> all_labels(const Alert& a) {
  auto labels = a.labels;
  labels["alertname"] = a.name;
  return labels;
}

std::size_t discard_body(char*, std::size_t size, std::size_t n, void*) { return size * n; }

Status post_webhook(const config::NotifyConfig& t, const std::string& payload) {
  GC_TRY(storage::load_libcurl());
  const auto& api = storage::curl_api();
  storage::CurlPtr curl(api.easy_init());
  if (!curl) return make_error(Errc::kInternal, "curl_easy_init failed");
  CURL* c = curl.get();
  storage::SlistPtr headers(api.slist_append(nullptr, "Content-Type: application/json"));
  char errbuf[CURL_ERROR_SIZE] = {0};
  api.easy_setopt(c, CURLOPT_URL, t.url.c_str());
  api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  api.easy_setopt(c, CURLOPT_USERAGENT, "groundctl");
  api.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  api.easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  api.easy_setopt(c, CURLOPT_POSTFIELDS, payload.c_str());
  api.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
  api.easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(t.timeout.count()));
  api.easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_body);
  CURLcode rc = api.easy_perform(c);
  if (rc != CURLE_OK) {
    // curl's messages name the host at most, never the path where a token would be.
    std::string detail = api.easy_strerror(rc);
    return make_error(Errc::kUnavailable, "notify " + t.name + ": " + detail);
  }
  long status = 0;
  api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status > 299) {
    return make_error(Errc::kUnavailable,
                      "notify " + t.name + ": the webhook answered HTTP " + std::to_string(status));
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
  if (!child) return child.error().with_context("notify " + t.name);
  pollfd p{child->pidfd(), POLLIN, 0};
  int r;
  do {
    r = ::poll(&p, 1, static_cast<int>(t.timeout.count()));
  } while (r < 0 && errno == EINTR);
  if (r == 0) {
    (void)child->terminate(SIGTERM, std::chrono::seconds(2));
    return make_error(Errc::kTimeout, "notify " + t.name + ": the command did not finish within " +
                                          format_duration(t.timeout));
  }
  GC_ASSIGN_OR_RETURN(ExitStatus st, child->wait());
  if (!st.success()) {
    return make_error(Errc::kIo,
                      "notify " + t.name + ": the command failed (" + st.to_string() + ")");
  }
  return ok();
}

}  // namespace

std::string fingerprint(const Alert& a) {
  std::uint64_t h = 14695981039346656037ull;
  auto feed = [&](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
  };
  for (const auto& [k, v] : all_labels(a)) {
    feed(k);
    feed("\xff");
    feed(v);
    feed("\xff");
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

json webhook_payload(const std::vector<Alert>& alerts, const std::string& receiver,
                     const std::string& external_url) {
  json list = json::array();
  bool any_firing = false;
  std::map<std::string, std::string> common;
  std::map<std::string, std::string> common_annotations;
  for (std::size_t i = 0; i < alerts.size(); ++i) {
    const Alert& a = alerts[i];
    any_firing = any_firing || a.firing();
    auto labels = all_labels(a);
    list.push_back({{"status", a.firing() ? "firing" : "resolved"},
                    {"labels", labels},
                    {"annotations", a.annotations},
                    {"startsAt", format_utc(a.starts_at)},
                    {"endsAt", a.ends_at ? format_utc(*a.ends_at) : std::string(kZeroTime)},
                    {"generatorURL", external_url},
                    {"fingerprint", fingerprint(a)}});
    // Common labels and annotations: those every alert of the group has with the same value.
    if (i == 0) {
      common = labels;
      common_annotations = a.annotations;
      continue;
    }
    std::erase_if(common, [&](const auto& kv) {
      auto it = labels.find(kv.first);
      return it == labels.end() || it->second != kv.second;
    });
    std::erase_if(common_annotations, [&](const auto& kv) {
      auto it = a.annotations.find(kv.first);
      return it == a.annotations.end() || it->second != kv.second;
    });
  }
  std::map<std::string, std::string> group;
  if (common.contains("alertname")) group["alertname"] = common["alertname"];
  std::string key = "{}:{";
  bool first = true;
  for (const auto& [k, v] : group) {
    key += (first ? "" : ",") + k + "=\"" + v + "\"";
    first = false;
  }
  key += "}";
  return {{"version", "4"},
          {"groupKey", key},
          {"truncatedAlerts", 0},
          {"status", any_firing ? "firing" : "resolved"},
          {"receiver", receiver},
          {"groupLabels", group},
          {"commonLabels", common},
          {"commonAnnotations", common_annotations},
          {"externalURL", external_url},
          {"alerts", list}};
}

Status deliver(const config::NotifyConfig& target, const std::string& payload,
               const DeliveryOptions& options) {
  auto backoff = options.first_backoff;
  Status last = ok();
  for (int attempt = 1; attempt <= std::max(1, options.attempts); ++attempt) {
    last = target.type == config::NotifyType::kExec ? run_exec(target, payload)
                                                    : post_webhook(target, payload);
    if (last) return last;
    if (attempt < options.attempts) {
      std::this_thread::sleep_for(backoff);
      backoff *= 2;
    }
  }
  return last.error().with_context("after " + std::to_string(options.attempts) + " attempts");
}

std::vector<std::string> notify_all(const std::vector<config::NotifyConfig>& targets,
                                    const std::vector<Alert>& alerts, const std::string& receiver,
                                    const DeliveryOptions& options) {
  std::vector<std::string> failures;
  for (const auto& t : targets) {
    std::vector<Alert> send;
    for (const auto& a : alerts) {
      if (a.firing() || t.send_resolved) send.push_back(a);
    }
    if (send.empty()) continue;
    Status st = deliver(t, webhook_payload(send, receiver, "").dump(), options);
    if (!st) failures.push_back(st.error().message);
  }
  return failures;
}

}  // namespace gc::monitor
