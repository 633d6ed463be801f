// SPDX-License-Identifier: MIT
#include "backup/run.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <thread>

#include "backup/command_stream.h"
#include "backup/media_archive.h"
#include "backup/zstd_stream.h"
#include "base/atomic_file.h"
#include "base/temp_dir.h"
#include "base/unique_fd.h"
#include "crypto/age_writer.h"
#include "crypto/sha256.h"

namespace gc::backup {
namespace {

using Clock = std::chrono::steady_clock;

// Held for the whole run: a second `backup run` (CLI or the daemon's schedule) is refused.
class RepoLock {
 public:
  static Result<RepoLock> acquire(const std::string& repo) {
    std::string path = repo + "/.lock";
    GC_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(path, O_RDWR | O_CREAT, 0600));
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      std::string holder = read_file(path).value_or("");
      while (!holder.empty() && holder.back() == '\n') holder.pop_back();
      return tl::unexpected(
          Error{Errc::kConflict, "another backup is running in " + repo +
                                     (holder.empty() ? "" : " (pid " + holder + ")") +
                                     "; wait for it to finish"});
    }
    // The holder's pid, for the message a second run prints. Best effort: the lock is the flock.
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd.get(), 0) == 0 && ::pwrite(fd.get(), pid.data(), pid.size(), 0) < 0) {
      pid.clear();
    }
    return RepoLock(std::move(fd));
  }

 private:
  explicit RepoLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;  // The lock lives as long as the open file description.
};

// An encrypted artifact being written: ciphertext hashed and counted on its way to the file.
struct ArtifactOut {
  AtomicFile file;
  crypto::Sha256 hash;
  std::uint64_t bytes = 0;

  ByteSink sink() {
    return [this](std::span<const std::uint8_t> d) -> Status {
      hash.update(d);
      bytes += d.size();
      return file.write(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
    };
  }
};

// plaintext → zstd → age → file, with the counters a manifest needs.
class EncryptedPipeline {
 public:
  static Result<std::unique_ptr<EncryptedPipeline>> open(const std::string& path,
                                                         const RunOptions& o) {
    GC_ASSIGN_OR_RETURN(AtomicFile file, AtomicFile::create(path, 0600));
    std::unique_ptr<EncryptedPipeline> p(new EncryptedPipeline(std::move(file)));
    GC_ASSIGN_OR_RETURN(crypto::AgeWriter age,
                        crypto::AgeWriter::create(o.recipients, p->out_.sink()));
    p->age_.emplace(std::move(age));
    int workers = o.zstd_workers;
    if (workers <= 0)
      workers = std::clamp<int>(static_cast<int>(std::thread::hardware_concurrency()), 1, 4);
    GC_ASSIGN_OR_RETURN(ZstdCompressor z, ZstdCompressor::create(
                                              [a = &*p->age_](std::span<const std::uint8_t> d) {
                                                return a->write(d);
                                              },
                                              o.zstd_level, workers));
    p->zstd_.emplace(std::move(z));
    return p;
  }
  Status write(std::span<const std::uint8_t> d) { return zstd_->write(d); }
  // Flushes every stage and commits the file (fsync, rename, fsync dir).
  Status finish(Artifact& a) {
    GC_TRY(zstd_->finish());
    GC_TRY(age_->finish());
    GC_TRY(out_.file.commit());
    a.plaintext_bytes = zstd_->bytes_in();
    a.compressed_bytes = zstd_->bytes_out();
    a.ciphertext_bytes = out_.bytes;
    a.sha256 = crypto::to_hex(out_.hash.finish());
    return {};
  }

 private:
  explicit EncryptedPipeline(AtomicFile f) : out_{std::move(f), {}, 0} {}
  ArtifactOut out_;
  std::optional<crypto::AgeWriter> age_;
  std::optional<ZstdCompressor> zstd_;
};

// Counts source bytes and reports progress a few times per second.
class ProgressMeter {
 public:
  ProgressMeter(const RunOptions& o, std::string artifact, std::uint64_t expected)
      : cb_(o.on_progress), start_(Clock::now()) {
    p_.artifact = std::move(artifact);
    p_.expected = expected;
  }
  void add(std::uint64_t n) {
    p_.plaintext += n;
    auto now = Clock::now();
    if (cb_ && now - last_ > std::chrono::milliseconds(250)) {
      last_ = now;
      p_.seconds = std::chrono::duration<double>(now - start_).count();
      cb_(p_);
    }
  }
  void done(std::uint64_t written) {
    p_.written = written;
    p_.done = true;
    p_.seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    if (cb_) cb_(p_);
  }

