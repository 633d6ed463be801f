// SPDX-License-Identifier: MIT
// cli/tls_commands.h: `groundctl tls grade HOST:PORT [--sni NAME] [--ca FILE] [--json]`: probes a
// TLS server in-process (no daemon, no config needed) and rates it as SSL Labs would.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "tls/grade.h"
#include "tls/probe.h"

namespace CLI {
class App;
}  // namespace CLI

namespace gc::cli {

struct TlsGradeArgs {
  std::string target;     // HOST:PORT or [IPv6]:PORT.
  std::string sni;        // --sni NAME: server name to send and match (default: the host).
  std::string ca_file;    // --ca FILE: PEM trust anchors instead of the system store.
  int timeout_ms = 5000;  // --timeout-ms: per connection.
};

// Registers `tls` and its `grade` subcommand on `app`; returns `grade` (test ->parsed()).
CLI::App* add_tls_command(CLI::App& app, TlsGradeArgs& args);

// Probes args.target, grades it and prints the report (text, or JSON with --json). Exit 0 for
// A+ and A, 1 for any worse grade or an unreachable server (with the reason on stderr), 2 for
// a malformed HOST:PORT, an unreadable --ca file or a name that does not resolve.
int cmd_tls_grade(const Globals& g, const TlsGradeArgs& args);

// The report as JSON: {"host","port","sni","address","grade","grade_ignoring_trust","score",
// "scores","protocols","ciphers","certificate","hsts","reasons","handshakes"}. For the daemon's
// API and the monitor as well as the CLI. `now` dates the certificate's days_left.
nlohmann::json tls_grade_json(const tls::ProbeResult& probe, const tls::GradeReport& report,
                              std::chrono::system_clock::time_point now);

// The report as text for people: grade, protocols, suites per protocol, certificate, HSTS and
// every reason, one a line.
std::string tls_grade_text(const tls::ProbeResult& probe, const tls::GradeReport& report,
                           std::chrono::system_clock::time_point now);

}  // namespace gc::cli
