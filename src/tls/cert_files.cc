// SPDX-License-Identifier: MIT
#include "tls/cert_files.h"

#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <nlohmann/json.hpp>

#include "base/atomic_file.h"
#include "base/child_process.h"
#include "base/unique_fd.h"
#include "tls/ssl_api.h"
#include "tls/x509_fields.h"

namespace gc::tls {
namespace {

using nlohmann::json;

std::string hex(const unsigned char* p, int n) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (int i = 0; i < n; ++i) {
    out += kDigits[p[i] >> 4];
    out += kDigits[p[i] & 15];
  }
  return out;
}

// Copies `from` to `to` atomically with `mode`. Missing `from` is fine (nothing to keep).
Status copy_if_exists(const std::string& from, const std::string& to, int mode) {
  auto data = read_file(from);
  if (!data) return data.error().code == Errc::kNotFound ? ok() : Status(data.error());
  return write_file_atomic(to, *data, mode);
}

std::int64_t unix_of(SysSeconds t) { return t.time_since_epoch().count(); }
SysSeconds from_unix(std::int64_t s) { return SysSeconds(std::chrono::seconds(s)); }

}  // namespace

Result<CertInfo> read_cert_info(std::string_view pem) {
  GC_ASSIGN_OR_RETURN(const SslApi* a, ssl_api());
  BioPtr bio(a->bio_new_mem_buf(pem.data(), static_cast<int>(pem.size())), a->bio_free);
  X509Ptr cert(bio ? a->pem_read_bio_x509(bio.get(), nullptr, nullptr, nullptr) : nullptr,
               a->x509_free);
  if (!cert) {
    a->err_clear_error();
    return make_error(Errc::kCorrupt, "no PEM certificate");
  }
  CertInfo info;
  info.subject = x509_name_entry(*a, a->x509_get_subject_name(cert.get()), NID_commonName);
  X509_NAME* issuer = a->x509_get_issuer_name(cert.get());
  info.issuer = x509_name_entry(*a, issuer, NID_commonName);
  if (info.issuer.empty()) info.issuer = x509_name_entry(*a, issuer, NID_organizationName);
  int64_t nb = x509_unix_seconds(*a, a->x509_get0_not_before(cert.get()));
  int64_t na = x509_unix_seconds(*a, a->x509_get0_not_after(cert.get()));
  if (nb == 0 || na == 0)
    return make_error(Errc::kCorrupt, "certificate has an unreadable validity");
  info.not_before = from_unix(nb);
  info.not_after = from_unix(na);
  info.dns_names = x509_dns_names(*a, cert.get());
  const ASN1_INTEGER* serial = a->acme_x509_get_serial_number(cert.get());
  std::vector<std::uint8_t> serial_der;
  if (serial != nullptr) {
    const unsigned char* d = a->asn1_string_get0_data(serial);
    int n = a->asn1_string_length(serial);
    info.serial_hex = hex(d, n);
    // DER content octets: a positive INTEGER whose top bit is set gets a leading zero byte.
    if (n > 0 && (d[0] & 0x80) != 0) serial_der.push_back(0);
    serial_der.insert(serial_der.end(), d, d + n);
  }
  const ASN1_OCTET_STRING* aki = a->acme_x509_get0_authority_key_id(cert.get());
  if (aki != nullptr && !serial_der.empty()) {
    const unsigned char* d = a->asn1_string_get0_data(aki);
    int n = a->asn1_string_length(aki);
    info.ari_cert_id =
        ari_cert_id(std::span<const std::uint8_t>(d, static_cast<std::size_t>(n)), serial_der);
  }
  return info;
}

Result<CertInfo> load_cert_info(const std::string& path) {
  GC_ASSIGN_OR_RETURN(std::string pem, read_file(path));
  auto info = read_cert_info(pem);
  if (!info) return info.error().with_context(path);
  return info;
}

