// SPDX-License-Identifier: MIT
#include "tls/cert_manager.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include <memory>

#include "base/atomic_file.h"
#include "base/unique_fd.h"
#include "crypto/sha256.h"
#include "tls/acme_client.h"
#include "tls/http01.h"

namespace gc::tls {
namespace {

std::optional<CertInfo> current_cert(const CertPaths& paths, std::string* error) {
  auto info = load_cert_info(paths.fullchain());
  if (!info) {
    if (error != nullptr) *error = info.error().message;
    return std::nullopt;
  }
  // A certificate without its key is as good as none: Nginx could not use it.
  if (::access(paths.privkey().c_str(), R_OK) != 0) {
    if (error != nullptr) *error = paths.privkey() + " is missing";
    return std::nullopt;
  }
  return *info;
}

// One attempt at a time per certificate: the daemon's renewal and a manual `cert issue` must not
// interleave their installs. The lock goes with the returned descriptor.
Result<UniqueFd> lock_cert_dir(const std::string& dir) {
  GC_TRY(make_directories(dir, 0700));
  GC_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(dir + "/.lock", O_RDWR | O_CREAT, 0600));
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return make_error(Errc::kConflict, "another `groundctl cert` run is working on " + dir);
    }
    return sys_error("flock", dir + "/.lock", errno);
  }
  return fd;
}

struct Issued {
  std::string chain;
  std::string key_pem;
};

// Answers every pending authorization of `order` with HTTP-01 through `responder`.
Status authorize(AcmeClient& client, const AcmeOrder& order, const std::string& thumbprint,
                 Http01Responder& responder) {
  for (const std::string& url : order.authorizations) {
    GC_ASSIGN_OR_RETURN(AcmeAuthorization authz, client.get_authorization(url));
    if (authz.status == "valid") continue;  // Reused from an earlier order.
    if (authz.status != "pending") {
      return make_error(Errc::kInvalidArgument,
                        "domain " + authz.identifier + ": authorization is " + authz.status);
    }
    const AcmeChallenge* ch = authz.find("http-01");
    if (ch == nullptr) {
      return make_error(Errc::kInvalidArgument, "domain " + authz.identifier +
                                                    ": the ACME server offers no http-01 "
                                                    "challenge (wildcards need dns-01)");
    }
    if (!is_valid_token(ch->token)) {
      return make_error(Errc::kCorrupt,
                        "domain " + authz.identifier + ": the ACME server sent a malformed token");
    }
    GC_TRY(responder.add(ch->token, key_authorization(ch->token, thumbprint)));
    GC_TRY(client.respond_to_challenge(ch->url));
    GC_ASSIGN_OR_RETURN(AcmeAuthorization done, client.wait_authorization(url));
    (void)done;
  }
  return ok();
}

Result<Issued> obtain(AcmeClient& client, const CertOptions& o) {
  std::string key_path = account_key_path(o.accounts_dir, o.directory);
  auto account_key = PrivateKey::load(key_path);
  if (!account_key) {
    if (account_key.error().code != Errc::kNotFound) return account_key.error();
    // ES256 account keys: small and what every ACME CA accepts.
    account_key = PrivateKey::generate(KeyType::kEcP256);
    if (!account_key) return account_key.error();
    GC_TRY(account_key->save(key_path));
  }
  GC_TRY(client.use_account(*account_key, o.email));
  std::string dir = key_path.substr(0, key_path.rfind('/'));
  nlohmann::json account = {{"directory", o.directory}, {"kid", client.account_url()}};
  GC_TRY(write_file_atomic(dir + "/account.json", account.dump(2) + "\n", 0600));

  std::string order_url;
  GC_ASSIGN_OR_RETURN(AcmeOrder order, client.new_order(o.domains, order_url));
  GC_ASSIGN_OR_RETURN(nlohmann::json jwk, account_key->public_jwk());
  std::string thumbprint = jwk_thumbprint(jwk);
  {
    // The responder lives only while authorizations are answered: the standalone port is
    // closed and the webroot files removed as soon as this block ends.
    auto responder = o.challenge == "standalone" ? start_standalone_responder(o.standalone_listen)
                                                 : make_webroot_responder(o.webroot);
    if (!responder) return responder.error();
    GC_TRY(authorize(client, order, thumbprint, **responder));
  }
  GC_ASSIGN_OR_RETURN(order, client.wait_order(order_url, /*until_valid=*/false));
  if (order.status != "ready" && order.status != "valid") {
    return make_error(Errc::kInvalidArgument, "ACME order is " + order.status + ", not ready");
  }
  GC_ASSIGN_OR_RETURN(PrivateKey cert_key, PrivateKey::generate(o.key_type));
  if (order.status == "ready") {
    GC_ASSIGN_OR_RETURN(std::string csr, make_csr_der(cert_key, o.domains));
    GC_ASSIGN_OR_RETURN(order, client.finalize(order, csr));
    GC_ASSIGN_OR_RETURN(order, client.wait_order(order_url, /*until_valid=*/true));
  }
  if (order.status != "valid" || order.certificate.empty()) {
    return make_error(Errc::kInvalidArgument,
                      "ACME order ended " + order.status + " without a certificate");
  }
  GC_ASSIGN_OR_RETURN(std::string chain, client.download_certificate(order.certificate));
  GC_ASSIGN_OR_RETURN(std::string key_pem, cert_key.to_pem());
  return Issued{std::move(chain), std::move(key_pem)};
}