 private:
  std::function<void(const Progress&)> cb_;
  Progress p_;
  Clock::time_point start_;
  Clock::time_point last_{};
};

std::string tool(const RunOptions& o, const std::string& bindir, const char* name) {
  (void)o;
  return bindir.empty() ? std::string(name) : bindir + "/" + name;
}

CommandSpec client_command(const PgTarget& target, std::vector<std::string> argv,
                           std::string what) {
  CommandSpec spec;
  spec.argv = std::move(argv);
  for (auto& a : client_args(target)) spec.argv.push_back(a);
  spec.env = client_env(target);
  spec.credentials = target.os_user;
  spec.what = std::move(what);
  return spec;
}

// The first line a tool prints for --version.
Result<std::string> tool_version(const std::string& path) {
  std::string out;
  CommandSpec spec{{path, "--version"}, {"PATH=/usr/bin:/bin"}, std::nullopt, path + " --version"};
  GC_TRY(run_into(spec, [&out](std::span<const std::uint8_t> d) -> Status {
    out.append(reinterpret_cast<const char*>(d.data()), d.size());
    return {};
  }));
  if (auto nl = out.find('\n'); nl != std::string::npos) out.resize(nl);
  return out;
}

std::string scratch_name(const std::string& db, const std::string& id) {
  std::string lower = id;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // Identifiers are at most 63 bytes; the id keeps concurrent servers' scratch names apart.
  return ("gc_verify_" + lower + "_" + db).substr(0, 63);
}

// A scratch database for stream verification, dropped (with its connections) on every path.
class ScratchDatabase {
 public:
  static Result<std::unique_ptr<ScratchDatabase>> create(const PgTarget& admin_target,
                                                         std::string name) {
    GC_ASSIGN_OR_RETURN(PgConnection admin, PgConnection::connect(admin_target));
    std::unique_ptr<ScratchDatabase> s(new ScratchDatabase(std::move(admin), std::move(name)));
    GC_TRY(s->admin_.exec("DROP DATABASE IF EXISTS " + s->admin_.quote_identifier(s->name_) +
                          " WITH (FORCE)"));
    GC_TRY(s->admin_.exec("CREATE DATABASE " + s->admin_.quote_identifier(s->name_) +
                          " TEMPLATE template0"));
    s->created_ = true;
    return s;
  }
  ~ScratchDatabase() {
    if (created_) {
      (void)admin_.exec("DROP DATABASE IF EXISTS " + admin_.quote_identifier(name_) +
                        " WITH (FORCE)");
    }
  }
  const std::string& name() const { return name_; }

