// SPDX-License-Identifier: MIT
#include "tls/acme_client.h"

#include <algorithm>
#include <cctype>
#include <thread>

#include "storage/libcurl.h"

namespace gc::tls {
namespace {

using storage::curl_api;

struct Transfer {
  AcmeClient::Response* response;
  std::size_t limit_bytes = 4 << 20;  // Directory, JSON objects and PEM chains are small.
  bool too_big = false;
};

size_t on_write(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  if (t->response->body.size() + size * n > t->limit_bytes) {
    t->too_big = true;
    return 0;
  }
  t->response->body.append(data, size * n);
  return size * n;
}

bool header_is(std::string_view line, std::string_view name) {
  if (line.size() <= name.size() || line[name.size()] != ':') return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
  }
  return true;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<Transfer*>(user)->response;
  std::string_view line(data, size * n);
  // A new status line (after a 100 Continue, say) starts a new set of headers.
  if (line.substr(0, 5) == "HTTP/") {
    r->location.clear();
    r->nonce.clear();
    r->retry_after.clear();
    r->links.clear();
  }
  auto value = [&](std::string_view name) {
    std::string_view v = line.substr(name.size() + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) {
      v.remove_suffix(1);
    }
    return std::string(v);
  };
  if (header_is(line, "location")) r->location = value("location");
  if (header_is(line, "replay-nonce")) r->nonce = value("replay-nonce");
  if (header_is(line, "retry-after")) r->retry_after = value("retry-after");
  if (header_is(line, "link")) r->links.push_back(value("link"));
  return size * n;
}

SysSeconds system_now() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

}  // namespace

AcmeClient::~AcmeClient() = default;

Result<AcmeClient> AcmeClient::connect(AcmeClientOptions options) {
  GC_TRY(storage::load_libcurl());
  AcmeClient c(std::move(options));
  GC_ASSIGN_OR_RETURN(Response r, c.http("GET", c.options_.directory_url, nullptr));
  if (r.status != 200) {
    return make_error(Errc::kUnavailable, "ACME directory " + c.options_.directory_url +
                                              ": HTTP status " + std::to_string(r.status));
  }
  auto dir = parse_directory(r.body);
  if (!dir) return dir.error().with_context("ACME directory " + c.options_.directory_url);
  c.directory_ = std::move(*dir);
  return c;
}