Status install_cert_files(const CertPaths& paths, std::string_view fullchain_pem,
                          std::string_view key_pem) {
  GC_TRY(make_directories(paths.dir + "/previous", 0700));
  // Keep the pair being replaced: the caller puts it back when Nginx refuses the new one.
  if (::access(paths.fullchain().c_str(), F_OK) == 0) {
    GC_TRY(copy_if_exists(paths.privkey(), paths.previous_privkey(), 0600));
    GC_TRY(copy_if_exists(paths.fullchain(), paths.previous_fullchain(), 0644));
  } else {
    (void)::unlink(paths.previous_privkey().c_str());
    (void)::unlink(paths.previous_fullchain().c_str());
  }
  GC_TRY(write_file_atomic(paths.privkey(), key_pem, 0600));
  return write_file_atomic(paths.fullchain(), fullchain_pem, 0644);
}

Status restore_previous(const CertPaths& paths) {
  if (::access(paths.previous_fullchain().c_str(), F_OK) != 0) {
    for (const std::string& p : {paths.fullchain(), paths.privkey()}) {
      if (::unlink(p.c_str()) != 0 && errno != ENOENT) return sys_error("unlink", p, errno);
    }
    return ok();
  }
  GC_TRY(copy_if_exists(paths.previous_privkey(), paths.privkey(), 0600));
  return copy_if_exists(paths.previous_fullchain(), paths.fullchain(), 0644);
}

Result<std::optional<RenewalRecord>> load_renewal_record(const CertPaths& paths) {
  auto text = read_file(paths.renewal_record());
  if (!text) {
    if (text.error().code == Errc::kNotFound) return std::optional<RenewalRecord>();
    return text.error();
  }
  json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return make_error(Errc::kCorrupt, paths.renewal_record() + ": not a JSON object");
  }
  RenewalRecord r;
  auto num = [&](const char* k) {
    auto it = j.find(k);
    return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
  };
  auto text_of = [&](const char* k) {
    auto it = j.find(k);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  r.last_attempt = from_unix(num("last_attempt"));
  r.result = text_of("result");
  r.error = text_of("error");
  auto rl = j.find("rate_limited");
  r.rate_limited = rl != j.end() && rl->is_boolean() && rl->get<bool>();
  r.next_due = from_unix(num("next_due"));
  r.not_after = from_unix(num("not_after"));
  return std::optional<RenewalRecord>(r);
}

Status save_renewal_record(const CertPaths& paths, const RenewalRecord& r) {
  GC_TRY(make_directories(paths.dir, 0700));
  json j = {{"last_attempt", unix_of(r.last_attempt)},
            {"result", r.result},
            {"error", r.error},
            {"rate_limited", r.rate_limited},
            {"next_due", unix_of(r.next_due)},
            {"not_after", unix_of(r.not_after)}};
  return write_file_atomic(paths.renewal_record(), j.dump(2) + "\n", 0644);
}

Status run_hook(const std::vector<std::string>& argv, std::string_view what) {
  if (argv.empty()) return ok();
  GC_ASSIGN_OR_RETURN(Pipe pipe, Pipe::create());
  SpawnOptions o;
  o.argv = argv;
  o.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"};
  o.stdout_fd = pipe.write.get();
  o.stderr_fd = pipe.write.get();
  auto child = ChildProcess::spawn(o);
  if (!child) return child.error().with_context(std::string(what) + " " + argv.front());
  pipe.write = UniqueFd();
  std::string output;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(pipe.read.get(), buf, sizeof buf);
    if (n > 0) {
      output.append(buf, static_cast<std::size_t>(n));
      // Only the tail is reported; keep memory bounded for a chatty command.
      if (output.size() > 65536) output.erase(0, output.size() - 65536);
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  GC_ASSIGN_OR_RETURN(ExitStatus status, child->wait());
  if (status.success()) return ok();
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  if (output.size() > 600) output = "..." + output.substr(output.size() - 600);
  std::string msg = std::string(what) + " `" + argv.front() + "` failed: " + status.to_string();
  if (!output.empty()) msg += ": " + output;
  return make_error(Errc::kUnavailable, msg);
}

}  // namespace gc::tls
