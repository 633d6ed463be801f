// SPDX-License-Identifier: MIT
// provision/firewall.cc: ufw's own files, written as ufw 0.36 writes them. Keeping ufw's format
// (instead of a private nftables file) means `ufw status`, `ufw allow` and the audit all see the
// same rules, and a rule added by hand shows up as drift in `plan`.
#include "provision/firewall.h"

#include <string>
#include <utility>
#include <vector>

namespace gc::provision {
namespace {

// A root step with a check (and no stdin).
Step make_step(std::string summary, std::vector<std::string> argv, std::vector<std::string> check) {
  Step s;
  s.summary = std::move(summary);
  s.argv = std::move(argv);
  s.check = std::move(check);
  return s;
}

struct PortRule {
  std::string port;   // "22"
  std::string proto;  // "tcp" or "udp"
  bool limit = false;
};

std::vector<PortRule> port_rules(const config::Config& config) {
  int ssh_port = config.ssh ? config.ssh->port : 22;
  std::vector<PortRule> rules;
  for (const std::string& entry : config.firewall->allow) {
    std::size_t slash = entry.find('/');
    PortRule r{entry.substr(0, slash), entry.substr(slash + 1)};
    r.limit = config.firewall->limit_ssh && r.proto == "tcp" && r.port == std::to_string(ssh_port);
    rules.push_back(std::move(r));
  }
  return rules;
}

// The chain declarations, rule blocks and the LOGGING and RATE LIMITING tails of
// /usr/share/ufw/user.rules after `ufw allow`/`ufw limit` with LOGLEVEL=low (ufw rewrites the
// whole file on every change, always in this layout). `c` is "ufw" or "ufw6".
std::string rules_text(const std::vector<PortRule>& rules, bool ipv6) {
  const std::string c = ipv6 ? "ufw6" : "ufw";
  const std::string any = ipv6 ? "::/0" : "0.0.0.0/0";
  std::string out = "*filter\n";
  for (const char* chain : {"user-input", "user-output", "user-forward", "before-logging-input",
                            "before-logging-output", "before-logging-forward", "user-logging-input",
                            "user-logging-output", "user-logging-forward", "after-logging-input",
                            "after-logging-output", "after-logging-forward", "logging-deny",
                            "logging-allow", "user-limit", "user-limit-accept"}) {
    out += ":" + c + "-" + chain + " - [0:0]\n";
  }
  out += "### RULES ###\n";
  for (const PortRule& r : rules) {
    const std::string match = "-A " + c + "-user-input -p " + r.proto + " --dport " + r.port;
    out += "\n### tuple ### " + std::string(r.limit ? "limit" : "allow") + " " + r.proto + " " +
           r.port + " " + any + " any " + any + " in\n";
    if (r.limit) {
      // ufw's limit: a 7th new connection within 30 s from one address is rejected.
      out += match + " -m conntrack --ctstate NEW -m recent --set\n";
      out += match +
             " -m conntrack --ctstate NEW -m recent --update --seconds 30 --hitcount 6 -j " + c +
             "-user-limit\n";
      out += match + " -j " + c + "-user-limit-accept\n";
    } else {
      out += match + " -j ACCEPT\n";
    }
  }
  const std::string log = " -m limit --limit 3/min --limit-burst 10\n";
  out += "\n### END RULES ###\n\n### LOGGING ###\n";
  out += "-A " + c + "-after-logging-input -j LOG --log-prefix \"[UFW BLOCK] \"" + log;
  out += "-A " + c + "-after-logging-forward -j LOG --log-prefix \"[UFW BLOCK] \"" + log;
  out += "-I " + c + "-logging-deny -m conntrack --ctstate INVALID -j RETURN" + log;
  out += "-A " + c + "-logging-deny -j LOG --log-prefix \"[UFW BLOCK] \"" + log;
  out += "-A " + c + "-logging-allow -j LOG --log-prefix \"[UFW ALLOW] \"" + log;
  out += "### END LOGGING ###\n\n### RATE LIMITING ###\n";
  out += "-A " + c +
         "-user-limit -m limit --limit 3/minute -j LOG --log-prefix \"[UFW LIMIT BLOCK] \"\n";
  out += "-A " + c + "-user-limit -j REJECT\n";
  out += "-A " + c + "-user-limit-accept -j ACCEPT\n";
  out += "### END RATE LIMITING ###\nCOMMIT\n";
  return out;
}

// Debian 12's /etc/default/ufw, verbatim: its input policy is already DROP; groundctl owns the
// file so that a hand edit to ACCEPT shows up in `plan` and is reverted by `apply`.
constexpr std::string_view kDefaultUfw = R"(# /etc/default/ufw
#

# Set to yes to apply rules to support IPv6 (no means only IPv6 on loopback
# accepted). You will need to 'disable' and then 'enable' the firewall for
# the changes to take affect.
IPV6=yes

# Set the default input policy to ACCEPT, DROP, or REJECT. Please note that if
# you change this you will most likely want to adjust your rules.
DEFAULT_INPUT_POLICY="DROP"

# Set the default output policy to ACCEPT, DROP, or REJECT. Please note that if
# you change this you will most likely want to adjust your rules.
DEFAULT_OUTPUT_POLICY="ACCEPT"

# Set the default forward policy to ACCEPT, DROP or REJECT.  Please note that
# if you change this you will most likely want to adjust your rules
DEFAULT_FORWARD_POLICY="DROP"

# Set the default application policy to ACCEPT, DROP, REJECT or SKIP. Please
# note that setting this to ACCEPT may be a security risk. See 'man ufw' for
# details
DEFAULT_APPLICATION_POLICY="SKIP"

# By default, ufw only touches its own chains. Set this to 'yes' to have ufw
# manage the built-in chains too. Warning: setting this to 'yes' will break
# non-ufw managed firewall rules
MANAGE_BUILTINS=no

#
# IPT backend
#
# only enable if using iptables backend
IPT_SYSCTL=/etc/ufw/sysctl.conf

# Extra connection tracking modules to load. IPT_MODULES should typically be
# empty for new installations and modules added only as needed. See
# 'CONNECTION HELPERS' from 'man ufw-framework' for details. Complete list can
# be found in net/netfilter/Kconfig of your kernel source. Some common modules:
# nf_conntrack_irc, nf_nat_irc: DCC (Direct Client to Client) support
# nf_conntrack_netbios_ns: NetBIOS (samba) client support
# nf_conntrack_pptp, nf_nat_pptp: PPTP over stateful firewall/NAT
# nf_conntrack_ftp, nf_nat_ftp: active FTP support
# nf_conntrack_tftp, nf_nat_tftp: TFTP support (server side)
# nf_conntrack_sane: sane support
IPT_MODULES=""
)";

// Debian's /etc/ufw/ufw.conf as `ufw enable` leaves it.
constexpr std::string_view kUfwConf = R"(# /etc/ufw/ufw.conf
#

# Set to yes to start on boot. If setting this remotely, be sure to add a rule
# to allow your remote connection before starting ufw. Eg: 'ufw allow 22/tcp'
ENABLED=yes

# Please use the 'ufw' command to set the loglevel. Eg: 'ufw logging medium'.
# See 'man ufw' for details.
LOGLEVEL=low
)";

}  // namespace

