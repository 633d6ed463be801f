// SPDX-License-Identifier: MIT
// cli/tls_commands.cc: `groundctl tls grade`.
#include "cli/tls_commands.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>

#include "base/utc_time.h"
#include "cli/exit_codes.h"
#include "cli/table.h"

namespace gc::cli {
namespace {

using nlohmann::json;
using tls::GradeReport;
using tls::ProbeResult;

std::string iso_time(int64_t unix_seconds) {
  return format_utc(std::chrono::system_clock::time_point(std::chrono::seconds(unix_seconds)));
}

int64_t days_left(int64_t not_after, std::chrono::system_clock::time_point now) {
  int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  return (not_after - t) / 86400;
}

std::string hex_id(uint16_t id) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04x", id);
  return buf;
}

std::string kx_text(const tls::CipherSuite& s) {
  if (s.kx_group.empty()) return s.kx;
  return s.kx + " " + s.kx_group + (s.kx_bits > 0 ? " " + std::to_string(s.kx_bits) : "");
}

}  // namespace

CLI::App* add_tls_command(CLI::App& app, TlsGradeArgs& args) {
  auto* tls = app.add_subcommand("tls", "TLS checks of a server");
  tls->require_subcommand(1);
  auto* grade = tls->add_subcommand(
      "grade", "rate a TLS server as SSL Labs does (exit 0 for A+/A, 1 for worse)");
  grade->add_option("target", args.target, "HOST:PORT or [IPv6]:PORT")->required();
  grade->add_option("--sni", args.sni, "server name to send and match (default: the host)");
  grade->add_option("--ca", args.ca_file, "PEM file of trusted CAs (default: the system store)");
  grade->add_option("--timeout-ms", args.timeout_ms, "per connection (default 5000)")
      ->check(CLI::Range(100, 600000));
  return grade;
}

json tls_grade_json(const ProbeResult& p, const GradeReport& r,
                    std::chrono::system_clock::time_point now) {
  json protocols = {{"SSLv2", "not tested"}, {"SSLv3", "not tested"}};
  json ciphers = json::object();
  for (const tls::ProtocolProbe& pp : p.protocols) {
    protocols[tls::version_name(pp.version)] = pp.offered;
    if (!pp.offered) continue;
    json list = json::array();
    for (const tls::CipherSuite& s : pp.suites) {
      list.push_back({{"name", s.name},
                      {"iana_name", s.iana_name},
                      {"id", hex_id(s.id)},
                      {"bits", s.bits},
                      {"kx", s.kx},
                      {"auth", s.auth},
                      {"forward_secrecy", s.forward_secrecy},
                      {"aead", s.aead},
                      {"kx_group", s.kx_group},
                      {"kx_bits", s.kx_bits}});
    }
    ciphers[tls::version_name(pp.version)] = list;
  }
  const tls::CertificateProbe& c = p.certificate;
  json cert = {{"present", c.present}};
  if (c.present) {
    cert.update({{"subject_cn", c.subject_cn},
                 {"issuer_cn", c.issuer_cn},
                 {"dns_names", c.dns_names},
                 {"key_type", c.key_type},
                 {"key_bits", c.key_bits},
                 {"key_curve", c.key_curve},
                 {"signature_algorithm", c.signature_algorithm},
                 {"not_before", iso_time(c.not_before)},
                 {"not_after", iso_time(c.not_after)},
                 {"days_left", days_left(c.not_after, now)},
                 {"chain_length", c.chain_length},
                 {"chain_complete", c.chain_complete},
                 {"trusted", c.trusted},
                 {"verify_error", c.verify_error},
                 {"self_signed", c.self_signed},
                 {"checked_name", c.checked_name},
                 {"name_matches", c.name_matches}});
  }
  json hsts = {{"present", p.hsts.present},
               {"max_age", p.hsts.max_age},
               {"include_subdomains", p.hsts.include_subdomains},
               {"preload", p.hsts.preload},
               {"http_status", p.hsts.http_status}};
  if (!p.hsts.error.empty()) hsts["error"] = p.hsts.error;
  json reasons = json::array();
  for (const tls::GradeReason& x : r.reasons) {
    reasons.push_back({{"id", x.id}, {"cap", tls::grade_name(x.cap)}, {"message", x.message}});
  }
  json out = {{"host", p.host},
              {"port", p.port},
              {"sni", p.sni},
              {"address", p.address},
              {"grade", tls::grade_name(r.grade)},
              {"grade_ignoring_trust", tls::grade_name(r.grade_ignoring_trust)},
              {"score", r.score},
              {"scores",
               {{"protocol", r.protocol_score},
                {"key_exchange", r.key_exchange_score},
                {"key_exchange_bits", r.key_exchange_bits},
                {"cipher", r.cipher_score}}},
              {"protocols", protocols},
              {"ciphers", ciphers},
              {"certificate", cert},
              {"hsts", hsts},
              {"reasons", reasons},
              {"handshakes", p.handshakes}};
  if (p.secure_renegotiation) out["secure_renegotiation"] = *p.secure_renegotiation;
  return out;
}