 private:
  ScratchDatabase(PgConnection admin, std::string name)
      : admin_(std::move(admin)), name_(std::move(name)) {}
  PgConnection admin_;
  std::string name_;
  bool created_ = false;
};

// Refuses a stream verification that would fill the server's disk: the scratch copy needs about
// the database's size. Skipped (nullopt) when the data directory is not visible from here.
Status check_scratch_space(PgConnection& conn, std::uint64_t db_size) {
  auto rows = conn.query("SELECT setting FROM pg_settings WHERE name = 'data_directory'");
  if (!rows || rows->empty() || rows->at(0).at(0).empty()) return {};
  struct statvfs vfs {};
  if (::statvfs(rows->at(0).at(0).c_str(), &vfs) != 0) return {};
  std::uint64_t free_bytes = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  std::uint64_t need = db_size + db_size / 5 + (64u << 20);
  if (free_bytes < need) {
    return tl::unexpected(
        Error{Errc::kUnavailable, "not enough free disk for the verification copy of " +
                                      conn.describe() + ": " + std::to_string(free_bytes >> 20) +
                                      " MiB free, about " + std::to_string(need >> 20) +
                                      " MiB needed; free space or set [backup] verify = \"off\""});
  }
  return {};
}

struct DbOutcome {
  Artifact artifact;
  std::optional<std::string> verify_failure;  // Set when the stream verification failed.
};

Result<DbOutcome> dump_database(const RunOptions& o, const std::string& bindir,
                                const std::string& db, const std::string& id,
                                const std::string& staging) {
  PgTarget target = o.postgres;
  target.dbname = db;
  GC_ASSIGN_OR_RETURN(PgConnection conn, PgConnection::connect(target));
  GC_ASSIGN_OR_RETURN(std::string snapshot, export_snapshot(conn));
  DbOutcome result;
  Artifact& a = result.artifact;
  a.kind = ArtifactKind::kDatabase;
  a.database = db;
  a.name = db + ".dump.zst.age";
  GC_ASSIGN_OR_RETURN(a.tables, count_rows(conn));
  std::uint64_t db_size = 0;
  if (auto r = conn.query("SELECT pg_database_size(current_database())"); r && !r->empty()) {
    db_size = std::strtoull(r->at(0).at(0).c_str(), nullptr, 10);
  }

  std::unique_ptr<ScratchDatabase> scratch;
  std::optional<CommandSink> restore;
  if (o.verify_stream) {
    GC_TRY(check_scratch_space(conn, db_size));
    PgTarget admin = o.postgres;
    admin.dbname = "postgres";
    GC_ASSIGN_OR_RETURN(scratch, ScratchDatabase::create(admin, scratch_name(db, id)));
    PgTarget into = o.postgres;
    into.dbname = scratch->name();
    GC_ASSIGN_OR_RETURN(
        CommandSink s,
        CommandSink::start(client_command(
            into,
            {tool(o, bindir, "pg_restore"), "--exit-on-error", "--no-owner", "-d", scratch->name()},
            "verification restore (pg_restore) of " + db)));
    restore.emplace(std::move(s));
  }

  GC_ASSIGN_OR_RETURN(auto pipeline, EncryptedPipeline::open(staging + "/" + a.name, o));
  ProgressMeter meter(o, a.name, db_size);
  std::optional<std::string> verify_error;
  ByteSink plaintext = [&](std::span<const std::uint8_t> d) -> Status {
    meter.add(d.size());
    if (restore && !verify_error) {
      // A restore that fails only fails the verification; the dump itself goes on.
      if (Status st = restore->write(d); !st) verify_error = st.error().message;
    }
    return pipeline->write(d);
  };
  GC_TRY(run_into(
      client_command(target,
                     {tool(o, bindir, "pg_dump"), "-Fc", "-Z0", "--snapshot=" + snapshot, "-d", db},
                     "pg_dump of " + db),
      plaintext));
  GC_TRY(pipeline->finish(a));
  meter.done(a.ciphertext_bytes);
  // The snapshot had to stay open only while pg_dump imported it.
  (void)conn.exec("COMMIT");

  if (restore) {
    if (!verify_error) {
      if (Status st = restore->finish(); !st) verify_error = st.error().message;
    }
    if (!verify_error) {
      PgTarget into = o.postgres;
      into.dbname = scratch->name();
      auto restored = PgConnection::connect(into);
      if (!restored) {
        verify_error = restored.error().message;
      } else if (auto got = count_rows(*restored); !got) {
        verify_error = got.error().message;
      } else if (auto why = count_mismatch(a.tables, *got)) {
        verify_error = *why;
      }
    }
    result.verify_failure = verify_error;
  }
  return result;
}

Result<Artifact> dump_globals(const RunOptions& o, const std::string& bindir,
                              const std::string& staging) {
  Artifact a;
  a.kind = ArtifactKind::kGlobals;
  a.name = "globals.sql.zst.age";
  PgTarget target = o.postgres;
  target.dbname = "postgres";
  GC_ASSIGN_OR_RETURN(auto pipeline, EncryptedPipeline::open(staging + "/" + a.name, o));
  ProgressMeter meter(o, a.name, 0);
  GC_TRY(run_into(
      client_command(target, {tool(o, bindir, "pg_dumpall"), "--globals-only", "-l", "postgres"},
                     "pg_dumpall --globals-only"),
      [&](std::span<const std::uint8_t> d) {
        meter.add(d.size());
        return pipeline->write(d);
      }));
  GC_TRY(pipeline->finish(a));
  meter.done(a.ciphertext_bytes);
  return a;
}

Result<Artifact> archive_media(const RunOptions& o, const std::string& staging) {
  Artifact a;
  a.kind = ArtifactKind::kMedia;
  a.name = "media.tar.zst.age";
  a.paths = o.media_paths;
  GC_ASSIGN_OR_RETURN(auto pipeline, EncryptedPipeline::open(staging + "/" + a.name, o));
  ProgressMeter meter(o, a.name, 0);
  GC_ASSIGN_OR_RETURN(MediaStats stats,
                      write_media_tar(o.media_paths, [&](std::span<const std::uint8_t> d) {
                        meter.add(d.size());
                        return pipeline->write(d);
                      }));
  GC_TRY(pipeline->finish(a));
  a.files = stats.entries;
  meter.done(a.ciphertext_bytes);
  return a;
}

Status fsync_dir(const std::string& dir) {
  GC_ASSIGN_OR_RETURN(UniqueFd fd, open_fd(dir, O_RDONLY | O_DIRECTORY));
  if (::fsync(fd.get()) != 0) return tl::unexpected(sys_error("fsync", dir, errno));
  return {};
}

// Staging directories of runs that died (power loss, SIGKILL): the lock proves none is running.
void remove_stale_staging(const std::string& repo) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(repo, ec)) {
    if (e.path().filename().string().starts_with(".partial-")) {
      std::filesystem::remove_all(e.path(), ec);
    }
  }
}

std::string hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

}  // namespace

