// SPDX-License-Identifier: MIT
// provision/cloud_init.cc: the #cloud-config renderer and the little YAML emitter it needs.
#include "provision/cloud_init.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>

#include "base/base64.h"

namespace gc::provision {
namespace {

Error invalid(std::string message) {
  return make_error(Errc::kInvalidArgument, std::move(message));
}

// Decodes the UTF-8 sequence at s[i]: its code point and length, or nullopt for an invalid,
// overlong or surrogate sequence.
std::optional<std::pair<char32_t, size_t>> decode_utf8(std::string_view s, size_t i) {
  auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) return std::pair{char32_t{b}, size_t{1}};
  size_t len = b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 && b <= 0xDF ? 2 : 0;
  if (len == 0 || (b >= 0xF5) || i + len > s.size()) return std::nullopt;
  char32_t cp = b & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
  for (size_t k = 1; k < len; ++k) {
    auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (c & 0x3F);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF)) {
    return std::nullopt;
  }
  return std::pair{cp, len};
}

// Characters PyYAML (cloud-init's parser) reads as something else than themselves inside a block
// scalar: line breaks other than LF, and what YAML 1.1 does not allow in a stream at all.
bool raw_ok_in_block(char32_t cp) {
  if (cp == '\t' || cp == '\n') return true;
  if (cp < 0x20 || cp == 0x7F) return false;
  if (cp >= 0x80 && cp <= 0x9F) return false;  // C1 controls, NEL (a line break in YAML 1.1).
  if (cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF || cp == 0xFFFE || cp == 0xFFFF) return false;
  return true;
}

std::string hex_escape(char32_t cp) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = cp <= 0xFF ? "\\x" : "\\u";
  int digits = cp <= 0xFF ? 2 : 4;
  for (int d = digits - 1; d >= 0; --d) out += kHex[(cp >> (4 * d)) & 0xF];
  return out;
}

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// Visible ASCII only: what a URL or a public key line may hold once written into YAML and passed
// to a shell as an argument.
bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > ' ' && c < 0x7F; });
}

Status check_url(const CloudInitOptions& o) {
  const std::string& url = o.binary_url;
  if (url.empty())
    return invalid("--binary-url is required: where the new host downloads groundctl");
  if (!printable_ascii(url))
    return invalid("--binary-url: spaces or control characters in the URL");
  bool https = url.rfind("https://", 0) == 0 && url.size() > 8;
  bool http = url.rfind("http://", 0) == 0 && url.size() > 7;
  if (http && !o.insecure_url) {
    return invalid(
        "--binary-url: http:// is refused (use https://, or --insecure-url to accept it; "
        "the SHA-256 still guards the download)");
  }
  if (!https && !http) return invalid("--binary-url: must be an https:// URL");
  if (o.binary_sha256.size() != 64 || !is_hex(o.binary_sha256)) {
    return invalid("--binary-sha256: must be the 64 hex digits of `sha256sum groundctl`");
  }
  return ok();
}

bool known_key_type(std::string_view t) {
  static constexpr std::string_view kTypes[] = {"ssh-ed25519",
                                                "ssh-rsa",
                                                "ecdsa-sha2-nistp256",
                                                "ecdsa-sha2-nistp384",
                                                "ecdsa-sha2-nistp521",
                                                "sk-ssh-ed25519@openssh.com",
                                                "sk-ecdsa-sha2-nistp256@openssh.com"};
  return std::find(std::begin(kTypes), std::end(kTypes), t) != std::end(kTypes);
}