std::string ufw_user_rules(const config::Config& config, bool ipv6) {
  return rules_text(port_rules(config), ipv6);
}

Component render_firewall(const config::Config& config, const Target& target) {
  (void)target;
  Component c;
  c.name = "firewall";
  // ufw reads these 0640 (it warns about anything group- or world-writable).
  c.files.push_back(
      {.path = "/etc/ufw/user.rules", .content = ufw_user_rules(config, false), .mode = 0640});
  c.files.push_back(
      {.path = "/etc/ufw/user6.rules", .content = ufw_user_rules(config, true), .mode = 0640});
  c.files.push_back(
      {.path = "/etc/default/ufw", .content = std::string(kDefaultUfw), .mode = 0644});
  c.files.push_back({.path = "/etc/ufw/ufw.conf", .content = std::string(kUfwConf), .mode = 0644});
  // `ufw reload` re-reads the files when ufw is enabled and does nothing otherwise; the step
  // after turns it on (with the files already in place, so the SSH port is open from the start).
  c.lifecycle.reload = {"ufw", "reload"};
  c.steps_after.push_back(make_step("enable ufw", {"ufw", "--force", "enable"},
                                    {"sh", "-c", "ufw status | grep -q '^Status: active'"}));
  return c;
}

}  // namespace gc::provision
