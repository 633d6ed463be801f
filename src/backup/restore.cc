// SPDX-License-Identifier: MIT
#include "backup/restore.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>

#include "backup/artifact_reader.h"
#include "backup/command_stream.h"
#include "backup/run.h"
#include "base/unique_fd.h"

namespace gc::backup {
namespace {

using Clock = std::chrono::steady_clock;

std::string tool(const std::string& bindir, const char* name) {
  return bindir.empty() ? std::string(name) : bindir + "/" + name;
}

Result<std::string> resolve_bindir(const RestoreContext& ctx, PgConnection& conn) {
  if (!ctx.pg_bindir.empty()) return ctx.pg_bindir;
  return client_bindir_for(conn.server_version());
}

Result<bool> database_exists(PgConnection& admin, const std::string& name) {
  GC_ASSIGN_OR_RETURN(PgRows rows, admin.query("SELECT 1 FROM pg_database WHERE datname = " +
                                               admin.quote_literal(name)));
  return !rows.empty();
}

Status drop_database(PgConnection& admin, const std::string& name) {
  return admin.exec("DROP DATABASE IF EXISTS " + admin.quote_identifier(name) + " WITH (FORCE)");
}

bool dir_is_empty(const std::string& path) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(path.c_str()), &::closedir);
  if (!d) return true;
  while (dirent* e = ::readdir(d.get())) {
    std::string n = e->d_name;
    if (n != "." && n != "..") return false;
  }
  return true;
}

const Artifact* find_kind(const Manifest& m, ArtifactKind k) {
  for (const auto& a : m.artifacts) {
    if (a.kind == k) return &a;
  }
  return nullptr;
}

std::string drill_name(const std::string& id, const std::string& db) {
  std::string lower = id;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ("gc_drill_" + lower + "_" + db).substr(0, 63);
}

}  // namespace

Result<RestoredDatabase> restore_database(const RestoreContext& ctx, const LocalSet& set,
                                          const Artifact& a, const std::string& into,
                                          bool replace) {
  PgTarget admin_target = ctx.postgres;
  admin_target.dbname = "postgres";
  GC_ASSIGN_OR_RETURN(PgConnection admin, PgConnection::connect(admin_target));
  GC_ASSIGN_OR_RETURN(std::string bindir, resolve_bindir(ctx, admin));
  GC_ASSIGN_OR_RETURN(bool exists, database_exists(admin, into));
  if (exists && !replace) {
    return tl::unexpected(Error{Errc::kConflict, "database " + into +
                                                     " already exists; restore into a new one "
                                                     "(--to NEWNAME) or replace it (--force)"});
  }
  if (exists) GC_TRY(drop_database(admin, into));
  GC_TRY(admin.exec("CREATE DATABASE " + admin.quote_identifier(into) + " TEMPLATE template0"));
  auto started = Clock::now();
  auto fill = [&]() -> Status {
    PgTarget target = ctx.postgres;
    target.dbname = into;
    CommandSpec spec;
    spec.argv = {tool(bindir, "pg_restore"), "--exit-on-error", "-d", into};
    for (auto& x : client_args(target)) spec.argv.push_back(x);
    spec.env = client_env(target);
    spec.credentials = target.os_user;
    spec.what = "pg_restore of " + a.name + " into " + into;
    GC_ASSIGN_OR_RETURN(CommandSink restore, CommandSink::start(spec));
    Status fed = read_artifact(set.dir + "/" + a.name, a, ctx.identities, restore.sink());
    if (!fed) return fed;  // ~CommandSink kills pg_restore.
    return restore.finish();
  };
  if (Status st = fill(); !st) {
    (void)drop_database(admin, into);
    return tl::unexpected(st.error());
  }
  RestoredDatabase r;
  r.database = a.database;
  r.into = into;
  r.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  PgTarget check = ctx.postgres;
  check.dbname = into;
  GC_ASSIGN_OR_RETURN(PgConnection restored, PgConnection::connect(check));
  GC_ASSIGN_OR_RETURN(std::vector<TableCount> got, count_rows(restored));
  r.mismatch = count_mismatch(a.tables, got);
  return r;
}

Result<std::uint64_t> restore_media(const RestoreContext& ctx, const LocalSet& set,
                                    const Artifact& a, const std::string& dest, bool replace) {
  if (!dir_is_empty(dest) && !replace) {
    return tl::unexpected(Error{Errc::kConflict, dest + " is not empty; pick an empty directory "
                                                        "or pass --force to extract over it"});
  }
  GC_TRY(make_directories(dest, 0755));
  CommandSpec spec;
  // GNU tar refuses members with ".." and strips a leading '/', so nothing lands outside dest.
  spec.argv = {"tar", "-x", "-f", "-", "-C", dest};
  spec.env = {"PATH=/usr/bin:/bin", "LC_ALL=C.UTF-8"};
  spec.what = "tar extracting " + a.name + " into " + dest;
  GC_ASSIGN_OR_RETURN(CommandSink tar, CommandSink::start(spec));
  GC_TRY(read_artifact(set.dir + "/" + a.name, a, ctx.identities, tar.sink()));
  GC_TRY(tar.finish());
  return a.files;
}

Result<DrillResult> restore_drill(const RestoreContext& ctx, const LocalSet& set,
                                  std::chrono::system_clock::time_point now) {
  DrillResult d;
  const Manifest& m = *set.manifest;
  auto fail = [&d](std::string why) {
    d.ok = false;
    d.detail = std::move(why);
    return d;
  };
  for (const auto& a : m.artifacts) {
    if (a.kind != ArtifactKind::kDatabase) continue;
    auto r = restore_database(ctx, set, a, drill_name(m.id, a.database), /*replace=*/true);
    if (!r) {
      if (r.error().code == Errc::kUnavailable) return tl::unexpected(r.error());
      return fail(r.error().message);
    }
    // The scratch copy has served its purpose.
    PgTarget admin_target = ctx.postgres;
    admin_target.dbname = "postgres";
    if (auto admin = PgConnection::connect(admin_target)) (void)drop_database(*admin, r->into);
    d.restore_seconds += r->seconds;
    d.databases.push_back(*r);
    if (r->mismatch) return fail(a.database + ": " + *r->mismatch);
  }
  auto discard = [](std::span<const std::uint8_t>) -> Status { return {}; };
  if (const Artifact* g = find_kind(m, ArtifactKind::kGlobals)) {
    if (Status st = read_artifact(set.dir + "/" + g->name, *g, ctx.identities, discard); !st) {
      return fail(st.error().message);
    }
  }
  if (const Artifact* media = find_kind(m, ArtifactKind::kMedia)) {
    CommandSpec spec;
    spec.argv = {"tar", "-t", "-f", "-"};
    spec.env = {"PATH=/usr/bin:/bin", "LC_ALL=C.UTF-8"};
    spec.what = "tar listing " + media->name;
    auto tar = CommandSink::start(spec);
    if (!tar) return tl::unexpected(tar.error());
    if (Status st = read_artifact(set.dir + "/" + media->name, *media, ctx.identities, tar->sink());
        !st) {
      return fail(st.error().message);
    }
    if (Status st = tar->finish(); !st) return fail(st.error().message);
  }
  d.ok = true;
  // The data is as old as the snapshot, taken when the run started.
  if (auto started = parse_utc(m.started_at)) {
    d.data_age_seconds = std::chrono::duration<double>(now - *started).count();
  }
  d.detail = std::to_string(d.databases.size()) +
             " database(s) restored with the snapshot's row "
             "counts; every artifact decrypted and decompressed";
  return d;
}

}  // namespace gc::backup
