// SPDX-License-Identifier: MIT
#include "backup/from_config.h"

#include <sys/stat.h>

#include "base/unique_fd.h"

namespace gc::backup {

Result<std::string> read_secret_file(const std::string& path, std::string_view what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return tl::unexpected(sys_error("read " + std::string(what), path, errno));
  if ((st.st_mode & 077) != 0) {
    return tl::unexpected(Error{
        Errc::kPermission,
        std::string(what) + " " + path + " is readable by other users; run: chmod 600 " + path});
  }
  GC_ASSIGN_OR_RETURN(std::string text, read_file(path));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

Result<PgTarget> pg_target_from_config(const config::Config& cfg) {
  PgTarget t;
  if (cfg.postgres) {
    t.host = cfg.postgres->host;
    t.port = cfg.postgres->port;
    t.user = cfg.postgres->user;
    if (!cfg.postgres->password_file.empty()) {
      GC_ASSIGN_OR_RETURN(
          t.password, read_secret_file(cfg.postgres->password_file, "[postgres] password_file"));
    }
  }
  t.os_user = peer_os_user(t);
  return t;
}

Result<RunOptions> run_options_from_config(const config::Config& cfg) {
  if (!cfg.backup) {
    return tl::unexpected(
        Error{Errc::kInvalidConfig, cfg.path + ": no [backup] section; see docs/configuration.md"});
  }
  const config::BackupConfig& b = *cfg.backup;
  RunOptions o;
  o.repo = b.repo;
  for (const auto& r : b.recipients) {
    auto parsed = crypto::parse_recipient(r);
    if (!parsed) {
      return tl::unexpected(
          Error{Errc::kInvalidConfig, "[backup] recipients: " + parsed.error().message});
    }
    o.recipients.push_back(*parsed);
  }
  GC_ASSIGN_OR_RETURN(o.postgres, pg_target_from_config(cfg));
  if (cfg.postgres) o.databases = cfg.postgres->databases;
  o.media_paths = b.paths;
  o.verify_stream = b.verify == config::VerifyMode::kStream;
  return o;
}

}  // namespace gc::backup
