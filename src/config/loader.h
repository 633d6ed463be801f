// SPDX-License-Identifier: MIT
// config/loader.h: reads groundctl.toml into a typed Config and validates it, reporting every
// problem at once as "FILE:LINE:COL: message" (the format of `groundctl check`).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "config/config.h"

namespace gc::config {

// One problem in a config file. line and column are 1-based; 0:0 when the whole file is at
// fault (it cannot be read).
struct Diagnostic {
  std::string file;  // The path as the caller gave it.
  int line = 0;
  int column = 0;
  std::string message;  // Lowercase, names the key, says the fix where one is obvious.

  // "FILE:LINE:COL: message".
  std::string to_string() const;
};

// The result of loading: `config` is set if and only if `diagnostics` is empty.
struct LoadOutcome {
  std::optional<Config> config;
  std::vector<Diagnostic> diagnostics;  // In file order.
};

// How strictly a load checks what lies outside the file.
struct LoadOptions {
  // A [[service]] user that does not exist (yet) is kept in ServiceConfig::user instead of
  // refused. For plan, apply, cloud-init and audit: apply is what creates the app user on a
  // fresh server. The daemon, `check` and `start` keep the default, which refuses it.
  bool allow_missing_users = false;
};

// Reads and validates the file at `path`. A file that cannot be read yields the single
// diagnostic "PATH:0:0: cannot read: <reason>". Blocks on file I/O and on user/group lookups
// (NSS); thread-safe.
//
// Rules worth knowing:
// - Relative paths in the file (state_dir, log_dir, runtime_dir, token_file, cwd, env_file,
//   postgres.password_file, backup.repo, backup.paths, backup.s3.credentials_file) resolve
//   against the directory of `path`; Config holds only absolute paths. Only the file at `path`
//   is read: password and credential files are not (they may be readable by root alone).
// - Config::path is `path` made absolute (against the process's working directory).
// - Unknown keys and unknown tables are errors, except the sections reserved for later
//   issues ([nginx], [tls], [firewall], [ssh]), which are accepted and not interpreted.
// - [[alert]] expressions are stored unparsed: alert::load_config checks them too.
LoadOutcome load_config(const std::string& path, const LoadOptions& options = {});

// As load_config, for TOML `text` said to come from `path` (used in diagnostics and as the base
// of relative paths; the file itself is never read). Beyond user/group lookups it only reads
// the working directory, when `path` is relative. Thread-safe.
LoadOutcome load_config_from_string(std::string_view text, const std::string& path,
                                    const LoadOptions& options = {});

// load_config as a Result. Errors: kInvalidConfig, whose message is every diagnostic's
// to_string() joined by '\n'.
Result<Config> load_config_or_error(const std::string& path, const LoadOptions& options = {});

// The control socket of the config at `path`, found even when the config is otherwise invalid
// (so that `groundctl status` can reach a daemon whose file now has a typo): runtime_dir +
// "/control.sock" if [server].runtime_dir is a non-empty string in a file that parses as TOML
// (relative paths resolve as in load_config), else "/run/groundctl/control.sock". Never fails.
std::string control_socket_path_lenient(const std::string& path);

// The default control socket path, "/run/groundctl/control.sock".
inline constexpr std::string_view kDefaultControlSocket = "/run/groundctl/control.sock";

}  // namespace gc::config
