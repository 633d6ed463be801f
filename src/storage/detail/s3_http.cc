// SPDX-License-Identifier: MIT
#include "storage/detail/s3_http.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include <curl/curl.h>

#include "storage/libcurl.h"
#include "storage/s3_protocol.h"

namespace gc::storage::detail {
namespace {

// Error bodies are a few hundred bytes; a misbehaving server must not make us buffer more.
constexpr std::size_t kMaxBufferedBody = 1 << 20;

Errc errc_for_curl(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      return Errc::kUnavailable;
    case CURLE_OPERATION_TIMEDOUT:
      return Errc::kTimeout;
    default:
      return Errc::kIo;
  }
}

// Failures of the connection that a new attempt may not meet. TLS verification, bad URLs and
// the like are not: they would fail the same way every time.
bool is_retryable_curl(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

// What curl's callbacks share during one attempt.
struct Transfer {
  CURL* curl = nullptr;
  const HttpRequest* request = nullptr;
  HttpResponse response;
  std::uint64_t upload_pos = 0;
  std::optional<Error> read_error;
  // Bytes handed to the sink so far, across attempts; and the object offset at which this
  // attempt's 206 body starts (what its Range asked for).
  std::uint64_t* delivered = nullptr;
  std::uint64_t range_start = 0;
  std::uint64_t received = 0;
  std::optional<Error> sink_error;
};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  // A new status line starts a new header block (after "100 Continue"): keep only the last.
  if (line.substr(0, 5) == "HTTP/") {
    t->response.headers.clear();
    return size * n;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  std::string name(trim(line.substr(0, colon)));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  t->response.headers[name] = std::string(trim(line.substr(colon + 1)));
  return size * n;
}

std::size_t on_write(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::size_t len = size * n;
  long status = 0;
  curl_api().easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (t->request->sink != nullptr && status / 100 == 2) {
    // Object offset of this chunk. A server that ignores Range answers 200 from offset 0: the
    // bytes the sink already has are skipped, so it still sees each byte once.
    std::uint64_t start = (status == 206 ? t->range_start : 0) + t->received;
    std::uint64_t end = start + len;
    t->received += len;
    std::uint64_t& delivered = *t->delivered;
    if (end <= delivered) return len;
    if (start > delivered) {
      t->sink_error = make_error(Errc::kIo, "the server skipped bytes when resuming the download");
      return 0;
    }
    std::size_t skip = static_cast<std::size_t>(delivered - start);
    auto st = (*t->request->sink)(
        std::span(reinterpret_cast<const std::uint8_t*>(data) + skip, len - skip));
    if (!st) {
      t->sink_error = st.error();
      return 0;  // Makes curl stop with CURLE_WRITE_ERROR.
    }
    delivered = end;
    return len;
  }
  std::string& body = t->response.body;
  if (body.size() < kMaxBufferedBody)
    body.append(data, std::min(len, kMaxBufferedBody - body.size()));
  return len;
}

std::size_t on_read(char* buf, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const FileBody& fb = *t->request->file_body;
  std::uint64_t remaining = fb.length - t->upload_pos;
  std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(size * n, remaining));
  if (want == 0) return 0;
  ssize_t got = 0;
  do {
    got = ::pread(fb.fd, buf, want, static_cast<off_t>(fb.offset + t->upload_pos));
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    t->read_error = sys_error("read", fb.path, errno);
    return CURL_READFUNC_ABORT;
  }
  if (got == 0) {
    t->read_error = make_error(Errc::kIo, fb.path + " became shorter while being uploaded");
    return CURL_READFUNC_ABORT;
  }
  if (fb.hasher != nullptr) {
    fb.hasher->feed(fb.offset + t->upload_pos, std::span(reinterpret_cast<const std::uint8_t*>(buf),
                                                         static_cast<std::size_t>(got)));
  }
  t->upload_pos += static_cast<std::uint64_t>(got);
  return static_cast<std::size_t>(got);
}

// curl rewinds the body when it must send it again on the same attempt (a redirect, an auth
// round trip, a dropped reused connection).
int on_seek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 ||
      static_cast<std::uint64_t>(offset) > t->request->file_body->length) {
    return CURL_SEEKFUNC_FAIL;
  }
  t->upload_pos = static_cast<std::uint64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

// The result of one attempt: an answer (any status), or a failure with its retry verdict.
struct Attempt {
  std::optional<HttpResponse> response;
  Error error;
  bool retryable = false;
  std::string etag;  // Of a failed 2xx download, for If-Match when resuming it.
};

Attempt answered(HttpResponse response) {
  Attempt a;
  a.response = std::move(response);
  return a;
}