Result<AcmeClient::Response> AcmeClient::http(const char* method, const std::string& url,
                                              const std::string* body, const char* accept) {
  const auto& api = curl_api();
  storage::CurlPtr curl(api.easy_init());
  if (!curl) return make_error(Errc::kInternal, "curl_easy_init failed");
  CURL* c = curl.get();
  Response r;
  Transfer t{&r};
  char errbuf[CURL_ERROR_SIZE] = {};
  storage::SlistPtr headers;
  auto add_header = [&](const std::string& h) {
    curl_slist* l = api.slist_append(headers.get(), h.c_str());
    if (l != nullptr) {
      (void)headers.release();
      headers.reset(l);
    }
  };
  if (body != nullptr) add_header("Content-Type: application/jose+json");
  if (accept != nullptr) add_header(std::string("Accept: ") + accept);
  api.easy_setopt(c, CURLOPT_URL, url.c_str());
  api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  api.easy_setopt(c, CURLOPT_USERAGENT, "groundctl-acme");
  api.easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  api.easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
  api.easy_setopt(c, CURLOPT_TIMEOUT, static_cast<long>(options_.http_timeout.count()));
  api.easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  api.easy_setopt(c, CURLOPT_HEADERDATA, &t);
  api.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
  api.easy_setopt(c, CURLOPT_WRITEDATA, &t);
  if (!options_.ca_bundle.empty()) api.easy_setopt(c, CURLOPT_CAINFO, options_.ca_bundle.c_str());
  if (headers) api.easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  if (std::string_view(method) == "HEAD") {
    api.easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (body != nullptr) {
    api.easy_setopt(c, CURLOPT_POST, 1L);
    api.easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
    api.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  }
  CURLcode rc = api.easy_perform(c);
  if (t.too_big) {
    return make_error(Errc::kCorrupt, "ACME server " + url + ": answer larger than 4 MiB");
  }
  if (rc != CURLE_OK) {
    std::string why = errbuf[0] != '\0' ? errbuf : api.easy_strerror(rc);
    return make_error(Errc::kUnavailable, "ACME server " + url + ": " + why +
                                              " (is the [tls] directory URL right and the "
                                              "server reachable?)");
  }
  api.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  if (!r.nonce.empty()) nonce_ = r.nonce;
  return r;
}

Status AcmeClient::fetch_nonce() {
  GC_ASSIGN_OR_RETURN(Response r, http("HEAD", directory_.new_nonce, nullptr));
  if (r.nonce.empty()) {
    return make_error(Errc::kUnavailable, "ACME newNonce " + directory_.new_nonce +
                                              ": no Replay-Nonce (HTTP status " +
                                              std::to_string(r.status) + ")");
  }
  return ok();
}

Result<AcmeClient::Response> AcmeClient::post(const std::string& url,
                                              const std::optional<nlohmann::json>& payload,
                                              const std::string& what, bool use_jwk,
                                              const char* accept) {
  if (key_ == nullptr) return make_error(Errc::kInternal, what + ": no account key");
  for (int attempt = 1;; ++attempt) {
    if (nonce_.empty()) GC_TRY(fetch_nonce());
    // A nonce is good for one request only.
    std::string nonce = std::move(nonce_);
    nonce_.clear();
    GC_ASSIGN_OR_RETURN(std::string jws, sign_jws(*key_, url, nonce, use_jwk ? "" : kid_, payload));
    GC_ASSIGN_OR_RETURN(Response r, http("POST", url, &jws, accept));
    AcmeVerdict v = classify_response(r.status, r.body, attempt, options_.max_attempts, what);
    if (v.next == AcmeNext::kOk) return r;
    if (v.next == AcmeNext::kRetry) {
      ++bad_nonce_retries_;
      continue;  // http() kept the fresh Replay-Nonce.
    }
    rate_limited_ = rate_limited_ || v.rate_limited;
    return v.error;
  }
}

bool AcmeClient::pause(const Response& r, std::chrono::steady_clock::time_point deadline) const {
  auto wait =
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(options_.poll_interval);
  if (auto ra = parse_retry_after(r.retry_after, system_now()); ra) {
    // A zero Retry-After would make a busy loop; a huge one is capped by the deadline below.
    wait = std::max<std::chrono::steady_clock::duration>(*ra, std::chrono::milliseconds(100));
  }
  auto now = std::chrono::steady_clock::now();
  if (now + wait > deadline) return false;
  std::this_thread::sleep_for(wait);
  return true;
}

Status AcmeClient::use_account(const PrivateKey& key, const std::string& email) {
  key_ = &key;
  nlohmann::json payload = {{"termsOfServiceAgreed", true}};
  if (!email.empty()) payload["contact"] = nlohmann::json::array({"mailto:" + email});
  GC_ASSIGN_OR_RETURN(Response r,
                      post(directory_.new_account, payload, "ACME new account", /*use_jwk=*/true));
  if (r.location.empty()) {
    return make_error(Errc::kCorrupt, "ACME new account: the answer has no Location (account URL)");
  }
  GC_ASSIGN_OR_RETURN(std::string status, parse_account_status(r.body));
  if (status != "valid") {
    return make_error(Errc::kInvalidArgument,
                      "ACME account " + r.location + " is " + status +
                          ": remove the account key to register a new account");
  }
  kid_ = r.location;
  return ok();
}

Result<AcmeOrder> AcmeClient::new_order(const std::vector<std::string>& domains,
                                        std::string& order_url) {
  nlohmann::json ids = nlohmann::json::array();
  for (const auto& d : domains) ids.push_back({{"type", "dns"}, {"value", d}});
  std::string what = "ACME new order for " + (domains.empty() ? "" : domains.front());
  GC_ASSIGN_OR_RETURN(Response r,
                      post(directory_.new_order, nlohmann::json{{"identifiers", ids}}, what));
  if (r.location.empty()) return make_error(Errc::kCorrupt, what + ": the answer has no Location");
  order_url = r.location;
  auto order = parse_order(r.body);
  if (!order) return order.error().with_context(what);
  return order;
}

Result<AcmeAuthorization> AcmeClient::get_authorization(const std::string& url) {
  GC_ASSIGN_OR_RETURN(Response r, post(url, std::nullopt, "ACME authorization " + url));
  auto a = parse_authorization(r.body);
  if (!a) return a.error().with_context("ACME authorization " + url);
  return a;
}

Status AcmeClient::respond_to_challenge(const std::string& url) {
  GC_ASSIGN_OR_RETURN(Response r, post(url, nlohmann::json::object(), "ACME challenge " + url));
  (void)r;
  return ok();
}

Result<AcmeAuthorization> AcmeClient::wait_authorization(const std::string& url) {
  auto deadline = std::chrono::steady_clock::now() + options_.poll_timeout;
  for (;;) {
    GC_ASSIGN_OR_RETURN(Response r, post(url, std::nullopt, "ACME authorization " + url));
    auto a = parse_authorization(r.body);
    if (!a) return a.error().with_context("ACME authorization " + url);
    if (a->status == "valid") return a;
    if (a->status != "pending") {
      std::string why = "authorization is " + a->status;
      for (const auto& c : a->challenges) {
        if (c.error) why += ": " + c.type + " challenge failed: " + c.error->describe();
      }
      return make_error(Errc::kInvalidArgument, "domain " + a->identifier + ": " + why);
    }
    if (!pause(r, deadline)) {
      return make_error(Errc::kTimeout, "domain " + a->identifier +
                                            ": authorization still pending after " +
                                            std::to_string(options_.poll_timeout.count()) + " s");
    }
  }
}

Result<AcmeOrder> AcmeClient::wait_order(const std::string& order_url, bool until_valid) {
  auto deadline = std::chrono::steady_clock::now() + options_.poll_timeout;
  for (;;) {
    GC_ASSIGN_OR_RETURN(Response r, post(order_url, std::nullopt, "ACME order " + order_url));
    auto o = parse_order(r.body);
    if (!o) return o.error().with_context("ACME order " + order_url);
    if (o->status == "invalid") {
      return make_error(Errc::kInvalidArgument,
                        "ACME order " + order_url + " is invalid" +
                            (o->error ? ": " + o->error->describe() : std::string()));
    }
    bool waiting = o->status == "pending" ||
                   (until_valid && (o->status == "ready" || o->status == "processing"));
    if (!waiting) return o;
    if (!pause(r, deadline)) {
      return make_error(Errc::kTimeout, "ACME order " + order_url + " still " + o->status +
                                            " after " +
                                            std::to_string(options_.poll_timeout.count()) + " s");
    }
  }
}

Result<AcmeOrder> AcmeClient::finalize(const AcmeOrder& order, const std::string& csr_der) {
  GC_ASSIGN_OR_RETURN(Response r, post(order.finalize, nlohmann::json{{"csr", base64url(csr_der)}},
                                       "ACME finalize " + order.finalize));
  auto o = parse_order(r.body);
  if (!o) return o.error().with_context("ACME finalize " + order.finalize);
  return o;
}

Result<std::string> AcmeClient::download_certificate(const std::string& url) {
  GC_ASSIGN_OR_RETURN(Response r, post(url, std::nullopt, "ACME certificate " + url, false,
                                       "application/pem-certificate-chain"));
  if (r.body.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return make_error(Errc::kCorrupt, "ACME certificate " + url + ": not a PEM chain");
  }
  // Link rel="alternate" names other chains (RFC 8555 section 7.4.2); the default one is what
  // the CA recommends, so it is the one installed.
  return r.body;
}

Result<std::optional<RenewalWindow>> AcmeClient::renewal_info(const std::string& cert_id) {
  if (directory_.renewal_info.empty() || cert_id.empty()) return std::optional<RenewalWindow>();
  std::string url = directory_.renewal_info;
  if (url.back() != '/') url += '/';
  url += cert_id;
  GC_ASSIGN_OR_RETURN(Response r, http("GET", url, nullptr));
  if (r.status != 200) {
    return make_error(Errc::kUnavailable,
                      "ACME renewal info " + url + ": HTTP status " + std::to_string(r.status));
  }
  auto w = parse_renewal_info(r.body);
  if (!w) return w.error().with_context("ACME renewal info " + url);
  return std::optional<RenewalWindow>(*w);
}

}  // namespace gc::tls
