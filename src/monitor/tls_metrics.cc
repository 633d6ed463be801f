// SPDX-License-Identifier: MIT
#include "monitor/tls_metrics.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <utility>

#include "base/unique_fd.h"
#include "base/utc_time.h"
#include "tls/chain_check.h"
#include "tls/connection.h"
#include "tls/probe.h"
#include "tls/ssl_api.h"
#include "tls/x509_fields.h"

namespace gc::monitor {
namespace {

using tls::SslApi;
using tls::X509Ptr;

// A fullchain.pem is a few KiB; the cap keeps a mistyped path (a log file, /dev/zero behind a
// symlink) from being read into memory whole.
constexpr off_t kMaxPemBytes = 1 << 20;

// Fills everything but source, error and name_matches from certs (leaf first, at least one).
void describe(const SslApi& a, const std::vector<X509Ptr>& certs, const TlsOptions& o,
              CertFacts& f) {
  X509* leaf = certs[0].get();
  f.ok = true;
  f.subject_cn = tls::x509_name_entry(a, a.x509_get_subject_name(leaf), NID_commonName);
  f.issuer_cn = tls::x509_name_entry(a, a.x509_get_issuer_name(leaf), NID_commonName);
  f.dns_names = tls::x509_dns_names(a, leaf);
  f.not_before = tls::x509_unix_seconds(a, a.x509_get0_not_before(leaf));
  f.not_after = tls::x509_unix_seconds(a, a.x509_get0_not_after(leaf));
  f.chain_not_after = f.not_after;
  for (const X509Ptr& c : certs) {
    f.chain_not_after =
        std::min(f.chain_not_after, tls::x509_unix_seconds(a, a.x509_get0_not_after(c.get())));
  }
  tls::ChainVerdict verdict = tls::verify_server_chain(a, certs, o.ca_file);
  f.chain_valid = verdict.trusted;
  f.verify_error = verdict.error;
}

Result<std::string> read_pem_file(const std::string& path) {
  // O_NONBLOCK: a FIFO at the path must not hang the collector in open(2).
  GC_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(path, O_RDONLY | O_NONBLOCK));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys_error("stat", path, errno);
  if (!S_ISREG(st.st_mode))
    return make_error(Errc::kInvalidArgument, path + ": not a regular file");
  if (st.st_size > kMaxPemBytes) {
    return make_error(Errc::kInvalidArgument, path + ": too large for a certificate file");
  }
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read", path, errno);
    if (n == 0) break;  // Truncated while we read it.
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  return text;
}

Result<std::vector<X509Ptr>> parse_pem(const SslApi& a, const std::string& text,
                                       const std::string& path) {
  std::vector<X509Ptr> certs;
  tls::BioPtr bio(a.bio_new_mem_buf(text.data(), static_cast<int>(text.size())), a.bio_free);
  if (!bio) return make_error(Errc::kInternal, path + ": out of memory");
  // PEM_read_bio_X509 skips blocks of other types (a private key in a combined file) and fails
  // at the end of the input, leaving "no start line" on the error queue.
  while (X509* x = a.pem_read_bio_x509(bio.get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(x, a.x509_free);
  }
  a.err_clear_error();
  if (certs.empty()) return make_error(Errc::kCorrupt, path + ": no PEM certificate found");
  return certs;
}

}  // namespace

CertFacts inspect_cert_file(const std::string& path, const std::string& expected_name,
                            const TlsOptions& o) {
  CertFacts f;
  f.source = "file:" + path;
  auto api = tls::ssl_api();
  if (!api) {
    f.error = api.error().message;
    return f;
  }
  const SslApi& a = **api;
  auto text = read_pem_file(path);
  if (!text) {
    f.error = text.error().message;
    return f;
  }
  auto certs = parse_pem(a, *text, path);
  if (!certs) {
    f.error = certs.error().message;
    return f;
  }
  describe(a, *certs, o, f);
  f.name_matches = expected_name.empty() || tls::name_matches(a, (*certs)[0].get(), expected_name);
  return f;
}

CertFacts inspect_endpoint(const std::string& host_port, const std::string& sni,
                           const TlsOptions& o) {
  CertFacts f;
  f.source = "endpoint:" + host_port;
  auto fail = [&](const Error& e) {
    f.error = host_port + ": " + e.message;
    return f;
  };
  auto api = tls::ssl_api();
  if (!api) return fail(api.error());
  const SslApi& a = **api;
  auto hp = tls::parse_host_port(host_port);
  if (!hp) {
    f.error = "endpoint " + hp.error().message;
    return f;
  }
  const std::string& name = sni.empty() ? hp->first : sni;
  tls::SigpipeGuard no_sigpipe;
  auto deadline = tls::Clock::now() + o.timeout;
  auto timeout = [&](Error e) {
    // The connection's errors say "timed out"; the budget is ours to name.
    if (e.code == Errc::kTimeout) e.message += " after " + std::to_string(o.timeout.count()) + "ms";
    return fail(e);
  };
  auto connected = tls::connect_first(hp->first, hp->second, deadline);
  if (!connected) return timeout(connected.error());
  tls::HandshakeSpec spec;
  spec.sni = tls::is_ip_literal(name) ? "" : name;
  auto c = tls::handshake_on(a, std::move(connected->fd), spec, deadline);
  if (!c) return timeout(c.error().error);
  std::vector<X509Ptr> certs = tls::peer_chain(a, c->ssl.get());
  // A polite close_notify; non-blocking, so a server that does not read cannot stall us.
  a.ssl_shutdown(c->ssl.get());
  a.err_clear_error();
  if (certs.empty())
    return fail(Error{Errc::kUnavailable, "tls handshake: no certificate presented"});
  describe(a, certs, o, f);
  f.name_matches = tls::name_matches(a, certs[0].get(), name);
  return f;
}

CertFacts inspect_target(const TlsTarget& target, const TlsOptions& o) {
  if (!target.file.empty()) return inspect_cert_file(target.file, target.expected_name, o);
  if (!target.endpoint.empty()) return inspect_endpoint(target.endpoint, target.sni, o);
  CertFacts f;
  f.error = "tls target names neither a file nor an endpoint";
  return f;
}

void add_tls_metrics(const std::vector<CertFacts>& facts, int64_t now_s, MetricSet& out) {
  for (const CertFacts& f : facts) {
    Labels by_source = {{"source", f.source}};
    out.gauge("groundctl_tls_probe_success",
              "Whether the certificate file was read or the TLS handshake succeeded.", by_source,
              f.ok ? 1 : 0);
    bool valid =
        f.ok && f.chain_valid && f.name_matches && f.not_before <= now_s && now_s < f.not_after;
    out.gauge("groundctl_tls_cert_valid",
              "Whether the certificate is in its validity period, chains to a trusted root and "
              "matches the expected name.",
              by_source, valid ? 1 : 0);
    if (!f.ok) continue;
    out.gauge("groundctl_tls_cert_expiry_timestamp_seconds",
              "The notAfter time of the leaf certificate, in unix seconds.",
              {{"source", f.source}, {"subject", f.subject_cn}, {"issuer", f.issuer_cn}},
              static_cast<double>(f.not_after));
    out.gauge("groundctl_tls_cert_not_before_timestamp_seconds",
              "The notBefore time of the leaf certificate, in unix seconds.", by_source,
              static_cast<double>(f.not_before));
    out.gauge("groundctl_tls_chain_expiry_timestamp_seconds",
              "The earliest notAfter time over the certificate chain, in unix seconds.", by_source,
              static_cast<double>(f.chain_not_after));
  }
}

nlohmann::json certificates_json(const MetricSet& set, int64_t now_s) {
  std::map<std::string, nlohmann::json> by_source;
  auto each = [&set](const char* name, auto&& f) {
    auto it = set.families().find(name);
    if (it == set.families().end()) return;
    for (const Sample& s : it->second.samples) {
      auto src = s.labels.find("source");
      if (src != s.labels.end()) f(src->second, s);
    }
  };
  each("groundctl_tls_probe_success", [&](const std::string& src, const Sample& s) {
    by_source[src] = {{"source", src}, {"ok", s.value == 1}, {"valid", false}};
  });
  each("groundctl_tls_cert_valid", [&](const std::string& src, const Sample& s) {
    if (by_source.count(src)) by_source[src]["valid"] = s.value == 1;
  });
  each("groundctl_tls_cert_expiry_timestamp_seconds", [&](const std::string& src, const Sample& s) {
    if (!by_source.count(src)) return;
    auto label = [&s](const char* k) {
      auto it = s.labels.find(k);
      return it == s.labels.end() ? std::string() : it->second;
    };
    auto not_after = static_cast<int64_t>(s.value);
    nlohmann::json& c = by_source[src];
    c["subject"] = label("subject");
    c["issuer"] = label("issuer");
    c["expires_at"] =
        format_utc(std::chrono::system_clock::time_point(std::chrono::seconds(not_after)));
    c["expires_in_s"] = not_after - now_s;
  });
  nlohmann::json out = nlohmann::json::array();
  for (auto& [src, c] : by_source) out.push_back(std::move(c));
  return out;
}

}  // namespace gc::monitor