// Installs the new pair, validates, reloads; restores the previous pair on failure.
Status install_and_reload(const CertOptions& o, const CertPaths& paths, const Issued& issued) {
  GC_ASSIGN_OR_RETURN(CertInfo info, read_cert_info(issued.chain));
  if (decide_renewal(info.installed(), o.domains, std::nullopt, false, info.not_before).action ==
      RenewalAction::kIssue) {
    return make_error(Errc::kCorrupt, "the ACME server returned a certificate for other names");
  }
  if (auto st = install_cert_files(paths, issued.chain, issued.key_pem); !st) {
    (void)restore_previous(paths);
    return st.error().with_context("installing the new certificate");
  }
  if (auto st = run_hook(o.validate_command, "validate command"); !st) {
    Status back = restore_previous(paths);
    std::string msg = st.error().message + "; the previous certificate was put back";
    if (!back) msg += " (restoring failed: " + back.error().message + ")";
    return make_error(st.error().code, msg + " and nothing was reloaded");
  }
  if (auto st = run_hook(o.reload_command, "reload command"); !st) {
    Status back = restore_previous(paths);
    return make_error(
        st.error().code,
        st.error().message + "; the previous certificate files were put back" +
            (back ? std::string() : " (restoring failed: " + back.error().message + ")"));
  }
  return ok();
}

}  // namespace

std::string account_key_path(const std::string& accounts_dir, const std::string& directory) {
  std::string hex = crypto::to_hex(crypto::sha256(directory));
  return accounts_dir + "/" + hex.substr(0, 16) + "/account.key";
}

std::string_view outcome_name(CertOutcome::Kind kind) {
  switch (kind) {
    case CertOutcome::Kind::kRenewed:
      return "renewed";
    case CertOutcome::Kind::kIssued:
      return "issued";
    case CertOutcome::Kind::kNotDue:
      return "not_due";
    case CertOutcome::Kind::kFailed:
      return "failed";
  }
  return "failed";
}

CertOutcome run_certificate(const CertOptions& o, CertMode mode, bool force, SysSeconds now) {
  CertPaths paths{o.cert_dir};
  CertOutcome out;
  auto lock = lock_cert_dir(o.cert_dir);
  if (!lock) {
    out.error = "certificate " + o.domains.front() + ": " + lock.error().message;
    return out;  // kFailed, and renewal.json belongs to the run that holds the lock.
  }
  std::optional<CertInfo> cert = current_cert(paths, nullptr);
  AcmeClientOptions co;
  co.directory_url = o.directory;
  co.ca_bundle = o.ca_bundle;
  co.poll_timeout = o.poll_timeout;
  co.poll_interval = o.poll_interval;
  auto client = AcmeClient::connect(co);

  // ARI moves the renewal point into the CA's window; without the server (down, or no
  // renewalInfo) the local rule decides.
  std::optional<RenewalWindow> ari;
  if (client && cert && !cert->ari_cert_id.empty()) {
    if (auto w = client->renewal_info(cert->ari_cert_id); w) ari = *w;
  }
  std::optional<InstalledCert> installed;
  if (cert) installed = cert->installed();
  RenewalDecision d = decide_renewal(installed, o.domains, ari, force, now);
  out.reason = d.reason;
  out.renew_at = d.renew_at;
  if (cert) out.not_after = cert->not_after;
  bool act = d.action == RenewalAction::kIssue ||
             (d.action == RenewalAction::kRenew && (mode == CertMode::kRenew || force));
  if (!act) {
    out.kind = CertOutcome::Kind::kNotDue;
    if (mode == CertMode::kIssue) out.reason = "a valid certificate for these domains exists";
  } else {
    Status st = client ? Status() : Status(client.error());
    if (st) {
      auto issued = obtain(*client, o);
      st = issued ? install_and_reload(o, paths, *issued) : Status(issued.error());
    }
    if (!st) {
      out.kind = CertOutcome::Kind::kFailed;
      out.error = "certificate " + o.domains.front() + ": " + st.error().message;
      out.rate_limited = client && client->rate_limited();
    } else {
      out.bad_nonce_retries = client->bad_nonce_retries();
      out.kind = d.action == RenewalAction::kIssue ? CertOutcome::Kind::kIssued
                                                   : CertOutcome::Kind::kRenewed;
      if (auto fresh = current_cert(paths, nullptr); fresh) {
        out.not_after = fresh->not_after;
        out.renew_at = renewal_time(fresh->installed(), std::nullopt);
      }
    }
  }
  RenewalRecord rec{now,          std::string(outcome_name(out.kind)),
                    out.error,    out.rate_limited,
                    out.renew_at, out.not_after};
  if (auto st = save_renewal_record(paths, rec); !st && out.kind != CertOutcome::Kind::kFailed) {
    out.kind = CertOutcome::Kind::kFailed;
    out.error = "recording the attempt: " + st.error().message;
  }
  return out;
}

CertStatus certificate_status(const CertOptions& o, SysSeconds now) {
  CertPaths paths{o.cert_dir};
  CertStatus s;
  s.cert = current_cert(paths, &s.cert_error);
  if (auto rec = load_renewal_record(paths); rec) s.last = *rec;
  std::optional<InstalledCert> installed;
  if (s.cert) installed = s.cert->installed();
  s.decision = decide_renewal(installed, o.domains, std::nullopt, false, now);
  return s;
}

}  // namespace gc::tls
