// SPDX-License-Identifier: MIT
// cli/cert_commands.cc: `groundctl cert status|issue|renew`.
#include "cli/cert_commands.h"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "base/utc_time.h"
#include "cli/exit_codes.h"

namespace gc::cli {
namespace {

using json = nlohmann::json;

tls::SysSeconds now_seconds() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

std::int64_t unix_or_zero(tls::SysSeconds t) { return t.time_since_epoch().count(); }

// RFC 3339 text, or "" for the epoch (unknown).
std::string utc_or_empty(tls::SysSeconds t) {
  return t.time_since_epoch().count() == 0 ? std::string() : format_utc(t);
}

json record_json(const tls::RenewalRecord& r) {
  return {{"time", utc_or_empty(r.last_attempt)},
          {"result", r.result},
          {"error", r.error},
          {"rate_limited", r.rate_limited}};
}

int cert_status(const Globals& g, const tls::CertOptions& o) {
  tls::SysSeconds now = now_seconds();
  tls::CertStatus s = tls::certificate_status(o, now);
  bool last_failed = s.last && s.last->result == "failed";
  bool valid = s.cert && s.cert->not_after > now && s.cert->not_before <= now;
  const std::string& name = o.domains.front();
  if (g.json) {
    json j = {{"name", name}, {"cert_dir", o.cert_dir}, {"ok", valid && !last_failed}};
    if (s.cert) {
      const tls::CertInfo& c = *s.cert;
      j["subject"] = c.subject;
      j["sans"] = c.dns_names;
      j["issuer"] = c.issuer;
      j["not_before"] = format_utc(c.not_before);
      j["not_after"] = format_utc(c.not_after);
      j["days_left"] = std::chrono::floor<std::chrono::days>(c.not_after - now).count();
      j["renew_at"] = utc_or_empty(s.decision.renew_at);
      j["due"] = s.decision.action != tls::RenewalAction::kNone;
      j["reason"] = s.decision.reason;
    } else {
      j["error"] = s.cert_error;
    }
    j["last_attempt"] = s.last ? record_json(*s.last) : json(nullptr);
    print_json(j);
  } else {
    std::printf("certificate %s\n  directory   %s\n", name.c_str(), o.cert_dir.c_str());
    if (s.cert) {
      const tls::CertInfo& c = *s.cert;
      std::string sans;
      for (const auto& d : c.dns_names) sans += (sans.empty() ? "" : ", ") + d;
      long days = std::chrono::floor<std::chrono::days>(c.not_after - now).count();
      std::printf("  subject     %s\n  names       %s\n  issuer      %s\n", c.subject.c_str(),
                  sans.c_str(), c.issuer.c_str());
      std::printf("  valid       %s .. %s (%ld days left)\n", format_utc(c.not_before).c_str(),
                  format_utc(c.not_after).c_str(), days);
      std::printf("  renew at    %s (%s)\n", utc_or_empty(s.decision.renew_at).c_str(),
                  s.decision.reason.c_str());
    } else {
      std::printf("  certificate none: %s\n  fix         groundctl cert issue\n",
                  s.cert_error.c_str());
    }
    if (s.last) {
      std::printf("  last run    %s %s%s%s\n", utc_or_empty(s.last->last_attempt).c_str(),
                  s.last->result.c_str(), s.last->error.empty() ? "" : ": ", s.last->error.c_str());
      if (s.last->rate_limited) {
        std::printf(
            "  note        the ACME server rate-limited the last attempt; see "
            "docs/runbooks/certificates.md\n");
      }
    }
  }
  return valid && !last_failed ? kExitOk : kExitProblem;
}

int cert_run(const Globals& g, const tls::CertOptions& o, tls::CertMode mode, bool force) {
  tls::CertOutcome out = tls::run_certificate(o, mode, force, now_seconds());
  bool failed = out.kind == tls::CertOutcome::Kind::kFailed;
  const std::string& name = o.domains.front();
  if (g.json) {
    print_json({{"name", name},
                {"outcome", std::string(tls::outcome_name(out.kind))},
                {"error", out.error},
                {"rate_limited", out.rate_limited},
                {"not_after", unix_or_zero(out.not_after)},
                {"renew_at", unix_or_zero(out.renew_at)}});
  } else if (failed) {
    std::fprintf(stderr, "groundctl: %s\n", out.error.c_str());
    if (out.rate_limited) {
      std::fprintf(stderr,
                   "groundctl: rate limited: the current certificate stays in place; wait for "
                   "the limit to reset before retrying (docs/runbooks/certificates.md)\n");
    }
  } else if (out.kind == tls::CertOutcome::Kind::kNotDue) {
    std::printf("certificate %s: nothing to do (%s); valid until %s, renewal due %s%s\n",
                name.c_str(), out.reason.c_str(), utc_or_empty(out.not_after).c_str(),
                utc_or_empty(out.renew_at).c_str(),
                mode == tls::CertMode::kIssue ? "; --force issues a new one anyway" : "");
  } else {
    std::printf("certificate %s: %s, valid until %s, renewal due %s\n", name.c_str(),
                std::string(tls::outcome_name(out.kind)).c_str(),
                utc_or_empty(out.not_after).c_str(), utc_or_empty(out.renew_at).c_str());
  }
  return failed ? kExitProblem : kExitOk;
}

}  // namespace

Result<tls::CertOptions> cert_options(const config::Config& config) {
  if (!config.tls || config.tls->domains.empty()) {
    return make_error(Errc::kInvalidConfig,
                      config.path +
                          " has no [tls] section: add one, e.g.\n  [tls]\n  domains = "
                          "[\"example.com\"]\n  email = \"ops@example.com\"\n"
                          "(see docs/runbooks/certificates.md)");
  }
  const config::TlsConfig& t = *config.tls;
  tls::CertOptions o;
  o.domains = t.domains;
  o.email = t.email;
  o.directory = t.directory;
  GC_ASSIGN_OR_RETURN(o.key_type, tls::parse_key_type(t.key_type));
  o.challenge = t.challenge;
  o.webroot = t.webroot;
  if (o.webroot.empty()) {
    o.webroot = config.nginx ? config.nginx->acme_root : "/var/www/groundctl-acme";
  }
  o.standalone_listen = t.standalone_listen;
  o.ca_bundle = t.ca_bundle;
  o.cert_dir =
      t.cert_dir.empty() ? config.server.state_dir + "/tls/" + t.domains.front() : t.cert_dir;
  o.accounts_dir = config.server.state_dir + "/tls/accounts";
  o.validate_command = t.validate_command;
  o.reload_command = t.reload_command;
  return o;
}

CLI::App* add_cert_commands(CLI::App& app, CertArgs& args) {
  auto* cert = app.add_subcommand("cert", "the [tls] certificate from an ACME CA (Let's Encrypt)");
  cert->require_subcommand(1);
  args.status = cert->add_subcommand(
      "status", "names, issuer, expiry, renewal time and the last attempt (exit 1 when not ok)");
  args.issue = cert->add_subcommand("issue", "obtain a certificate now if none is valid");
  args.issue->add_flag("--force", args.force, "issue even when a valid certificate exists");
  args.renew = cert->add_subcommand("renew", "renew the certificate if it is due");
  args.renew->add_flag("--force", args.force, "renew even when not due");
  return cert;
}

int cmd_cert(const Globals& g, const CertArgs& args) {
  auto cfg = load_config(g);
  if (!cfg) return report_failure(g, cfg.error(), kExitUsage);
  auto o = cert_options(*cfg);
  if (!o) return report_failure(g, o.error(), kExitUsage);
  if (args.status != nullptr && args.status->parsed()) return cert_status(g, *o);
  if (args.issue != nullptr && args.issue->parsed()) {
    return cert_run(g, *o, tls::CertMode::kIssue, args.force);
  }
  return cert_run(g, *o, tls::CertMode::kRenew, args.force);
}

}  // namespace gc::cli