Attempt failed(Error error, bool retryable) {
  Attempt a;
  a.error = std::move(error);
  a.retryable = retryable;
  return a;
}

}  // namespace

void OnceHasher::feed(std::uint64_t offset, std::span<const std::uint8_t> data) {
  std::uint64_t end = offset + data.size();
  if (offset > next_ || end <= next_) return;
  hash_.update(data.subspan(static_cast<std::size_t>(next_ - offset)));
  next_ = end;
}

struct S3Http::State {
  HttpOptions options;
  CurlPtr curl;
  std::string sigv4;
  std::uint64_t requests = 0;
  std::minstd_rand rng{std::random_device{}()};
  char errbuf[CURL_ERROR_SIZE] = {};

  Attempt attempt(const HttpRequest& req, std::uint64_t& delivered, const std::string& etag);
  Result<SlistPtr> request_headers(const HttpRequest& req, std::uint64_t delivered,
                                   const std::string& etag);
  void set_options(const HttpRequest& req, Transfer& t, curl_slist* headers);
  Attempt judge(const HttpRequest& req, HttpResponse response);
  Duration backoff(int attempt);
};

S3Http::S3Http(std::unique_ptr<State> state) : state_(std::move(state)) {}
S3Http::S3Http(S3Http&&) noexcept = default;
S3Http& S3Http::operator=(S3Http&&) noexcept = default;
S3Http::~S3Http() = default;

Result<S3Http> S3Http::create(HttpOptions options) {
  GC_TRY(load_libcurl());
  auto state = std::make_unique<State>();
  state->curl.reset(curl_api().easy_init());
  if (!state->curl) return make_error(Errc::kInternal, "curl_easy_init failed");
  state->sigv4 = "aws:amz:" + options.region + ":s3";
  state->options = std::move(options);
  return S3Http(std::move(state));
}

std::uint64_t S3Http::requests_sent() const { return state_->requests; }

Duration S3Http::State::backoff(int attempt) {
  auto delay = options.initial_backoff;
  for (int i = 1; i < attempt && delay < options.max_backoff; ++i) delay *= 2;
  delay = std::min(delay, options.max_backoff);
  // "Equal jitter": half fixed, half random, so clients that failed together spread out.
  auto half = delay.count() / 2;
  std::uniform_int_distribution<long long> jitter(0, std::max<long long>(half, 0));
  return Duration(delay.count() - half + jitter(rng));
}

Attempt S3Http::State::attempt(const HttpRequest& req, std::uint64_t& delivered,
                               const std::string& etag) {
  auto headers = request_headers(req, delivered, etag);
  if (!headers) return failed(headers.error(), false);
  Transfer t;
  t.curl = curl.get();
  t.request = &req;
  t.delivered = &delivered;
  t.range_start = delivered;
  set_options(req, t, headers->get());
  CURLcode rc = curl_api().easy_perform(curl.get());
  ++requests;
  if (t.sink_error) return failed(*t.sink_error, false);
  if (t.read_error) return failed(*t.read_error, false);
  if (rc != CURLE_OK) {
    std::string detail = errbuf[0] != '\0' ? std::string(errbuf) : curl_api().easy_strerror(rc);
    Attempt a = failed(make_error(errc_for_curl(rc), detail), is_retryable_curl(rc));
    if (auto it = t.response.headers.find("etag"); it != t.response.headers.end()) {
      a.etag = it->second;
    }
    return a;
  }
  curl_api().easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &t.response.status);
  curl_off_t filetime = -1;
  if (curl_api().easy_getinfo(curl.get(), CURLINFO_FILETIME_T, &filetime) == CURLE_OK) {
    t.response.last_modified_unix = filetime;
  }
  return judge(req, std::move(t.response));
}

Result<SlistPtr> S3Http::State::request_headers(const HttpRequest& req, std::uint64_t delivered,
                                                const std::string& etag) {
  std::vector<std::string> lines = req.headers;
  std::string payload = req.payload_sha256;
  if (payload.empty()) {
    GC_ASSIGN_OR_RETURN(payload, sha256_hex(req.body));
  }
  // curl 7.88 signs this header's value as the payload hash when it is present.
  lines.push_back("x-amz-content-sha256: " + payload);
  if (req.sink != nullptr && delivered > 0) {
    lines.push_back("Range: bytes=" + std::to_string(delivered) + "-");
    if (!etag.empty()) lines.push_back("If-Match: " + etag);
  }
  SlistPtr headers;
  for (const auto& line : lines) {
    curl_slist* appended = curl_api().slist_append(headers.get(), line.c_str());
    if (appended == nullptr) return make_error(Errc::kInternal, "out of memory");
    // `appended` is the list's head: the same pointer, or a new one for the first element.
    static_cast<void>(headers.release());
    headers.reset(appended);
  }
  return headers;
}

