// SPDX-License-Identifier: MIT
// cli/cert_commands.h: `groundctl cert status|issue|renew`: the [tls] certificate, run in-process
// (no daemon needed; the daemon itself runs `cert renew --json` on [tls].check_interval).
#pragma once

#include <string>

#include "base/result.h"
#include "cli/commands.h"
#include "tls/cert_manager.h"

namespace CLI {
class App;
}  // namespace CLI

namespace gc::cli {

struct CertArgs {
  bool force = false;  // --force (issue, renew).
  CLI::App* status = nullptr;
  CLI::App* issue = nullptr;
  CLI::App* renew = nullptr;
};

// Registers `cert` with its three subcommands on `app`; returns the `cert` command.
CLI::App* add_cert_commands(CLI::App& app, CertArgs& args);

// Runs the parsed `cert` subcommand. Exit codes:
//   status: 0 when a valid certificate exists and the last attempt did not fail, else 1.
//   issue, renew: 0 for renewed, issued or not_due; 1 for failed.
//   Any: 2 for a bad config or a config without [tls] (the message says what to add).
// `renew --json` prints exactly {"name", "outcome", "error", "rate_limited", "not_after",
// "renew_at"} (times as Unix seconds, 0 when unknown): the daemon parses it.
int cmd_cert(const Globals& g, const CertArgs& args);

// The [tls] section as the certificate manager's options, defaults resolved.
// Errors: kInvalidConfig when the config has no [tls].
Result<tls::CertOptions> cert_options(const config::Config& config);

}  // namespace gc::cli