// The public keys of the --ssh-key files, one per line, trimmed, without duplicates.
Result<std::vector<std::string>> public_keys(const std::vector<SshKeyFile>& files) {
  std::vector<std::string> keys;
  for (const auto& f : files) {
    if (f.content.find("PRIVATE KEY") != std::string::npos) {
      return invalid("--ssh-key " + f.name + ": this is a private key; give the public key (.pub)");
    }
    int found = 0;
    size_t pos = 0, line_no = 0;
    while (pos <= f.content.size()) {
      size_t nl = f.content.find('\n', pos);
      if (nl == std::string::npos) nl = f.content.size();
      std::string line = f.content.substr(pos, nl - pos);
      pos = nl + 1;
      ++line_no;
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
        line.pop_back();
      }
      size_t start = line.find_first_not_of(" \t");
      if (start == std::string::npos || line[start] == '#') continue;
      line.erase(0, start);
      std::string where = "--ssh-key " + f.name + ":" + std::to_string(line_no);
      // The comment after the key may hold spaces; everything must be printable.
      for (char c : line) {
        if ((c < ' ' && c != '\t') || c == 0x7F) return invalid(where + ": control character");
      }
      size_t sp = line.find_first_of(" \t");
      std::string type = line.substr(0, sp);
      if (!known_key_type(type)) {
        return invalid(where + ": not an OpenSSH public key (\"" + type.substr(0, 40) +
                       "\"; expected ssh-ed25519, ecdsa-sha2-*, ssh-rsa or sk-*; options before "
                       "the key type are not supported)");
      }
      size_t b = sp == std::string::npos ? sp : line.find_first_not_of(" \t", sp);
      std::string blob =
          b == std::string::npos ? "" : line.substr(b, line.find_first_of(" \t", b) - b);
      bool b64 = !blob.empty() && std::all_of(blob.begin(), blob.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '+' || c == '/' || c == '=';
      });
      if (!b64) return invalid(where + ": the key's base64 part is missing or malformed");
      ++found;
      if (std::find(keys.begin(), keys.end(), line) == keys.end()) keys.push_back(line);
    }
    if (found == 0) {
      return invalid("--ssh-key " + f.name + ": no public key in the file");
    }
  }
  return keys;
}

bool valid_package(std::string_view p) {
  if (p.size() < 2 || !((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= '0' && p[0] <= '9'))) {
    return false;
  }
  return std::all_of(p.begin(), p.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
  });
}

// Every file the config names that must exist on the host and that the document cannot carry.
std::vector<std::string> referenced_files(const config::Config& c) {
  std::vector<std::pair<std::string, std::string>> refs;
  auto add = [&](const std::string& path, std::string key) {
    if (!path.empty()) refs.emplace_back(path, std::move(key));
  };
  add(c.http.token_file, "[http].token_file");
  for (const auto& s : c.services) add(s.env_file, "[[service]] " + s.name + " env_file");
  if (c.postgres) {
    add(c.postgres->password_file, "[postgres].password_file");
    if (c.postgres->manage)
      add(c.postgres->manage->app_password_file, "[postgres].app_password_file");
  }
  if (c.backup && c.backup->s3) add(c.backup->s3->credentials_file, "[backup.s3].credentials_file");
  for (const auto& n : c.notify) {
    add(n.password_file, "[[notify]] " + n.name + " password_file");
    add(n.ca_file, "[[notify]] " + n.name + " ca_file");
  }
  add(c.monitor.tls_ca_file, "[monitor.tls].ca_file");
  if (c.nginx) {
    add(c.nginx->certificate, "[nginx].certificate");
    add(c.nginx->certificate_key, "[nginx].certificate_key");
  }
  std::sort(refs.begin(), refs.end());
  std::vector<std::string> out;
  for (size_t i = 0; i < refs.size(); ++i) {
    if (i > 0 && refs[i].first == refs[i - 1].first) {
      out.back() += ", " + refs[i].second;
      continue;
    }
    out.push_back(refs[i].first + " (" + refs[i].second);
  }
  for (auto& s : out) s += ")";
  return out;
}

// The first-boot script: download, verify, install, then check, apply and start. One script
// under `set -eu` so that a failed step stops the ones after it (cloud-init runs each runcmd
// entry regardless of the previous one's status). The URL, checksum and config path arrive as
// $1..$3, never spliced into shell text.
constexpr std::string_view kInstallScript =
    "set -eu\n"
    "say() { echo \"groundctl cloud-init: $*\"; }\n"
    "tmp=$(mktemp)\n"
    "trap 'rm -f \"$tmp\"' EXIT\n"
    "say \"downloading $1\"\n"
    "curl -fsSL @PROTO@--retry 5 --retry-connrefused -o \"$tmp\" \"$1\"\n"
    "if ! echo \"$2  $tmp\" | sha256sum --check --status; then\n"
    "  say \"SHA-256 mismatch for $1: expected $2, got $(sha256sum < \"$tmp\" | cut -d' ' -f1);"
    " not installed\" >&2\n"
    "  exit 1\n"
    "fi\n"
    "install -m 0755 -o root -g root \"$tmp\" /usr/local/bin/groundctl\n"
    "say \"installed /usr/local/bin/groundctl\"\n"
    "/usr/local/bin/groundctl check -c \"$3\"\n"
    "/usr/local/bin/groundctl apply -c \"$3\"\n"
    "/usr/local/bin/groundctl startup --install -c \"$3\"\n"
    "systemctl enable --now groundctl.service\n"
    "say done\n";