void S3Http::State::set_options(const HttpRequest& req, Transfer& t, curl_slist* headers) {
  CURL* c = curl.get();
  // Reset clears every option but keeps the connection cache, so requests reuse connections.
  curl_api().easy_reset(c);
  errbuf[0] = '\0';
  curl_api().easy_setopt(c, CURLOPT_URL, req.url.c_str());
  curl_api().easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // Worker threads: no SIGALRM for DNS timeouts.
  curl_api().easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_api().easy_setopt(c, CURLOPT_USERAGENT, "groundctl");
  curl_api().easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_api().easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                         static_cast<long>(options.connect_timeout.count()));
  curl_api().easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT,
                         static_cast<long>(options.low_speed_limit_bytes_per_second));
  long low_speed_s = static_cast<long>((options.low_speed_time.count() + 999) / 1000);
  curl_api().easy_setopt(c, CURLOPT_LOW_SPEED_TIME, std::max(low_speed_s, 1L));
  curl_api().easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_api().easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl_api().easy_setopt(c, CURLOPT_USERNAME, options.access_key_id.c_str());
  curl_api().easy_setopt(c, CURLOPT_PASSWORD, options.secret_access_key.c_str());
  curl_api().easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_api().easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_api().easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_api().easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
  curl_api().easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_api().easy_setopt(c, CURLOPT_FILETIME, 1L);
  std::string_view method = req.method;
  if (method == "HEAD") {
    curl_api().easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (method == "PUT") {
    curl_api().easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_off_t length = req.file_body ? static_cast<curl_off_t>(req.file_body->length) : 0;
    curl_api().easy_setopt(c, CURLOPT_INFILESIZE_LARGE, length);
    if (req.file_body) {
      curl_api().easy_setopt(c, CURLOPT_READFUNCTION, on_read);
      curl_api().easy_setopt(c, CURLOPT_READDATA, &t);
      curl_api().easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
      curl_api().easy_setopt(c, CURLOPT_SEEKDATA, &t);
    }
  } else if (method == "POST") {
    curl_api().easy_setopt(c, CURLOPT_POST, 1L);
    curl_api().easy_setopt(c, CURLOPT_POSTFIELDS, req.body.data());
    curl_api().easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                           static_cast<curl_off_t>(req.body.size()));
  } else if (method == "DELETE") {
    curl_api().easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
  }
}

// Decides what an answer means: a success to return, or an error worth repeating or not.
Attempt S3Http::State::judge(const HttpRequest& req, HttpResponse response) {
  long status = response.status;
  std::optional<S3ErrorInfo> info;
  if (status / 100 == 2) {
    if (!req.error_may_hide_in_200) return answered(std::move(response));
    info = parse_s3_error(response.body);
    if (!info) return answered(std::move(response));
    // S3 sends 200 before it knows whether assembling the parts works; the error it reports
    // in the body is treated as the 500 it stands for.
    status = 500;
  } else {
    if (status == 404 && req.not_found_is_answer) return answered(std::move(response));
    info = parse_s3_error(response.body);
  }
  std::string code = info ? info->code : "";
  std::string detail = "HTTP " + std::to_string(response.status);
  if (info) {
    detail += " " + info->code + ": " + info->message;
  } else if (status == 404) {
    detail += " (not found)";
  } else if (!response.body.empty() && response.body.size() <= 200) {
    // Short non-S3 bodies come from proxies and load balancers; they say what went wrong.
    detail += ": " + std::string(trim(response.body));
  }
  return failed(make_error(errc_for_s3_answer(status, code), detail),
                is_retryable_s3_answer(status, code));
}

Result<HttpResponse> S3Http::send(const HttpRequest& request) {
  State& s = *state_;
  std::uint64_t delivered = 0;
  std::string etag;
  int max = std::max(s.options.max_attempts, 1);
  for (int n = 1;; ++n) {
    Attempt a = s.attempt(request, delivered, etag);
    if (a.response) return std::move(*a.response);
    if (etag.empty()) etag = a.etag;
    if (!a.retryable || n >= max) {
      if (n > 1) a.error.message += " (after " + std::to_string(n) + " attempts)";
      return a.error;
    }
    std::this_thread::sleep_for(s.backoff(n));
  }
}

}  // namespace gc::storage::detail