std::string format_set_id(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string client_bindir_for(int server_version) {
  std::string dir = "/usr/lib/postgresql/" + std::to_string(server_version / 10000) + "/bin";
  return ::access((dir + "/pg_dump").c_str(), X_OK) == 0 ? dir : "";
}

std::vector<std::string> client_env(const PgTarget& target) {
  std::vector<std::string> env = {"PATH=/usr/bin:/bin", "LC_ALL=C.UTF-8", "PGAPPNAME=groundctl",
                                  "PGCONNECT_TIMEOUT=10"};
  // The environment of a process is readable only by its user and root; never in argv.
  if (!target.password.empty()) env.push_back("PGPASSWORD=" + target.password);
  return env;
}

std::vector<std::string> client_args(const PgTarget& target) {
  return {"-h", target.host, "-p", std::to_string(target.port), "-U", target.user, "--no-password"};
}

Result<RunResult> run_backup(const RunOptions& o) {
  if (o.recipients.empty()) {
    return tl::unexpected(
        Error{Errc::kInvalidConfig, "[backup] recipients: no age recipient to encrypt to"});
  }
  if (o.databases.empty() && o.media_paths.empty()) {
    return tl::unexpected(
        Error{Errc::kInvalidConfig, "nothing to back up: no databases and no paths"});
  }
  GC_TRY(make_directories(o.repo, 0700));
  GC_ASSIGN_OR_RETURN(RepoLock lock, RepoLock::acquire(o.repo));
  remove_stale_staging(o.repo);

  auto started = std::chrono::system_clock::now();
  std::string id = format_set_id(started);
  // Two runs within one second would share an id: the later one waits for the next second.
  while (::access((o.repo + "/" + id).c_str(), F_OK) == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    started = std::chrono::system_clock::now();
    id = format_set_id(started);
  }
  GC_ASSIGN_OR_RETURN(TempDir staging, TempDir::create(".partial-" + id + "-", o.repo));

  Manifest m;
  m.id = id;
  m.host = hostname();
  m.groundctl_version = o.groundctl_version;
  m.started_at = format_utc(started);
  for (const auto& r : o.recipients) {
    m.recipients.push_back({r.to_string(), crypto::recipient_fingerprint(r)});
  }
  m.verification.mode = o.verify_stream && !o.databases.empty() ? "stream" : "off";

  std::vector<std::string> verify_failures;
  auto verify_start = Clock::now();
  if (!o.databases.empty()) {
    PgTarget probe = o.postgres;
    probe.dbname = o.databases.front();
    GC_ASSIGN_OR_RETURN(PgConnection conn, PgConnection::connect(probe));
    m.postgres_version = format_server_version(conn.server_version());
    std::string bindir =
        o.pg_bindir.empty() ? client_bindir_for(conn.server_version()) : o.pg_bindir;
    GC_ASSIGN_OR_RETURN(m.pg_dump_version, tool_version(tool(o, bindir, "pg_dump")));
    for (const std::string& db : o.databases) {
      GC_ASSIGN_OR_RETURN(DbOutcome out, dump_database(o, bindir, db, id, staging.path()));
      if (out.verify_failure) verify_failures.push_back(db + ": " + *out.verify_failure);
      m.artifacts.push_back(std::move(out.artifact));
    }
    GC_ASSIGN_OR_RETURN(Artifact globals, dump_globals(o, bindir, staging.path()));
    m.artifacts.push_back(std::move(globals));
  }
  if (!o.media_paths.empty()) {
    GC_ASSIGN_OR_RETURN(Artifact media, archive_media(o, staging.path()));
    m.artifacts.push_back(std::move(media));
  }
  if (m.verification.mode == "stream") {
    m.verification.seconds = std::chrono::duration<double>(Clock::now() - verify_start).count();
    if (verify_failures.empty()) {
      m.verification.result = VerifyResult::kPassed;
      m.verification.detail =
          "every database restored into a scratch database with the "
          "snapshot's row counts";
    } else {
      m.verification.result = VerifyResult::kFailed;
      m.verification.detail = verify_failures.front();
      for (size_t i = 1; i < verify_failures.size(); ++i)
        m.verification.detail += "; " + verify_failures[i];
    }
  }
  m.finished_at = format_utc(std::chrono::system_clock::now());
  GC_TRY(write_file_atomic(staging.path() + "/" + kManifestName, to_json(m), 0600));

  std::string final_dir = o.repo + "/" + id;
  if (::rename(staging.path().c_str(), final_dir.c_str()) != 0) {
    return tl::unexpected(sys_error("rename", final_dir, errno));
  }
  staging.keep();  // It is the set now.
  GC_TRY(fsync_dir(o.repo));
  return RunResult{std::move(m), final_dir};
}

}  // namespace gc::backup