std::string install_script(bool https_only) {
  std::string s(kInstallScript);
  std::string proto = https_only ? "--proto '=https' --tlsv1.2 " : "";
  s.replace(s.find("@PROTO@"), 7, proto);
  return s;
}

Status check_options(const config::Config& config, const CloudInitOptions& options,
                     const std::vector<std::string>& keys) {
  if (config.ssh && keys.empty()) {
    return invalid(
        "[ssh] makes the server key-only: give the admin's public key with --ssh-key "
        "FILE, or nobody can log in");
  }
  if (!config.ssh && !keys.empty()) {
    return invalid(
        "--ssh-key needs [ssh].allow_users in the config: it names the users that get "
        "the key");
  }
  if (config.ssh && config.ssh->allow_users.empty()) {
    return invalid("[ssh].allow_users is empty: nobody could log in");
  }
  for (const auto& p : options.extra_packages) {
    if (!valid_package(p)) return invalid("--package " + p.substr(0, 60) + ": not a package name");
  }
  if (options.config_path.empty() || options.config_path[0] != '/' ||
      !printable_ascii(options.config_path)) {
    return invalid("the config path on the host must be absolute");
  }
  return ok();
}

// The allowed users get the keys and sudo; root and passwords are off from the first boot,
// before `apply` writes the sshd drop-in.
std::string users_yaml(const config::SshConfig& ssh, const std::vector<std::string>& keys) {
  using detail::yaml_quote;
  std::string y = "disable_root: true\nusers:\n";
  for (const auto& u : ssh.allow_users) {
    y += "  - name: " + yaml_quote(u) + "\n";
    y += "    shell: /bin/bash\n";
    y += "    groups: [sudo]\n";
    // No password exists (lock_passwd), so sudo without one is the only sudo there is.
    y += "    sudo: " + yaml_quote("ALL=(ALL) NOPASSWD:ALL") + "\n";
    y += "    lock_passwd: true\n";
    y += "    ssh_authorized_keys:\n";
    for (const auto& k : keys) y += "      - " + yaml_quote(k) + "\n";
  }
  return y;
}

std::string write_files_yaml(const std::string& path, std::string_view text) {
  using detail::yaml_quote;
  std::string y = "write_files:\n";
  y += "  - path: " + yaml_quote(path) + "\n";
  y += "    owner: " + yaml_quote("root:root") + "\n";
  y += "    permissions: " + yaml_quote("0600") + "\n";
  if (text.empty()) {
    y += "    content: \"\"\n";
  } else if (detail::yaml_block_safe(text)) {
    y += "    content: " + detail::yaml_literal_block(text, 4);
  } else {
    // CR line ends, control characters or invalid UTF-8: base64 carries any byte.
    y += "    encoding: b64\n";
    y += "    content: " + base64_encode(text) + "\n";
  }
  return y;
}

// runcmd: one argv (no shell quoting by cloud-init needed): sh -c SCRIPT NAME URL SHA PATH.
std::string runcmd_yaml(const CloudInitOptions& o) {
  using detail::yaml_quote;
  std::string y = "runcmd:\n  - - sh\n    - -c\n";
  y += "    - " + detail::yaml_literal_block(install_script(!o.insecure_url), 4);
  y += "    - groundctl-cloud-init\n";
  y += "    - " + yaml_quote(o.binary_url) + "\n";
  y += "    - " + yaml_quote(lower(o.binary_sha256)) + "\n";
  y += "    - " + yaml_quote(o.config_path) + "\n";
  return y;
}

}  // namespace