std::string tls_grade_text(const ProbeResult& p, const GradeReport& r,
                           std::chrono::system_clock::time_point now) {
  std::string out = "grade " + std::string(tls::grade_name(r.grade));
  if (r.grade != r.grade_ignoring_trust) {
    out += " (" + std::string(tls::grade_name(r.grade_ignoring_trust)) +
           " if trust issues are ignored)";
  }
  out += "  score " + std::to_string(r.score) + " (protocols " + std::to_string(r.protocol_score) +
         ", key exchange " + std::to_string(r.key_exchange_score) + ", ciphers " +
         std::to_string(r.cipher_score) + ")\n";
  out += "server " + p.host + ":" + std::to_string(p.port) + " at " + p.address +
         (p.sni.empty() ? ", no SNI" : ", SNI " + p.sni) + "\n\nprotocols:";
  for (const tls::ProtocolProbe& pp : p.protocols) {
    out += std::string("  ") + tls::version_name(pp.version) + (pp.offered ? " yes" : " no");
  }
  out += "  (SSLv2, SSLv3 not tested)\n";
  for (const tls::ProtocolProbe& pp : p.protocols) {
    if (!pp.offered) continue;
    out += "\n" + std::string(tls::version_name(pp.version)) + " cipher suites:\n";
    std::vector<std::vector<std::string>> rows = {
        {"  suite", "bits", "key exchange", "FS", "AEAD", "IANA name"}};
    for (const tls::CipherSuite& s : pp.suites) {
      rows.push_back({"  " + s.name, std::to_string(s.bits), kx_text(s),
                      s.forward_secrecy ? "yes" : "no", s.aead ? "yes" : "no", s.iana_name});
    }
    out += render_table(rows);
  }
  const tls::CertificateProbe& c = p.certificate;
  out += "\ncertificate: ";
  if (!c.present) {
    out += "none\n";
  } else {
    out += c.key_type + " " + std::to_string(c.key_bits) +
           (c.key_curve.empty() ? "" : " (" + c.key_curve + ")") + ", " + c.signature_algorithm +
           ", CN " + c.subject_cn + ", issuer " + c.issuer_cn + "\n";
    out += "  valid " + iso_time(c.not_before) + " to " + iso_time(c.not_after) + " (" +
           std::to_string(days_left(c.not_after, now)) + " days left), chain of " +
           std::to_string(c.chain_length) + (c.chain_complete ? " (complete)" : " (incomplete)") +
           "\n";
    out += std::string("  ") + (c.trusted ? "trusted" : "NOT trusted: " + c.verify_error) + "; " +
           (c.name_matches ? "matches " : "does NOT match ") + c.checked_name + "\n";
  }
  out += "hsts: ";
  if (p.hsts.present) {
    out += "max-age=" + std::to_string(p.hsts.max_age) +
           (p.hsts.include_subdomains ? "; includeSubDomains" : "") +
           (p.hsts.preload ? "; preload" : "") + "\n";
  } else {
    out += (p.hsts.error.empty() ? std::string("none") : p.hsts.error) + "\n";
  }
  out += "\nreasons:\n";
  for (const tls::GradeReason& x : r.reasons) {
    out += "  [" + std::string(tls::grade_name(x.cap)) + "] " + x.id + ": " + x.message + "\n";
  }
  return out;
}

int cmd_tls_grade(const Globals& g, const TlsGradeArgs& args) {
  auto target = tls::parse_host_port(args.target);
  if (!target) return report_failure(g, target.error(), kExitUsage);
  if (!args.ca_file.empty() && ::access(args.ca_file.c_str(), R_OK) != 0) {
    return report_failure(g, sys_error("tls grade: read --ca file", args.ca_file, errno),
                          kExitUsage);
  }
  tls::ProbeOptions o;
  o.host = target->first;
  o.port = target->second;
  o.sni = args.sni;
  o.ca_file = args.ca_file;
  o.timeout = std::chrono::milliseconds(args.timeout_ms);
  auto probe = tls::probe_server(o);
  if (!probe) {
    Error e = probe.error();
    e.message = "tls grade " + args.target + ": " + e.message;
    // A name that does not resolve is the operator's to fix (2); a server that is down or
    // speaks no TLS is the finding (1).
    return report_failure(g, e, e.code == Errc::kNotFound ? kExitUsage : kExitProblem);
  }
  auto now = std::chrono::system_clock::now();
  GradeReport report = tls::grade_server(*probe, now);
  if (g.json) {
    print_json(tls_grade_json(*probe, report, now));
  } else {
    std::fputs(tls_grade_text(*probe, report, now).c_str(), stdout);
  }
  return report.is_good() ? kExitOk : kExitProblem;
}

}  // namespace gc::cli
