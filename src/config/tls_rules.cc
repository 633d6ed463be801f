// SPDX-License-Identifier: MIT
// config/tls_rules.cc: the rules of [tls], the ACME client's section. Domains are checked as DNS
// names here because they become directory names and CSR entries; the ACME server checks the rest.
#include <set>
#include <string>
#include <vector>

#include "config/detail/validate.h"
#include "config/listen_address.h"

namespace gc::config::detail {
namespace {

constexpr std::string_view kTlsKeys[] = {"domains",           "email",          "directory",
                                         "key_type",          "challenge",      "webroot",
                                         "standalone_listen", "ca_bundle",      "cert_dir",
                                         "validate_command",  "reload_command", "check_interval"};

void read_domains(TableReader& r, TlsConfig& tls) {
  std::vector<const Node*> items;
  if (!r.has("domains")) {
    missing(r, "domains", "domains = [\"api.example.org\"]");
    return;
  }
  if (!string_items(r, "domains", "[\"api.example.org\"]", items)) return;
  if (items.empty()) {
    r.error(r.get("domains")->pos, "domains", "must name at least one domain");
    return;
  }
  std::set<std::string> seen;
  for (const Node* d : items) {
    // Wildcards need DNS-01, which groundctl does not do: HTTP-01 cannot prove them (RFC 8555
    // section 8.3 is per host name).
    if (d->string.rfind("*.", 0) == 0) {
      r.error(d->pos, "domains",
              in_quotes(d->string) +
                  ": wildcard names need the DNS-01 challenge; list each host name instead");
    } else if (!is_dns_name(d->string) || d->string.find('.') == std::string::npos) {
      r.error(
          d->pos, "domains",
          in_quotes(d->string) + " is not a fully qualified DNS name (like \"api.example.org\")");
    } else if (!seen.insert(d->string).second) {
      r.error(d->pos, "domains", in_quotes(d->string) + " is listed twice");
    } else {
      tls.domains.push_back(d->string);
    }
  }
}

// A non-empty argv whose first word is a program name or an absolute path.
void read_command(TableReader& r, std::string_view key, std::vector<std::string>& out) {
  std::vector<const Node*> items;
  if (!string_items(r, key, "[\"nginx\", \"-t\"]", items)) return;
  std::vector<std::string> argv;
  for (const Node* i : items) argv.push_back(i->string);
  if (!argv.empty() && argv.front().empty()) {
    r.error(r.get(key)->pos, key, "the program (first item) must not be empty");
    return;
  }
  out = std::move(argv);
}

void read_directory(TableReader& r, TlsConfig& tls) {
  std::string url;
  if (!r.read_string("directory", url)) return;
  bool https = url.rfind("https://", 0) == 0;
  bool http = url.rfind("http://", 0) == 0;
  if ((!https && !http) || url.size() <= (https ? 8u : 7u) ||
      url.find_first_of(" \t\r\n\"") != std::string::npos) {
    r.error(r.get("directory")->pos, "directory",
            in_quotes(url) + " is not an ACME directory URL (like " +
                "\"https://acme-v02.api.letsencrypt.org/directory\")");
    return;
  }
  tls.directory = url;
}

}  // namespace

void read_tls_section(Checker& checker, const Node& root, Config& config) {
  const Node* table = section(checker, root, "tls");
  if (!table) return;
  TableReader r(checker, *table, "", "tls.", "in [tls]");
  r.reject_unknown(kTlsKeys);
  TlsConfig tls;
  read_domains(r, tls);
  if (r.read_string("email", tls.email)) {
    std::size_t at = tls.email.find('@');
    if (at == 0 || at == std::string::npos || at + 1 >= tls.email.size() ||
        tls.email.find_first_of(" \t\r\n,;<>\"") != std::string::npos) {
      r.error(r.get("email")->pos, "email",
              in_quotes(tls.email) + " is not an email address (like \"ops@example.org\")");
    }
  }
  read_directory(r, tls);
  std::string key_type;
  if (r.read_string("key_type", key_type)) {
    if (key_type != "ec-p256" && key_type != "rsa-2048" && key_type != "rsa-4096") {
      r.error(r.get("key_type")->pos, "key_type",
              "expected \"ec-p256\", \"rsa-2048\" or \"rsa-4096\", got " + in_quotes(key_type));
    } else {
      tls.key_type = key_type;
    }
  }
  std::string challenge;
  if (r.read_string("challenge", challenge)) {
    if (challenge != "webroot" && challenge != "standalone") {
      r.error(r.get("challenge")->pos, "challenge",
              "expected \"webroot\" or \"standalone\", got " + in_quotes(challenge));
    } else {
      tls.challenge = challenge;
    }
  }
  r.read_path("webroot", tls.webroot);
  if (r.read_string("standalone_listen", tls.standalone_listen)) {
    auto parsed = parse_listen_address(tls.standalone_listen);
    if (!parsed) {
      r.error(r.get("standalone_listen")->pos, "standalone_listen", parsed.error().message);
    } else if (parsed->port == 0) {
      r.error(r.get("standalone_listen")->pos, "standalone_listen",
              "needs a port: the ACME server connects to port 80 (or its configured HTTP port)");
    }
  }
  r.read_path("ca_bundle", tls.ca_bundle);
  r.read_path("cert_dir", tls.cert_dir);
  read_command(r, "validate_command", tls.validate_command);
  read_command(r, "reload_command", tls.reload_command);
  r.read_duration("check_interval", tls.check_interval, true);

  // Defaults that depend on other sections.
  if (tls.webroot.empty()) {
    tls.webroot = config.nginx ? config.nginx->acme_root : "/var/www/groundctl-acme";
  }
  if (tls.cert_dir.empty() && !tls.domains.empty()) {
    tls.cert_dir = config.server.state_dir + "/tls/" + tls.domains.front();
  }
  if (config.nginx) {
    if (!r.has("validate_command")) tls.validate_command = {"nginx", "-t", "-q"};
    if (!r.has("reload_command")) tls.reload_command = {"nginx", "-s", "reload"};
    const std::string& site = config.nginx->domain;
    bool listed = false;
    for (const auto& d : tls.domains) listed = listed || d == site;
    if (!tls.domains.empty() && !site.empty() && !listed) {
      r.error(r.get("domains")->pos, "domains",
              "does not include [nginx] domain " + in_quotes(site) +
                  ": Nginx would serve a certificate for another name; add it");
    }
  }
  config.tls = std::move(tls);
}

}  // namespace gc::config::detail

namespace gc::config {

std::string nginx_certificate_path(const Config& config) {
  const NginxConfig& n = *config.nginx;
  if (!n.certificate.empty()) return n.certificate;
  if (config.tls && !config.tls->cert_dir.empty()) return config.tls->cert_dir + "/fullchain.pem";
  return config.server.state_dir + "/tls/" + n.domain + "/fullchain.pem";
}

std::string nginx_certificate_key_path(const Config& config) {
  const NginxConfig& n = *config.nginx;
  if (!n.certificate_key.empty()) return n.certificate_key;
  if (config.tls && !config.tls->cert_dir.empty()) return config.tls->cert_dir + "/privkey.pem";
  return config.server.state_dir + "/tls/" + n.domain + "/privkey.pem";
}

}  // namespace gc::config