namespace detail {

std::string yaml_quote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    auto d = decode_utf8(s, i);
    if (!d) {
      out += hex_escape(static_cast<unsigned char>(s[i]));
      ++i;
      continue;
    }
    auto [cp, len] = *d;
    if (cp == '"') {
      out += "\\\"";
    } else if (cp == '\\') {
      out += "\\\\";
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (!raw_ok_in_block(cp)) {
      out += hex_escape(cp);
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return out + "\"";
}

bool yaml_block_safe(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    auto d = decode_utf8(s, i);
    if (!d || !raw_ok_in_block(d->first)) return false;
    i += d->second;
  }
  return true;
}

std::string yaml_literal_block(std::string_view s, int parent_indent) {
  const int indent = parent_indent + 2;
  std::string out = "|";
  // With leading spaces (or a leading whitespace-only line) the parser would guess the
  // indentation from the content: state it.
  size_t first = s.find_first_not_of('\n');
  if (first != std::string_view::npos && s[first] == ' ') out += "2";
  size_t last = s.find_last_not_of('\n');
  size_t trailing = last == std::string_view::npos ? s.size() : s.size() - last - 1;
  if (trailing == 0) out += "-";  // Strip: no final newline.
  // Keep: more than one final newline, or nothing but newlines (clip would drop them all).
  if (trailing >= 2 || last == std::string_view::npos) out += "+";
  out += "\n";
  const std::string pad(static_cast<size_t>(indent), ' ');
  size_t pos = 0;
  while (pos < s.size()) {
    size_t nl = s.find('\n', pos);
    std::string_view line = s.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    if (!line.empty()) out += pad;
    out += line;
    out += "\n";
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return out;
}

}  // namespace detail

std::vector<std::string> cloud_init_packages(const config::Config& c,
                                             const std::vector<std::string>& extra) {
  std::vector<std::string> p = {"ca-certificates", "curl"};  // The download in runcmd.
  if (c.ssh) p.push_back("openssh-server");
  if (c.firewall) p.push_back("ufw");
  if (c.fail2ban) {
    p.push_back("fail2ban");
    p.push_back("nftables");  // banaction = nftables-multiport runs nft.
    // backend = systemd reads the journal through python3-systemd, only a Recommends of fail2ban.
    if (c.fail2ban->sshd_backend == "systemd") p.push_back("python3-systemd");
  }
  if (c.nginx) p.push_back("nginx");
  if (c.postgres) {
    if (c.postgres->manage) {
      p.push_back("postgresql-15");
      if (c.postgres->manage->pool) p.push_back("pgbouncer");
    }
    p.push_back("postgresql-client-15");  // pg_dump / pg_restore for backups.
  }
  if (c.deploy) p.push_back("git");
  // Unattended security upgrades always; age and zstd so that an operator can read a backup
  // with stock tools on the box itself.
  for (const char* always : {"unattended-upgrades", "age", "zstd"}) p.push_back(always);
  for (const auto& e : extra) p.push_back(e);
  std::vector<std::string> out;
  for (auto& x : p) {
    if (std::find(out.begin(), out.end(), x) == out.end()) out.push_back(x);
  }
  return out;
}

Result<CloudInitDocument> render_cloud_init(const config::Config& config,
                                            std::string_view config_text,
                                            const CloudInitOptions& options) {
  GC_TRY(check_url(options));
  GC_ASSIGN_OR_RETURN(std::vector<std::string> keys, public_keys(options.ssh_keys));
  GC_TRY(check_options(config, options, keys));
  std::string y = "#cloud-config\n";
  y += "# Written by `groundctl cloud-init`: installs groundctl (sha256 " +
       lower(options.binary_sha256) +
       "), writes its config and runs `groundctl apply`. Progress: "
       "/var/log/cloud-init-output.log\n";
  if (config.ssh) y += users_yaml(*config.ssh, keys);
  y += "ssh_pwauth: false\n";
  y += "package_update: true\n";
  y += "package_upgrade: true\n";
  y += "packages:\n";
  for (const auto& p : cloud_init_packages(config, options.extra_packages)) {
    y += "  - " + detail::yaml_quote(p) + "\n";
  }
  y += write_files_yaml(options.config_path, config_text);
  y += runcmd_yaml(options);
  CloudInitDocument doc;
  doc.text = std::move(y);
  doc.files_to_provision = referenced_files(config);
  return doc;
}

}  // namespace gc::provision
